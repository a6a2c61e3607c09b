// Symlinks through the real proxy and storage servers, below SLO as in Swift's pipeline.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Capabilities } from '../capabilities.ts';
import { startCluster, type TestCluster } from '../proxy/testing/cluster.ts';
import { slo } from './slo.ts';
import { symlink } from './symlink.ts';

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');
const A = '/v1/AUTH_sym';

describe('symlinks', () => {
  let cluster: TestCluster;
  const capabilities = new Capabilities();
  const call = (method: string, path: string, opts?: Parameters<TestCluster['call']>[2]) => cluster.call(method, path, opts);
  const link = (name: string, target: string, headers: Record<string, string> = {}, body = '') =>
    call('PUT', `${A}/c/${name}`, { body, headers: { 'x-symlink-target': target, ...headers } });

  before(async () => {
    cluster = await startCluster({ middlewares: [slo(), symlink({ capabilities })] });
    await call('PUT', `${A}/c`);
    await call('PUT', `/v1/AUTH_other/elsewhere`);
    await call('PUT', `${A}/c/target`, { body: 'the target body', headers: { 'content-type': 'text/plain', 'x-object-meta-color': 'blue' } });
  });
  after(() => cluster.close());

  test('a GET or HEAD of a link answers for its target and says where it led', async () => {
    assert.equal((await link('dyn', 'c/target')).status, 201);
    const get = await call('GET', `${A}/c/dyn`);
    assert.equal(get.text, 'the target body');
    assert.equal(get.headers['content-location'], `${A}/c/target`);
    assert.equal(get.headers['x-object-meta-color'], 'blue');
    const ranged = await call('GET', `${A}/c/dyn`, { headers: { range: 'bytes=4-9' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.text, 'target');
    const head = await call('HEAD', `${A}/c/dyn`);
    assert.equal(head.headers['content-length'], String('the target body'.length));
  });

  test('?symlink=get reads the link itself', async () => {
    const res = await call('GET', `${A}/c/dyn?symlink=get`);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['x-symlink-target'], 'c/target');
    assert.equal(res.headers['content-type'], 'application/symlink');
  });

  test('bad links are refused with Swift\'s statuses', async () => {
    const body = await link('x', 'c/target', {}, 'not empty');
    assert.equal(body.status, 400);
    assert.equal(body.text, 'Symlink requests require a zero byte body');
    assert.equal((await link('x', '/c/target')).status, 412);
    assert.equal((await link('x', 'nocontainer')).status, 412);
    assert.equal((await link('x', 'c/')).status, 412);
    const self = await link('self', 'c/self');
    assert.equal(self.status, 400);
    assert.equal(self.text, 'Symlink cannot target itself');
    assert.equal((await link('x', 'c/target', { 'x-symlink-target-etag': 'a"b' })).status, 400);
    assert.equal((await link('x', 'c/target', { 'x-symlink-target-account': 'a/b' })).status, 412);
    const post = await call('POST', `${A}/c/target`, { headers: { 'x-symlink-target': 'c/other' } });
    assert.equal(post.status, 400);
  });

  test('links to links are followed up to symloop_max, then 409', async () => {
    await link('hop1', 'c/target');
    await link('hop2', 'c/hop1');
    await link('hop3', 'c/hop2');
    assert.equal((await call('GET', `${A}/c/hop2`)).text, 'the target body');
    const tooDeep = await call('GET', `${A}/c/hop3`);
    assert.equal(tooDeep.status, 409);
    assert.equal(tooDeep.text, 'Too many levels of symbolic links, maximum allowed is 2');
  });

  test('a static link needs its target to exist with that ETag, now and later', async () => {
    const etag = md5('the target body');
    const missing = await link('static', 'c/nothing', { 'x-symlink-target-etag': etag });
    assert.equal(missing.status, 409);
    assert.equal(missing.text, 'X-Symlink-Target does not exist');
    const wrong = await link('static', 'c/target', { 'x-symlink-target-etag': md5('other') });
    assert.equal(wrong.status, 409);
    assert.equal((await link('static', 'c/target', { 'x-symlink-target-etag': etag })).status, 201);
    const stored = await call('HEAD', `${A}/c/static?symlink=get`);
    assert.equal(stored.headers['x-symlink-target-etag'], etag);
    assert.equal(stored.headers['x-symlink-target-bytes'], String('the target body'.length));
    assert.equal(stored.headers['content-type'], 'text/plain');

    await call('PUT', `${A}/c/moving`, { body: 'before' });
    await link('pinned', 'c/moving', { 'x-symlink-target-etag': md5('before') });
    await call('PUT', `${A}/c/moving`, { body: 'after' });
    const broken = await call('GET', `${A}/c/pinned`);
    assert.equal(broken.status, 409);
    assert.equal(broken.text, `Object Etag '${md5('after')}' does not match X-Symlink-Target-Etag header '${md5('before')}'`);
  });

  test('JSON listings show where links point', async () => {
    const rows = JSON.parse((await call('GET', `${A}/c?format=json`)).text) as Record<string, unknown>[];
    const dyn = rows.find((r) => r.name === 'dyn')!;
    assert.equal(dyn.symlink_path, `${A}/c/target`);
    assert.equal(dyn.hash, md5(''));
    const pinned = rows.find((r) => r.name === 'static')!;
    assert.equal(pinned.symlink_etag, md5('the target body'));
    assert.equal(pinned.symlink_bytes, 'the target body'.length);
    assert.equal(rows.find((r) => r.name === 'target')!.symlink_path, undefined);
  });

  test('a link may point into another account', async () => {
    await call('PUT', '/v1/AUTH_other/elsewhere/o', { body: 'far away' });
    await link('far', 'elsewhere/o', { 'x-symlink-target-account': 'AUTH_other' });
    const res = await call('GET', `${A}/c/far`);
    assert.equal(res.text, 'far away');
    assert.equal(res.headers['content-location'], '/v1/AUTH_other/elsewhere/o');
  });

  test('a POST to a link is answered 307 with the target\'s location', async () => {
    const res = await call('POST', `${A}/c/dyn`, { headers: { 'x-object-meta-x': 'y' } });
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, `${A}/c/target`);
  });

  test('a link to a large object reads the whole large object', async () => {
    await call('PUT', `${A}/c/part1`, { body: 'large ' });
    await call('PUT', `${A}/c/part2`, { body: 'object' });
    await call('PUT', `${A}/c/lo?multipart-manifest=put`, { body: JSON.stringify([{ path: 'c/part1' }, { path: 'c/part2' }]) });
    await link('to-lo', 'c/lo');
    assert.equal((await call('GET', `${A}/c/to-lo`)).text, 'large object');
    assert.equal((await call('GET', `${A}/c/to-lo`, { headers: { range: 'bytes=4-7' } })).text, 'e ob');
  });

  test('/info has a symlink section', () => {
    assert.deepEqual(capabilities.get('symlink'), { symloop_max: 2, static_links: true });
  });
});
