import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RequestContext } from '../../core/auth/index.ts';
import type { Middleware } from '../pipeline.ts';
import { startCluster, type TestCluster } from './testing/cluster.ts';

/** Marks requests carrying X-Test-Identity as coming from someone, as the auth middleware would. */
const fakeIdentity: Middleware = (next) => async (req) => {
  if (req.headers['x-test-identity']) req.env.identity = { userId: req.headers['x-test-identity'], roles: ['ResellerAdmin'] } as RequestContext;
  return next(req);
};

describe('proxy: accounts', () => {
  let cluster: TestCluster;
  const put = (path: string, headers: Record<string, string> = {}) => cluster.call('PUT', path, { headers: { 'content-length': '0', ...headers } });

  before(async () => {
    cluster = await startCluster({ middlewares: [fakeIdentity] });
  });
  after(() => cluster.close());

  test('an account never written to reads as empty: HEAD 204, GET 200 [] with zero counts', async () => {
    const head = await cluster.call('HEAD', '/v1/AUTH_new');
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-account-container-count'], '0');
    assert.equal(head.headers['x-account-object-count'], '0');
    assert.equal(head.headers['x-account-bytes-used'], '0');
    assert.equal(head.headers['x-account-storage-policy-policy-0-container-count'], undefined, 'no usage for a policy with no containers');
    const get = await cluster.call('GET', '/v1/AUTH_new?format=json');
    assert.equal(get.status, 200);
    assert.equal(get.text, '[]');
    assert.equal(get.headers['content-type'], 'application/json; charset=utf-8');
  });

  test('the first container PUT creates the account; its listing and counts follow', async () => {
    assert.equal((await put('/v1/AUTH_lister/one')).status, 201);
    assert.equal((await put('/v1/AUTH_lister/two')).status, 201);
    await cluster.call('PUT', '/v1/AUTH_lister/one/o', { body: 'abc' });
    const head = await cluster.call('HEAD', '/v1/AUTH_lister');
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-account-container-count'], '2');
    // usage per storage policy, as Swift reports it (Tempest requires it)
    assert.equal(head.headers['x-account-storage-policy-policy-0-container-count'], '2');
    assert.equal(head.headers['x-account-storage-policy-policy-0-object-count'], head.headers['x-account-object-count']);
    assert.equal(head.headers['x-account-storage-policy-policy-0-bytes-used'], head.headers['x-account-bytes-used']);
    const listing = JSON.parse((await cluster.call('GET', '/v1/AUTH_lister?format=json')).text);
    assert.deepEqual(listing.map((c: { name: string }) => c.name), ['one', 'two']);
    assert.deepEqual(Object.keys(listing[0]).sort().filter((k) => k !== 'storage_policy'), ['bytes', 'count', 'last_modified', 'name']);
    const limited = JSON.parse((await cluster.call('GET', '/v1/AUTH_lister?format=json&limit=1&marker=one')).text);
    assert.deepEqual(limited.map((c: { name: string }) => c.name), ['two']);
    assert.equal((await cluster.call('GET', '/v1/AUTH_lister?limit=10001')).status, 412);
  });

  test('POST sets account metadata, creating the account if needed; X-Remove-Account-Meta-* removes it', async () => {
    const post = await cluster.call('POST', '/v1/AUTH_meta', { headers: { 'x-account-meta-owner': 'alice', 'x-account-meta-temp': 'x' } });
    assert.equal(post.status, 204);
    let head = await cluster.call('HEAD', '/v1/AUTH_meta');
    assert.equal(head.headers['x-account-meta-owner'], 'alice');
    await cluster.call('POST', '/v1/AUTH_meta', { headers: { 'x-remove-account-meta-temp': '1' } });
    head = await cluster.call('HEAD', '/v1/AUTH_meta');
    assert.equal(head.headers['x-account-meta-temp'], undefined);
    assert.equal(head.headers['x-account-meta-owner'], 'alice');
    const bad = await cluster.call('POST', '/v1/AUTH_meta', { headers: { 'x-account-meta-big': 'v'.repeat(257) } });
    assert.equal(bad.status, 400);
  });

  test('an account name over 256 bytes is a 400', async () => {
    const res = await cluster.call('HEAD', `/v1/AUTH_${'a'.repeat(300)}`);
    assert.equal(res.status, 400);
  });

  test('PUT and DELETE of an account need an identity (the auth middleware decides whose)', async () => {
    assert.equal((await put('/v1/AUTH_admin_made')).status, 403);
    assert.equal((await cluster.call('DELETE', '/v1/AUTH_admin_made')).status, 403);
    assert.equal((await put('/v1/AUTH_admin_made', { 'x-test-identity': 'admin', 'x-account-meta-made-by': 'admin' })).status, 201);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_admin_made')).headers['x-account-meta-made-by'], 'admin');
    assert.equal((await cluster.call('DELETE', '/v1/AUTH_admin_made?whoops=1', { headers: { 'x-test-identity': 'admin' } })).status, 400);
    assert.equal((await cluster.call('DELETE', '/v1/AUTH_admin_made', { headers: { 'x-test-identity': 'admin' } })).status, 204);
  });
});

describe('proxy: accounts without autocreate', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ accountAutocreate: false });
  });
  after(() => cluster.close());

  test('a missing account is a 404, and containers cannot be made in it', async () => {
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_absent')).status, 404);
    assert.equal((await cluster.call('PUT', '/v1/AUTH_absent/c', { headers: { 'content-length': '0' } })).status, 404);
    assert.equal((await cluster.call('POST', '/v1/AUTH_absent', { headers: { 'x-account-meta-a': 'b' } })).status, 404);
  });
});
