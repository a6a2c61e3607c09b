import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ec2Signature, ec2SignedRequest } from './ec2-signature.ts';
import { UnusableSignature } from './aws-signature.ts';

// Requests signed by botocore (the AWS SDK for Python) with this key pair: what an EC2 API
// would receive and forward to ec2tokens.
const SECRET = 'secret-0123456789abcdef0123456789ab';
const ACCESS = 'AKIDEXAMPLE0123456789abcdef01234';
const EMPTY_BODY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const v4Get = {
  access: ACCESS,
  verb: 'GET',
  host: 'ec2.example.com:8788',
  path: '/services/Cloud',
  params: { Action: 'DescribeInstances', Version: '2016-11-15', 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'a b~c' },
  headers: {
    Host: 'ec2.example.com:8788',
    'X-Amz-Date': '20240102T030405Z',
    Authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS}/20240102/RegionOne/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=5ee91e1b379c369bca3cc7106225f0c731756838e1d04eded2313b6e61333c01`,
  },
  body_hash: EMPTY_BODY_HASH,
};

const v4Post = {
  access: ACCESS,
  verb: 'POST',
  host: 'ec2.example.com',
  path: '/',
  params: { Action: 'DescribeRegions', Version: '2016-11-15' },
  headers: {
    Host: 'ec2.example.com',
    'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
    'X-Amz-Date': '20240102T030405Z',
    Authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS}/20240102/RegionOne/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=68f2d4882581f48c473edca9d92b8441e0b5ee99f629e3af00094d5989ddc328`,
  },
  body_hash: '903451d1f3cda66f6ac7101b5810af53eb3ce6b47c5162b0b2238ce9086b6a0d',
};

const v2Get = {
  access: ACCESS,
  verb: 'GET',
  host: 'ec2.example.com:8788',
  path: '/',
  params: {
    Action: 'DescribeImages', Version: '2016-11-15', 'Owner.1': 'self', AWSAccessKeyId: ACCESS,
    SignatureVersion: '2', SignatureMethod: 'HmacSHA256', Timestamp: '2026-11-21T23:19:34Z',
  },
};

const sign = (c: Record<string, unknown>, secret = SECRET) => ec2Signature(ec2SignedRequest(c), secret);

describe('EC2 request signatures', () => {
  test('SigV4 over a GET query, from the Authorization header', () => {
    assert.equal(sign(v4Get), '5ee91e1b379c369bca3cc7106225f0c731756838e1d04eded2313b6e61333c01');
  });

  test('SigV4 over a POST form: the parameters are in the body hash, not the query', () => {
    assert.equal(sign(v4Post), '68f2d4882581f48c473edca9d92b8441e0b5ee99f629e3af00094d5989ddc328');
  });

  test('SigV4 with its auth parameters in the query (X-Amz-*) instead of a header', () => {
    const { Authorization: _a, ...headers } = v4Get.headers;
    const presigned = {
      ...v4Get,
      headers: { Host: headers.Host },
      params: {
        ...v4Get.params,
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': `${ACCESS}/20240102/RegionOne/ec2/aws4_request`,
        'X-Amz-Date': '20240102T030405Z',
        'X-Amz-SignedHeaders': 'host',
      },
    };
    const signature = sign(presigned);
    assert.match(signature, /^[0-9a-f]{64}$/);
    assert.notEqual(sign({ ...presigned, params: { ...presigned.params, Action: 'RunInstances' } }), signature);
  });

  test('SigV2 (HmacSHA256 over verb, host, path and the sorted query)', () => {
    assert.equal(sign(v2Get), 'v540mZX+yEir+LHeRF+kARHPYCHuXCQwswqI6cW7KP8=');
  });

  test('another secret, host, path or parameter gives another signature', () => {
    const good = sign(v4Get);
    assert.notEqual(sign(v4Get, `${SECRET}x`), good);
    assert.notEqual(sign({ ...v4Get, path: '/' }), good);
    assert.notEqual(sign({ ...v4Get, headers: { ...v4Get.headers, Host: 'ec2.example.com' } }), good);
    assert.notEqual(sign({ ...v2Get, host: 'ec2.example.com' }), sign(v2Get));
    assert.notEqual(sign({ ...v2Get, params: { ...v2Get.params, 'Owner.1': 'amazon' } }), sign(v2Get));
  });

  test('no version, retired versions, and a date outside the scope cannot be signatures', () => {
    assert.throws(() => sign({ params: { Action: 'x' } }), UnusableSignature);
    assert.throws(() => sign({ params: { SignatureVersion: '1' } }), UnusableSignature);
    assert.throws(() => sign({ params: { SignatureVersion: '0' } }), UnusableSignature);
    assert.throws(() => sign({ ...v4Get, headers: { ...v4Get.headers, 'X-Amz-Date': '20240103T000000Z' } }), UnusableSignature);
    assert.throws(() => sign({ ...v4Get, headers: { ...v4Get.headers, Authorization: 'AWS4-HMAC-SHA256 Credential=x' } }), UnusableSignature);
    assert.throws(() => sign({ ...v2Get, params: { ...v2Get.params, Bad: '\ud800' } }), UnusableSignature);
  });
});
