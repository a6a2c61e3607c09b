import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { awsQuote, canonicalQuery, s3Signature, sigV4SigningKey, signaturesMatch, UnusableSignature } from './aws-signature.ts';

// Vectors from the AWS documentation (signing key derivation, the S3 SigV4 GET-object example,
// the S3 REST authentication example), checked against Python's hmac.
const S3_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SIGV4_STRING_TO_SIGN = [
  'AWS4-HMAC-SHA256',
  '20130524T000000Z',
  '20130524/us-east-1/s3/aws4_request',
  '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
].join('\n');

describe('AWS signatures', () => {
  test('the SigV4 signing key is derived from AWS4+secret, date, region, service, aws4_request', () => {
    const key = sigV4SigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    assert.equal(key.toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  test('an S3 SigV4 string to sign gets the hex signature, its scope read from the string', () => {
    assert.equal(s3Signature(Buffer.from(SIGV4_STRING_TO_SIGN), S3_SECRET), 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  test('an S3 SigV2 string to sign gets the base64 HMAC-SHA1', () => {
    const sts = 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg';
    assert.equal(s3Signature(Buffer.from(sts), S3_SECRET), 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=');
  });

  test('a malformed SigV4 string to sign, or a scope of another service, cannot be a signature', () => {
    const lines = SIGV4_STRING_TO_SIGN.split('\n');
    const variants = [
      lines.slice(0, 3).join('\n'),
      [...lines, 'extra'].join('\n'),
      [lines[0], lines[1], '20130524/us-east-1/ec2/aws4_request', lines[3]].join('\n'),
      [lines[0], lines[1], '20130524/us-east-1/s3/aws5_request', lines[3]].join('\n'),
      [lines[0], lines[1], '20130524/s3/aws4_request', lines[3]].join('\n'),
    ];
    for (const v of variants) assert.throws(() => s3Signature(Buffer.from(v), S3_SECRET), UnusableSignature, v);
    // "AWS4" but another algorithm
    assert.throws(() => s3Signature(Buffer.from(SIGV4_STRING_TO_SIGN.replace('SHA256', 'SHA512')), S3_SECRET), UnusableSignature);
  });

  test('signatures compare exactly; anything but a string never matches', () => {
    assert.equal(signaturesMatch('abc', 'abc'), true);
    assert.equal(signaturesMatch('abd', 'abc'), false);
    assert.equal(signaturesMatch('ABC', 'abc'), false);
    assert.equal(signaturesMatch(undefined, 'abc'), false);
    assert.equal(signaturesMatch(['abc'], 'abc'), false);
  });

  test('canonical queries sort by name and percent-encode all but unreserved characters', () => {
    assert.equal(awsQuote("a b/~_.-!*'()é"), 'a%20b%2F~_.-%21%2A%27%28%29%C3%A9');
    assert.equal(canonicalQuery({ b: '2', A: 'x y', a: 1 }), 'A=x%20y&a=1&b=2');
  });
});
