// Dynamic large objects through the real proxy and storage servers.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster } from '../proxy/testing/cluster.ts';
import { dlo } from './dlo.ts';

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');
const A = '/v1/AUTH_dlo';

describe('dynamic large objects', () => {
  let cluster: TestCluster;
  // five segments, listed three to a page, so reading them takes two listing pages
  const seg = [randomBytes(3000), randomBytes(1), randomBytes(2000), randomBytes(10), randomBytes(4000)];
  const whole = Buffer.concat(seg);
  const call = (method: string, path: string, opts?: Parameters<TestCluster['call']>[2]) => cluster.call(method, path, opts);
  const manifest = (name: string, target: string, headers: Record<string, string> = {}) =>
    call('PUT', `${A}/c/${name}`, { body: '', headers: { 'x-object-manifest': target, 'content-type': 'text/x-big', ...headers } });

  before(async () => {
    cluster = await startCluster({ middlewares: [dlo({ pageSize: 3 })] });
    for (const c of ['c', 'segs']) await call('PUT', `${A}/${c}`);
    for (const [i, data] of seg.entries()) await call('PUT', `${A}/segs/big/${String(i).padStart(4, '0')}`, { body: data });
    for (const [i, data] of seg.slice(0, 2).entries()) await call('PUT', `${A}/segs/small/${i}`, { body: data });
    await call('PUT', `${A}/segs/other`, { body: 'not part of it' });
    assert.equal((await manifest('big', 'segs/big/')).status, 201);
    assert.equal((await manifest('small', 'segs/small/')).status, 201);
  });
  after(() => cluster.close());

  test('GET concatenates the segments in name order, across listing pages', async () => {
    const get = await call('GET', `${A}/c/big`);
    assert.equal(get.status, 200);
    assert.ok(get.body.equals(whole));
    assert.equal(get.headers['content-type'], 'text/x-big');
    assert.equal(get.headers['x-object-manifest'], 'segs/big/');
  });

  test('a listing that fits one page gives the length and the quoted MD5 of the segment ETags', async () => {
    const head = await call('HEAD', `${A}/c/small`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(seg[0]!.length + seg[1]!.length));
    assert.equal(head.headers.etag, `"${md5(md5(seg[0]!) + md5(seg[1]!))}"`);
    assert.equal((await call('GET', `${A}/c/small`, { headers: { 'if-none-match': head.headers.etag! } })).status, 304);
    assert.equal((await call('GET', `${A}/c/small`, { headers: { 'if-match': '"nope"' } })).status, 412);
    const matched = await call('GET', `${A}/c/small`, { headers: { 'if-match': head.headers.etag! } });
    assert.equal(matched.status, 200);
    assert.equal(matched.body.length, seg[0]!.length + seg[1]!.length);
  });

  test('a longer listing: no length up front, the body streamed chunked', async () => {
    const head = await call('HEAD', `${A}/c/big`);
    assert.equal(head.headers['content-length'], undefined);
    assert.equal(head.headers.etag, md5(''));
  });

  test('a Range inside the first page is served; one it cannot place is ignored', async () => {
    const ranged = await call('GET', `${A}/c/big`, { headers: { range: 'bytes=2990-3000' } });
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(whole.subarray(2990, 3001)));
    const suffix = await call('GET', `${A}/c/big`, { headers: { range: 'bytes=-10' } });
    assert.equal(suffix.status, 200);
    assert.ok(suffix.body.equals(whole));
    const small = await call('GET', `${A}/c/small`, { headers: { range: 'bytes=-2' } });
    assert.equal(small.status, 206);
    assert.ok(small.body.equals(Buffer.concat(seg.slice(0, 2)).subarray(-2)));
    const beyond = await call('GET', `${A}/c/small`, { headers: { range: 'bytes=5000-' } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${seg[0]!.length + 1}`);
    const several = await call('GET', `${A}/c/small`, { headers: { range: 'bytes=0-1,5-6' } });
    assert.equal(several.status, 200);
  });

  test('?multipart-manifest=get reads the manifest object itself', async () => {
    const res = await call('GET', `${A}/c/big?multipart-manifest=get`);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['x-object-manifest'], 'segs/big/');
  });

  test('no segments: an empty object; a missing segment container: its 404', async () => {
    await manifest('empty', 'segs/nothing-here/');
    const empty = await call('GET', `${A}/c/empty`);
    assert.equal(empty.status, 200);
    assert.equal(empty.headers['content-length'], '0');
    assert.equal(empty.headers.etag, `"${md5('')}"`);
    await manifest('lost', 'nowhere/x');
    assert.equal((await call('GET', `${A}/c/lost`)).status, 404);
  });

  test('X-Object-Manifest must be <container>/<prefix>', async () => {
    for (const bad of ['nocontainer', '/prefix', 'c/', 'c//x', 'c/x?y', 'c/x&y']) {
      const res = await manifest('bad', bad);
      assert.equal(res.status, 400, bad);
      assert.equal(res.text, 'X-Object-Manifest must be in the format container/prefix');
    }
  });
});
