// Legacy object versioning through the real proxy and storage servers, between SLO/DLO and
// symlinks as in Swift's pipeline, with a stand-in for the auth middleware.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Capabilities } from '../capabilities.ts';
import type { Middleware } from '../pipeline.ts';
import { startCluster, type TestCluster } from '../proxy/testing/cluster.ts';
import { dlo } from './dlo.ts';
import { errorPage } from './responses.ts';
import { slo } from './slo.ts';
import { symlink } from './symlink.ts';
import { versionedWrites } from './versioned-writes.ts';

const A = '/v1/AUTH_vw';

/** X-Test-User names the caller: "owner" may do anything, anyone else what a container's ACL names. */
const testAuth: Middleware = (next) => async (req) => {
  const user = req.headers['x-test-user'];
  if (user) req.env.authorize = (_r, acl) => (user === 'owner' || (acl ?? '').split(',').includes(user) ? undefined : errorPage(403));
  return next(req);
};

describe('versioned writes', () => {
  let cluster: TestCluster;
  const capabilities = new Capabilities();
  const call = (method: string, path: string, opts?: Parameters<TestCluster['call']>[2]) => cluster.call(method, path, opts);
  const text = async (path: string) => (await call('GET', `${A}/${path}`)).text;
  const listing = async (container: string) => JSON.parse((await call('GET', `${A}/${container}?format=json`)).text) as { name: string; content_type: string; bytes: number }[];

  before(async () => {
    cluster = await startCluster({ middlewares: [testAuth, slo(), dlo(), versionedWrites({ capabilities }), symlink()] });
    await call('PUT', `${A}/archive`);
    await call('PUT', `${A}/history`);
    assert.equal((await call('PUT', `${A}/stack`, { headers: { 'x-versions-location': 'archive' } })).status, 201);
    assert.equal((await call('PUT', `${A}/hist`, { headers: { 'x-history-location': 'history' } })).status, 201);
  });
  after(() => cluster.close());

  test('the container shows its versions location under the header it was set with', async () => {
    assert.equal((await call('HEAD', `${A}/stack`)).headers['x-versions-location'], 'archive');
    const hist = await call('HEAD', `${A}/hist`);
    assert.equal(hist.headers['x-history-location'], 'history');
    assert.equal(hist.headers['x-versions-location'], undefined);
  });

  test('stack mode: an overwrite archives the old copy; a DELETE puts it back', async () => {
    await call('PUT', `${A}/stack/obj`, { body: 'one' });
    await call('PUT', `${A}/stack/obj`, { body: 'two' });
    await call('PUT', `${A}/stack/obj`, { body: 'three' });
    const archived = (await listing('archive')).filter((o) => o.name.startsWith('003obj/'));
    assert.equal(archived.length, 2);
    assert.match(archived[0]!.name, /^003obj\/\d{10}\.\d{5}$/);
    assert.equal(await text(`archive/${archived[0]!.name}`), 'one');
    assert.equal(await text('stack/obj'), 'three');

    assert.equal((await call('DELETE', `${A}/stack/obj`)).status, 204);
    assert.equal(await text('stack/obj'), 'two');
    assert.equal((await call('DELETE', `${A}/stack/obj`)).status, 204);
    assert.equal(await text('stack/obj'), 'one');
    assert.equal((await listing('archive')).filter((o) => o.name.startsWith('003obj/')).length, 0);
    assert.equal((await call('DELETE', `${A}/stack/obj`)).status, 204);
    assert.equal((await call('GET', `${A}/stack/obj`)).status, 404);
  });

  test('the prefix counts the name in UTF-8 bytes, as three hex digits', async () => {
    await call('PUT', `${A}/stack/${encodeURIComponent('é')}`, { body: 'a' });
    await call('PUT', `${A}/stack/${encodeURIComponent('é')}`, { body: 'b' });
    assert.ok((await listing('archive')).some((o) => o.name.startsWith('002é/')));
  });

  test('history mode: a DELETE archives the object and leaves a delete marker', async () => {
    await call('PUT', `${A}/hist/doc`, { body: 'v1' });
    await call('PUT', `${A}/hist/doc`, { body: 'v2' });
    assert.equal((await call('DELETE', `${A}/hist/doc`)).status, 204);
    assert.equal((await call('GET', `${A}/hist/doc`)).status, 404);
    const versions = (await listing('history')).filter((o) => o.name.startsWith('003doc/'));
    assert.deepEqual(
      versions.map((o) => o.content_type),
      ['application/octet-stream', 'application/octet-stream', 'application/x-deleted;swift_versions_deleted=1'],
    );
    assert.equal(await text(`history/${versions[1]!.name}`), 'v2');
  });

  test('a large object is archived as its manifest and still reads whole from the archive', async () => {
    await call('PUT', `${A}/archive/part`, { body: 'large object body' });
    await call('PUT', `${A}/stack/big?multipart-manifest=put`, { body: JSON.stringify([{ path: '/archive/part' }]) });
    await call('PUT', `${A}/stack/big`, { body: 'small now' });
    const archived = (await listing('archive')).find((o) => o.name.startsWith('003big/'))!;
    assert.equal(archived.bytes, 'large object body'.length);
    assert.equal(await text(`archive/${archived.name}`), 'large object body');
    assert.equal((await call('DELETE', `${A}/stack/big`)).status, 204);
    assert.equal(await text('stack/big'), 'large object body');
  });

  test('overwriting a symlink archives the link, not what it points at', async () => {
    await call('PUT', `${A}/stack/a`, { body: 'aaaaa' });
    await call('PUT', `${A}/stack/b`, { body: 'bbbbb' });
    await call('PUT', `${A}/stack/link`, { body: '', headers: { 'x-symlink-target': 'stack/a' } });
    await call('PUT', `${A}/stack/link`, { body: '', headers: { 'x-symlink-target': 'stack/b' } });
    assert.equal(await text('stack/link'), 'bbbbb');
    const archived = (await listing('archive')).find((o) => o.name.startsWith('004link/'))!;
    const saved = await call('HEAD', `${A}/archive/${archived.name}?symlink=get`);
    assert.equal(saved.headers['x-symlink-target'], 'stack/a');
    assert.equal(await text(`archive/${archived.name}`), 'aaaaa');
  });

  test('the writer needs write access to the versioned container, not to the archive', async () => {
    await call('PUT', `${A}/shared`, { headers: { 'x-versions-location': 'archive', 'x-container-write': 'writer' } });
    await call('PUT', `${A}/shared/file`, { body: 'original' });
    const stranger = await call('PUT', `${A}/shared/file`, { body: 'vandal', headers: { 'x-test-user': 'stranger' } });
    assert.equal(stranger.status, 403);
    assert.ok(!(await listing('archive')).some((o) => o.name.startsWith('004file/')));
    const writer = await call('PUT', `${A}/shared/file`, { body: 'edited', headers: { 'x-test-user': 'writer' } });
    assert.equal(writer.status, 201);
    assert.ok((await listing('archive')).some((o) => o.name.startsWith('004file/')));
    assert.equal((await call('DELETE', `${A}/shared/file`, { headers: { 'x-test-user': 'stranger' } })).status, 403);
    assert.equal(await text('shared/file'), 'edited');
  });

  test('a missing archive container refuses the overwrite (412) and keeps the object', async () => {
    await call('PUT', `${A}/orphan`, { headers: { 'x-versions-location': 'no-such-container' } });
    await call('PUT', `${A}/orphan/o`, { body: 'kept' });
    assert.equal((await call('PUT', `${A}/orphan/o`, { body: 'lost?' })).status, 412);
    assert.equal(await text('orphan/o'), 'kept');
  });

  test('both locations at once is a 400; removing the location stops versioning', async () => {
    const both = await call('POST', `${A}/stack`, { headers: { 'x-versions-location': 'a', 'x-history-location': 'b' } });
    assert.equal(both.status, 400);
    assert.equal(both.text, 'Only one of x-versions-location or x-history-location may be specified');
    assert.equal((await call('POST', `${A}/stack`, { headers: { 'x-versions-location': 'with/slash' } })).status, 412);

    await call('PUT', `${A}/temp`, { headers: { 'x-history-location': 'history' } });
    assert.equal((await call('POST', `${A}/temp`, { headers: { 'x-remove-history-location': 'x' } })).status, 204);
    assert.equal((await call('HEAD', `${A}/temp`)).headers['x-history-location'], undefined);
    await call('PUT', `${A}/temp/o`, { body: '1' });
    await call('PUT', `${A}/temp/o`, { body: '2' });
    assert.ok(!(await listing('history')).some((o) => o.name.startsWith('001o/')));
  });

  test('/info lists the flags a container may set', () => {
    assert.deepEqual(capabilities.get('versioned_writes'), { allowed_flags: ['x-versions-location', 'x-history-location'] });
  });
});

test('with versioned writes turned off, setting a location is a 412', async () => {
  const capabilities = new Capabilities();
  const handler = versionedWrites({ enabled: false, capabilities })(async () => ({ status: 204, headers: {} }));
  const res = await handler({ method: 'POST', path: '/v1/AUTH_x/c', query: new URLSearchParams(), headers: { 'x-versions-location': 'v' }, env: { transId: 'tx' } });
  assert.equal(res.status, 412);
  assert.equal(res.body, 'Versioned Writes is disabled');
  assert.equal(capabilities.has('versioned_writes'), false);
});
