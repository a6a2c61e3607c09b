// Signatures made by botocore (awscli's signer) and by hand with Python's hmac/hashlib,
// checked here without their code: the strings to sign must come out the same.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { S3Error } from './errors.ts';
import { parseS3Auth, uriEncode, type SigningRequest, type SigV4Auth } from './signature.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SIGNED_AT = Date.UTC(2026, 10, 21, 23, 17, 49);
const opts = { location: 'us-east-1', allowableClockSkew: 900, now: SIGNED_AT + 60_000 };

function request(method: string, path: string, query: string, headers: Record<string, string>): SigningRequest {
  return { method, path, query: new URLSearchParams(query), headers };
}

function s3ErrorOf(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  assert.fail('expected an S3 error');
}

// botocore: PUT with an awkward key, sub-resources, metadata with inner spaces, a body
const putV4 = () => request('PUT', '/my-bucket/photos/a b+c!.jpg', 'partNumber=2&uploadId=abc%3D', {
  'content-type': 'image/jpeg',
  'x-amz-meta-colour': '  blue   sky ',
  host: '127.0.0.1:8080',
  'x-amz-date': '20261121T231749Z',
  'x-amz-content-sha256': 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
  authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-colour, Signature=f36ddf518c0d06e0cf21d5689faab38ed8e5b6b30eba4fcd957f40f3321185b1',
});

describe('SigV4 in the Authorization header', () => {
  test('a botocore-signed PUT checks with the secret and not with another', () => {
    const auth = parseS3Auth(putV4(), opts) as SigV4Auth;
    assert.equal(auth.version, 4);
    assert.equal(auth.accessKey, 'AKIDEXAMPLE');
    assert.equal(auth.scope, '20261121/us-east-1/s3/aws4_request');
    assert.equal(auth.check('not the secret'), false);
    assert.equal(auth.signingKey, undefined);
    assert.equal(auth.check(SECRET), true);
    assert.ok(auth.signingKey);
    assert.match(auth.stringToSign, /^AWS4-HMAC-SHA256\n20261121T231749Z\n20261121\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
  });

  test('a botocore-signed account listing checks', () => {
    const auth = parseS3Auth(request('GET', '/', '', {
      host: '127.0.0.1:8080',
      'x-amz-date': '20261121T231749Z',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=10466afef405d5e123bde22403989624b4e95a60fb89c47b3746b459421f63c2',
    }), opts)!;
    assert.equal(auth.check(SECRET), true);
  });

  test('changing anything signed breaks the signature', () => {
    for (const change of [
      (r: SigningRequest) => { r.method = 'POST'; },
      (r: SigningRequest) => { r.path = '/my-bucket/photos/a b+c!.png'; },
      (r: SigningRequest) => { r.query.set('partNumber', '3'); },
      (r: SigningRequest) => { r.headers['x-amz-meta-colour'] = 'red'; },
      (r: SigningRequest) => { r.headers['content-type'] = 'text/plain'; },
    ]) {
      const req = putV4();
      change(req);
      assert.equal(parseS3Auth(req, opts)!.check(SECRET), false);
    }
  });

  test('an unsigned header that is not an x-amz-meta/acl/copy/grant one does not matter', () => {
    const req = putV4();
    req.headers['user-agent'] = 'something else';
    assert.equal(parseS3Auth(req, opts)!.check(SECRET), true);
  });

  test('unsigned x-amz-meta headers are refused, a signed header that is absent does not match', () => {
    const req = putV4();
    req.headers['x-amz-meta-sneaky'] = 'yes';
    const err = s3ErrorOf(() => parseS3Auth(req, opts));
    assert.equal(err.code, 'AccessDenied');
    assert.equal(err.details.HeadersNotSigned, 'x-amz-meta-sneaky');

    const missing = putV4();
    delete missing.headers['content-type'];
    assert.equal(s3ErrorOf(() => parseS3Auth(missing, opts)).code, 'SignatureDoesNotMatch');
  });

  test('a request more than 15 minutes away from our clock is RequestTimeTooSkewed (403)', () => {
    for (const now of [SIGNED_AT + 16 * 60_000, SIGNED_AT - 16 * 60_000]) {
      const err = s3ErrorOf(() => parseS3Auth(putV4(), { ...opts, now }));
      assert.equal(err.code, 'RequestTimeTooSkewed');
      assert.equal(err.status, 403);
      assert.equal(err.details.MaxAllowedSkewMilliseconds, 900000);
    }
    assert.ok(parseS3Auth(putV4(), { ...opts, now: SIGNED_AT + 14 * 60_000 }));
  });

  test('no date at all, or a malformed one, is AccessDenied', () => {
    const req = putV4();
    delete req.headers['x-amz-date'];
    assert.equal(s3ErrorOf(() => parseS3Auth(req, opts)).code, 'AccessDenied');
    req.headers['x-amz-date'] = 'yesterday';
    assert.equal(s3ErrorOf(() => parseS3Auth(req, opts)).code, 'AccessDenied');
  });

  test('a scope for another region, service or day is AuthorizationHeaderMalformed', () => {
    const withCredential = (credential: string) => {
      const req = putV4();
      req.headers.authorization = req.headers.authorization!.replace(/Credential=[^,]*/, `Credential=${credential}`);
      return s3ErrorOf(() => parseS3Auth(req, opts));
    };
    const region = withCredential('AKIDEXAMPLE/20261121/eu-west-1/s3/aws4_request');
    assert.equal(region.code, 'AuthorizationHeaderMalformed');
    assert.equal(region.details.Region, 'us-east-1');
    assert.match(region.message, /the region 'eu-west-1' is wrong; expecting 'us-east-1'/);
    assert.equal(withCredential('AKIDEXAMPLE/20261121/us-east-1/ec2/aws4_request').code, 'AuthorizationHeaderMalformed');
    assert.equal(withCredential('AKIDEXAMPLE/20261120/us-east-1/s3/aws4_request').code, 'AuthorizationHeaderMalformed');
    assert.equal(withCredential('AKIDEXAMPLE/20261121/us-east-1/s3').code, 'AccessDenied');
  });

  test('a header without SignedHeaders is malformed, one without Signature denied', () => {
    const noHeaders = putV4();
    noHeaders.headers.authorization = noHeaders.headers.authorization!.replace(/SignedHeaders=[^,]*, /, '');
    assert.equal(s3ErrorOf(() => parseS3Auth(noHeaders, opts)).code, 'AuthorizationHeaderMalformed');
    const noSignature = putV4();
    noSignature.headers.authorization = noSignature.headers.authorization!.replace(/, Signature=.*/, '');
    assert.equal(s3ErrorOf(() => parseS3Auth(noSignature, opts)).code, 'AccessDenied');
  });

  test('a mismatch names the canonical request that was signed', () => {
    const details = parseS3Auth(putV4(), opts)!.mismatchDetails();
    assert.equal(details.CanonicalRequest, [
      'PUT',
      '/my-bucket/photos/a%20b%2Bc%21.jpg',
      'partNumber=2&uploadId=abc%3D',
      'content-type:image/jpeg\nhost:127.0.0.1:8080\nx-amz-content-sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\nx-amz-date:20261121T231749Z\nx-amz-meta-colour:blue sky\n',
      'content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-colour',
      'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
    ].join('\n'));
    assert.equal(details.AWSAccessKeyId, 'AKIDEXAMPLE');
  });
});

describe('SigV4 presigned URLs', () => {
  // botocore generate_presigned_url, ExpiresIn 3600
  const presigned = () => request('GET', '/my-bucket/key.txt',
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261121%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261121T231749Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=513eb0f8a0f829091ae4f7ec441ca55b90b81c41e0acb71f939102be894a8e3d',
    { host: '127.0.0.1:8080' });

  test('checks within its lifetime, whatever our clock says about skew', () => {
    const auth = parseS3Auth(presigned(), { ...opts, now: SIGNED_AT + 59 * 60_000 })!;
    assert.equal(auth.via, 'query');
    assert.equal(auth.check(SECRET), true);
  });

  test('is refused once expired', () => {
    const err = s3ErrorOf(() => parseS3Auth(presigned(), { ...opts, now: SIGNED_AT + 3601_000 }));
    assert.equal(err.code, 'AccessDenied');
    assert.equal(err.message, 'Request has expired');
  });

  test('bad X-Amz-Expires and algorithm values', () => {
    const withParam = (name: string, value: string) => {
      const req = presigned();
      req.query.set(name, value);
      return s3ErrorOf(() => parseS3Auth(req, opts));
    };
    assert.equal(withParam('X-Amz-Expires', 'soon').code, 'AuthorizationQueryParametersError');
    assert.equal(withParam('X-Amz-Expires', '604801').code, 'AuthorizationQueryParametersError');
    assert.equal(withParam('X-Amz-Algorithm', 'AWS4-HMAC-SHA1').code, 'InvalidArgument');
    assert.equal(withParam('X-Amz-Credential', 'AKIDEXAMPLE/20261121/eu-west-1/s3/aws4_request').code, 'AuthorizationQueryParametersError');
  });

  test('a changed path does not check', () => {
    const req = presigned();
    req.path = '/my-bucket/other.txt';
    assert.equal(parseS3Auth(req, opts)!.check(SECRET), false);
  });
});

describe('SigV2', () => {
  // botocore HmacV1Auth
  const putV2 = () => request('PUT', '/my-bucket/a b.txt', 'uploads', {
    'content-type': 'text/plain',
    'content-md5': 'XrY7u+Ae7tCTyyK7j1rNww==',
    'x-amz-meta-b': 'two',
    'x-amz-meta-a': 'one',
    date: 'Sat, 21 Nov 2026 23:17:49 GMT',
    authorization: 'AWS AKIDEXAMPLE:BW58+NxebblnX24mEAfbUOd+KqI=',
  });

  test('the header form checks, with sorted x-amz headers and the sub-resource', () => {
    const auth = parseS3Auth(putV2(), opts)!;
    assert.equal(auth.version, 2);
    assert.equal(auth.accessKey, 'AKIDEXAMPLE');
    assert.equal(auth.stringToSign, 'PUT\nXrY7u+Ae7tCTyyK7j1rNww==\ntext/plain\nSat, 21 Nov 2026 23:17:49 GMT\nx-amz-meta-a:one\nx-amz-meta-b:two\n/my-bucket/a%20b.txt?uploads');
    assert.equal(auth.check(SECRET), true);
    assert.equal(auth.check('wrong'), false);
  });

  test('query parameters that are not sub-resources are not signed', () => {
    const req = putV2();
    req.query.set('format', 'json');
    assert.equal(parseS3Auth(req, opts)!.check(SECRET), true);
  });

  test('skew applies to the header form', () => {
    assert.equal(s3ErrorOf(() => parseS3Auth(putV2(), { ...opts, now: SIGNED_AT + 3600_000 })).code, 'RequestTimeTooSkewed');
  });

  test('the query form signs Expires in place of the date (hand-made with Python hmac)', () => {
    const req = request('GET', '/my-bucket/key.txt', 'AWSAccessKeyId=AKIDEXAMPLE&Expires=1795302000&Signature=v%2B914KExVLx0TAR044EFdww6%2BwE%3D', {});
    const auth = parseS3Auth(req, { ...opts, now: 1795301000_000 })!;
    assert.equal(auth.stringToSign, 'GET\n\n\n1795302000\n/my-bucket/key.txt');
    assert.equal(auth.check(SECRET), true);
    assert.equal(s3ErrorOf(() => parseS3Auth(req, { ...opts, now: 1795302001_000 })).message, 'Request has expired');
  });

  test('an Authorization header without a colon is AccessDenied', () => {
    const req = putV2();
    req.headers.authorization = 'AWS AKIDEXAMPLE';
    assert.equal(s3ErrorOf(() => parseS3Auth(req, opts)).code, 'AccessDenied');
  });
});

test('requests without S3 credentials are not S3 requests', () => {
  const swiftish = request('GET', '/v1/AUTH_x/c', '', { 'x-auth-token': 'abc', authorization: 'Bearer abc' });
  assert.equal(parseS3Auth(swiftish, opts), undefined);
});

test('uriEncode keeps only unreserved characters (and slashes when asked)', () => {
  assert.equal(uriEncode("a b/c!*'()~._-é"), 'a%20b%2Fc%21%2A%27%28%29~._-%C3%A9');
  assert.equal(uriEncode('/a b/c', true), '/a%20b/c');
});
