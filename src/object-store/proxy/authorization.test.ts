import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { textResponse, type Middleware, type SwiftRequest } from '../pipeline.ts';
import { startCluster, type TestCluster } from './testing/cluster.ts';

interface Asked {
  method: string;
  path: string;
  acl: string | undefined;
}

/**
 * Stands in for the auth middleware: the caller named in X-Test-User is allowed when it is
 * "owner" (and marked the owner), or when the ACL the proxy passes names it.
 */
function fakeAuth(asked: Asked[]): Middleware {
  return (next) => async (req) => {
    const user = req.headers['x-test-user'];
    req.env.authorize = (r: SwiftRequest, acl?: string) => {
      asked.push({ method: r.method, path: r.path, acl });
      if (user === 'owner') {
        r.env.swiftOwner = true;
        return undefined;
      }
      return user && acl?.split(',').includes(user) ? undefined : textResponse(403, 'Access was denied to this resource.');
    };
    return next(req);
  };
}

describe('proxy: where it asks for authorization', () => {
  const asked: Asked[] = [];
  let cluster: TestCluster;
  const as = (user: string, headers: Record<string, string> = {}) => ({ headers: { 'x-test-user': user, ...headers } });
  const owner = (headers: Record<string, string> = {}) => as('owner', { 'content-length': '0', ...headers });

  before(async () => {
    cluster = await startCluster({ middlewares: [fakeAuth(asked)] });
    assert.equal((await cluster.call('PUT', '/v1/AUTH_acl/shared', owner({ 'x-container-read': 'reader', 'x-container-write': 'writer' }))).status, 201);
    assert.equal((await cluster.call('PUT', '/v1/AUTH_acl/shared/doc', { ...as('owner'), body: 'secret' })).status, 201);
  });
  beforeEach(() => {
    asked.length = 0;
  });
  after(() => cluster.close());

  test('object reads are checked against the container read ACL', async () => {
    const read = await cluster.call('GET', '/v1/AUTH_acl/shared/doc', as('reader'));
    assert.equal(read.status, 200);
    assert.equal(read.text, 'secret');
    assert.deepEqual(asked, [{ method: 'GET', path: '/v1/AUTH_acl/shared/doc', acl: 'reader' }]);
    const refused = await cluster.call('GET', '/v1/AUTH_acl/shared/doc', as('writer'));
    assert.equal(refused.status, 403);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_acl/shared/doc', as('stranger'))).status, 403);
  });

  test('object writes are checked against the container write ACL; a refused PUT stores nothing', async () => {
    assert.equal((await cluster.call('PUT', '/v1/AUTH_acl/shared/by-writer', { ...as('writer'), body: 'w' })).status, 201);
    assert.deepEqual(asked.at(-1), { method: 'PUT', path: '/v1/AUTH_acl/shared/by-writer', acl: 'writer' });
    assert.equal((await cluster.call('PUT', '/v1/AUTH_acl/shared/by-reader', { ...as('reader'), body: 'r' })).status, 403);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_acl/shared/by-reader', as('owner'))).status, 404);
    assert.equal((await cluster.call('POST', '/v1/AUTH_acl/shared/doc', as('reader', { 'x-object-meta-a': 'b' }))).status, 403);
    assert.equal((await cluster.call('DELETE', '/v1/AUTH_acl/shared/doc', as('reader'))).status, 403);
    assert.equal((await cluster.call('GET', '/v1/AUTH_acl/shared/doc', as('owner'))).status, 200);
  });

  test('container listings are checked against the read ACL, once the container is known', async () => {
    assert.equal((await cluster.call('GET', '/v1/AUTH_acl/shared?format=json', as('reader'))).status, 200);
    assert.deepEqual(asked, [{ method: 'GET', path: '/v1/AUTH_acl/shared', acl: 'reader' }]);
    assert.equal((await cluster.call('GET', '/v1/AUTH_acl/shared?format=json', as('stranger'))).status, 403);
  });

  test('containers change only for their owner: PUT, POST and DELETE are asked without an ACL', async () => {
    assert.equal((await cluster.call('POST', '/v1/AUTH_acl/shared', as('writer', { 'x-container-meta-a': 'b' }))).status, 403);
    assert.equal((await cluster.call('PUT', '/v1/AUTH_acl/other', as('writer', { 'content-length': '0' }))).status, 403);
    assert.equal((await cluster.call('DELETE', '/v1/AUTH_acl/shared', as('writer'))).status, 403);
    assert.deepEqual(asked.map((a) => a.acl), [undefined, undefined, undefined]);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_acl/other', as('owner'))).status, 404);
  });

  test('accounts are asked without an ACL; /info is public', async () => {
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_acl', as('reader'))).status, 403);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_acl', as('owner'))).status, 204);
    assert.deepEqual(asked.map((a) => [a.path, a.acl]), [['/v1/AUTH_acl', undefined], ['/v1/AUTH_acl', undefined]]);
    asked.length = 0;
    assert.equal((await cluster.call('GET', '/info')).status, 200);
    assert.deepEqual(asked, []);
  });

  test('ACLs are shown to the owner only', async () => {
    const byOwner = await cluster.call('HEAD', '/v1/AUTH_acl/shared', as('owner'));
    assert.equal(byOwner.headers['x-container-read'], 'reader');
    const byReader = await cluster.call('HEAD', '/v1/AUTH_acl/shared', as('reader'));
    assert.equal(byReader.status, 204);
    assert.equal(byReader.headers['x-container-read'], undefined);
    assert.equal(byReader.headers['x-container-write'], undefined);
  });
});
