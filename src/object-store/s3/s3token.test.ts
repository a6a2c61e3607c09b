// s3token alone: a fake `next` below it, a stand-in Identity over HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { textResponse, type SwiftRequest } from '../pipeline.ts';
import type { S3Env } from './env.ts';
import { parseS3Auth } from './signature.ts';
import { s3Token } from './s3token.ts';
import { signV4, startFakeIdentity, type FakeIdentity, type TestCredential } from './testing.ts';

const CAROL: TestCredential = { access: 'AKCAROL', secret: 'carol-secret', userId: 'u-carol', userName: 'carol', projectId: 'p-c', projectName: 'cee', roles: ['member', 'reader'] };
let identity: FakeIdentity;

before(async () => {
  identity = await startFakeIdentity([CAROL]);
});
after(async () => {
  await identity.close();
});

function s3Request(cred: TestCredential = CAROL, path = '/v1/AKCAROL/bucket/key'): SwiftRequest {
  const headers = signV4({ method: 'GET', url: '/bucket/key', headers: { host: 'example' }, access: cred.access, secret: cred.secret });
  const auth = parseS3Auth({ method: 'GET', path: '/bucket/key', query: new URLSearchParams(), headers }, { location: 'us-east-1', allowableClockSkew: 900 })!;
  const env: S3Env = { auth };
  return { method: 'GET', path, query: new URLSearchParams(), headers: {}, env: { transId: 'tx', s3api: env } };
}

/** The middleware over a `next` that records what reached it. */
function withNext(opts: Partial<Parameters<typeof s3Token>[0]> = {}) {
  const reached: SwiftRequest[] = [];
  const handler = s3Token({ identityUrl: identity.url, serviceToken: async () => identity.serviceToken, ...opts })(async (req) => {
    reached.push(req);
    return textResponse(200, 'ok');
  });
  return { handler, reached };
}

const s3tokenCalls = () => identity.calls.filter((c) => c === 'POST /v3/s3tokens').length;

describe('s3token', () => {
  test('the signer becomes the caller, and the account AUTH_<project>', async () => {
    const { handler, reached } = withNext();
    const req = s3Request();
    assert.equal((await handler(req)).status, 200);
    assert.equal(reached[0]!.path, '/v1/AUTH_p-c/bucket/key');
    const who = reached[0]!.env.identity!;
    assert.equal(who.userId, 'u-carol');
    assert.equal(who.projectId, 'p-c');
    assert.deepEqual(who.roles, ['member', 'reader']);
    assert.equal(who.token, 'token-of-u-carol');
    assert.equal(req.env.s3api!.caller!.account, 'AUTH_p-c');
  });

  test('a request that is not an S3 one passes untouched', async () => {
    const { handler, reached } = withNext();
    await handler({ method: 'GET', path: '/v1/AUTH_x/c', query: new URLSearchParams(), headers: {}, env: { transId: 'tx' } });
    assert.equal(reached[0]!.path, '/v1/AUTH_x/c');
    assert.equal(reached[0]!.env.identity, undefined);
  });

  test('Identity is asked once per request, whatever the subrequests', async () => {
    const { handler } = withNext({ secretCacheSeconds: 0 });
    const before = s3tokenCalls();
    const req = s3Request();
    await handler(req);
    await handler({ ...req, path: '/v1/AKCAROL/bucket', env: { ...req.env } });
    assert.equal(s3tokenCalls(), before + 1);
  });

  test('without the secret cache every request asks Identity, and no secret is fetched', async () => {
    const { handler } = withNext({ secretCacheSeconds: 0 });
    const before = identity.calls.length;
    await handler(s3Request());
    await handler(s3Request());
    assert.deepEqual(identity.calls.slice(before), ['POST /v3/s3tokens', 'POST /v3/s3tokens']);
  });

  test('refusals: unknown key, wrong signature; nothing reaches next', async () => {
    const { handler, reached } = withNext();
    const unknown = s3Request({ ...CAROL, access: 'AKWHO' });
    assert.equal((await handler(unknown)).status, 401);
    assert.equal(unknown.env.s3api!.failure!.code, 'InvalidAccessKeyId');
    const forged = s3Request({ ...CAROL, secret: 'guessed' });
    assert.equal((await handler(forged)).status, 401);
    assert.equal(forged.env.s3api!.failure!.code, 'SignatureDoesNotMatch');
    assert.equal(reached.length, 0);
  });

  test('a refused service token is renewed once', async () => {
    let renewed = 0;
    const { handler, reached } = withNext({
      serviceToken: async (renew) => {
        if (renew) renewed++;
        return renew ? identity.serviceToken : 'stale-token';
      },
      secretCacheSeconds: 0,
    });
    assert.equal((await handler(s3Request())).status, 200);
    assert.equal(renewed, 1);
    assert.equal(reached.length, 1);
  });

  test('Identity unreachable or refusing the service is ServiceUnavailable, not a signature error', async () => {
    const down = withNext({ identityUrl: 'http://127.0.0.1:9/v3' });
    const req = s3Request();
    assert.equal((await down.handler(req)).status, 503);
    assert.equal(req.env.s3api!.failure!.code, 'ServiceUnavailable');

    const refusing = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"error":{"code":403,"message":"You are not authorized"}}');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const forbidden = withNext({ identityUrl: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}` });
      const req2 = s3Request();
      assert.equal((await forbidden.handler(req2)).status, 503);
      assert.equal(req2.env.s3api!.failure!.code, 'ServiceUnavailable');
    } finally {
      refusing.close();
    }
  });

  test('with the secret cached, the signing key for aws-chunked bodies is set', async () => {
    const { handler } = withNext();
    const req = s3Request();
    await handler(req);
    const auth = req.env.s3api!.auth as { signingKey?: Buffer };
    assert.ok(auth.signingKey);
  });
});
