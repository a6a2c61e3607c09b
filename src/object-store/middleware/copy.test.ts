import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { textResponse, type Middleware } from '../pipeline.ts';
import { startCluster, type TestCluster } from '../proxy/testing/cluster.ts';
import { copy } from './copy.ts';

/** X-Test-Deny: "read" or "write" refuses the ACL-checked object reads or writes, as an auth middleware would. */
const denying: Middleware = (next) => async (req) => {
  const deny = req.headers['x-test-deny'];
  if (deny) {
    req.env.authorize = (r) => {
      const reading = r.method === 'GET' || r.method === 'HEAD';
      return (deny === 'read' && reading) || (deny === 'write' && !reading) ? textResponse(403, 'Access was denied to this resource.') : undefined;
    };
  }
  return next(req);
};

describe('server-side copy', () => {
  let cluster: TestCluster;
  const src = '/v1/AUTH_cp/src';
  before(async () => {
    cluster = await startCluster({ middlewares: [denying, copy()] });
    for (const path of [src, '/v1/AUTH_cp/dst', '/v1/AUTH_other/dst']) {
      assert.equal((await cluster.call('PUT', path, { headers: { 'content-length': '0' } })).status, 201);
    }
    const put = await cluster.call('PUT', `${src}/original`, {
      body: 'the original bytes',
      headers: { 'content-type': 'text/x-original', 'x-object-meta-kept': 'yes', 'content-disposition': 'inline' },
    });
    assert.equal(put.status, 201);
  });
  after(() => cluster.close());

  test('COPY with Destination copies bytes, type and metadata, and says where from', async () => {
    const res = await cluster.call('COPY', `${src}/original`, { headers: { destination: 'dst/copied' } });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-copied-from'], 'src/original');
    assert.equal(res.headers['x-copied-from-account'], 'AUTH_cp');
    assert.ok(res.headers['x-copied-from-last-modified']);
    assert.equal(res.headers['x-object-meta-kept'], 'yes');
    const got = await cluster.call('GET', '/v1/AUTH_cp/dst/copied');
    assert.equal(got.text, 'the original bytes');
    assert.equal(got.headers['content-type'], 'text/x-original');
    assert.equal(got.headers['x-object-meta-kept'], 'yes');
    assert.equal(got.headers['content-disposition'], 'inline');
    assert.notEqual(got.headers['x-timestamp'], (await cluster.call('HEAD', `${src}/original`)).headers['x-timestamp']);
  });

  test('PUT with X-Copy-From: the request\'s own headers win; X-Fresh-Metadata drops the source\'s', async () => {
    const put = await cluster.call('PUT', '/v1/AUTH_cp/dst/put-copy', {
      headers: { 'x-copy-from': '/src/original', 'content-length': '0', 'x-object-meta-added': 'new', 'content-type': 'text/x-changed' },
    });
    assert.equal(put.status, 201);
    let head = await cluster.call('HEAD', '/v1/AUTH_cp/dst/put-copy');
    assert.equal(head.headers['x-object-meta-kept'], 'yes');
    assert.equal(head.headers['x-object-meta-added'], 'new');
    assert.equal(head.headers['content-type'], 'text/x-changed');

    await cluster.call('PUT', '/v1/AUTH_cp/dst/fresh', { headers: { 'x-copy-from': 'src/original', 'content-length': '0', 'x-fresh-metadata': 'true', 'x-object-meta-only': 'this' } });
    head = await cluster.call('HEAD', '/v1/AUTH_cp/dst/fresh');
    assert.equal(head.headers['x-object-meta-kept'], undefined);
    assert.equal(head.headers['x-object-meta-only'], 'this');
    assert.equal((await cluster.call('GET', '/v1/AUTH_cp/dst/fresh')).text, 'the original bytes');

    // system metadata is the middlewares' state of the data: it travels even with fresh metadata
    await cluster.call('PUT', `${src}/stateful`, { body: 'state', headers: { 'x-object-sysmeta-state': 'kept', 'x-object-meta-user': 'dropped' } });
    await cluster.call('PUT', '/v1/AUTH_cp/dst/fresh-state', { headers: { 'x-copy-from': 'src/stateful', 'content-length': '0', 'x-fresh-metadata': 'true' } });
    head = await cluster.call('HEAD', '/v1/AUTH_cp/dst/fresh-state');
    assert.equal(head.headers['x-object-sysmeta-state'], 'kept');
    assert.equal(head.headers['x-object-meta-user'], undefined);
  });

  test('across accounts: Destination-Account and X-Copy-From-Account', async () => {
    const res = await cluster.call('COPY', `${src}/original`, { headers: { destination: '/dst/moved', 'destination-account': 'AUTH_other' } });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-copied-from-account'], 'AUTH_cp');
    assert.equal((await cluster.call('GET', '/v1/AUTH_other/dst/moved')).text, 'the original bytes');
    const back = await cluster.call('PUT', '/v1/AUTH_cp/dst/back', { headers: { 'x-copy-from': 'dst/moved', 'x-copy-from-account': 'AUTH_other', 'content-length': '0' } });
    assert.equal(back.status, 201);
    assert.equal((await cluster.call('GET', '/v1/AUTH_cp/dst/back')).text, 'the original bytes');
  });

  test('names with slashes and escapes survive the headers', async () => {
    await cluster.call('PUT', `${src}/a/b%20c`, { body: 'nested' });
    const res = await cluster.call('COPY', `${src}/a/b%20c`, { headers: { destination: 'dst/x/y%20z' } });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-copied-from'], 'src/a/b%20c');
    assert.equal((await cluster.call('GET', '/v1/AUTH_cp/dst/x/y%20z')).text, 'nested');
  });

  test('a Range copies just that part', async () => {
    const res = await cluster.call('COPY', `${src}/original`, { headers: { destination: 'dst/part', range: 'bytes=4-11' } });
    assert.equal(res.status, 201);
    assert.equal((await cluster.call('GET', '/v1/AUTH_cp/dst/part')).text, 'original');
  });

  test('a missing source or destination container is a 404', async () => {
    assert.equal((await cluster.call('COPY', `${src}/nothing`, { headers: { destination: 'dst/x' } })).status, 404);
    assert.equal((await cluster.call('COPY', `${src}/original`, { headers: { destination: 'nowhere/x' } })).status, 404);
  });

  test('malformed copies: no Destination, a bad one, a body with the copy', async () => {
    const none = await cluster.call('COPY', `${src}/original`);
    assert.equal(none.status, 412);
    assert.match(none.text, /Destination header required/);
    const bad = await cluster.call('COPY', `${src}/original`, { headers: { destination: 'no-object' } });
    assert.equal(bad.status, 412);
    assert.match(bad.text, /Destination header must be of the form <container name>\/<object name>/);
    const badFrom = await cluster.call('PUT', '/v1/AUTH_cp/dst/x', { headers: { 'x-copy-from': 'justcontainer', 'content-length': '0' } });
    assert.equal(badFrom.status, 412);
    const withBody = await cluster.call('PUT', '/v1/AUTH_cp/dst/x', { headers: { 'x-copy-from': 'src/original' }, body: 'data' });
    assert.equal(withBody.status, 400);
    assert.match(withBody.text, /Copy requests require a zero byte body/);
    const slashAccount = await cluster.call('COPY', `${src}/original`, { headers: { destination: 'dst/x', 'destination-account': 'a/b' } });
    assert.equal(slashAccount.status, 412);
  });

  test('the caller must be able to read the source and write the destination', async () => {
    assert.equal((await cluster.call('COPY', `${src}/original`, { headers: { destination: 'dst/denied', 'x-test-deny': 'read' } })).status, 403);
    assert.equal((await cluster.call('COPY', `${src}/original`, { headers: { destination: 'dst/denied', 'x-test-deny': 'write' } })).status, 403);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_cp/dst/denied')).status, 404);
  });
});
