// Static large objects through the real proxy and storage servers (three, three replicas).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Capabilities } from '../capabilities.ts';
import { startCluster, type TestCluster } from '../proxy/testing/cluster.ts';
import { slo } from './slo.ts';

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');
const A = '/v1/AUTH_slo';

describe('static large objects', () => {
  let cluster: TestCluster;
  const capabilities = new Capabilities();
  const seg = [randomBytes(70_000), randomBytes(50_000), randomBytes(30_000)];
  const whole = Buffer.concat(seg);
  const call = (method: string, path: string, opts?: Parameters<TestCluster['call']>[2]) => cluster.call(method, path, opts);
  const manifestOf = (...names: string[]) => JSON.stringify(names.map((n, i) => ({ path: `/segs/${n}`, etag: md5(seg[i]!), size_bytes: seg[i]!.length })));
  const putManifest = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call('PUT', `${A}/c/${path}?multipart-manifest=put`, { body: typeof body === 'string' ? body : JSON.stringify(body), headers });

  before(async () => {
    cluster = await startCluster({ middlewares: [slo({ maxManifestSegments: 5, maxManifestSize: 4096, capabilities })] });
    for (const c of ['c', 'segs']) assert.equal((await call('PUT', `${A}/${c}`)).status, 201);
    for (const [i, data] of seg.entries()) assert.equal((await call('PUT', `${A}/segs/s${i}`, { body: data })).status, 201);
    const put = await putManifest('big.bin', manifestOf('s0', 's1', 's2'), { 'content-type': 'application/x-big' });
    assert.equal(put.status, 201, put.text);
  });
  after(() => cluster.close());

  test('the manifest PUT answers with the quoted MD5 of the segment ETags', async () => {
    const put = await putManifest('again.bin', manifestOf('s0', 's1'));
    assert.equal(put.status, 201);
    assert.equal(put.headers.etag, `"${md5(md5(seg[0]!) + md5(seg[1]!))}"`);
  });

  test('GET streams the segments in order; HEAD tells the whole size and ETag', async () => {
    const get = await call('GET', `${A}/c/big.bin`);
    assert.equal(get.status, 200);
    assert.ok(get.body.equals(whole));
    const head = await call('HEAD', `${A}/c/big.bin`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(whole.length));
    assert.equal(head.headers.etag, `"${md5(seg.map((s) => md5(s)).join(''))}"`);
    assert.equal(head.headers['x-static-large-object'], 'True');
    assert.equal(head.headers['content-type'], 'application/x-big');
  });

  test('a Range reads across segment boundaries; a suffix; several as multipart/byteranges; 416 past the end', async () => {
    const across = await call('GET', `${A}/c/big.bin`, { headers: { range: 'bytes=69990-120009' } });
    assert.equal(across.status, 206);
    assert.equal(across.headers['content-range'], `bytes 69990-120009/${whole.length}`);
    assert.ok(across.body.equals(whole.subarray(69990, 120010)));

    const suffix = await call('GET', `${A}/c/big.bin`, { headers: { range: 'bytes=-5' } });
    assert.ok(suffix.body.equals(whole.subarray(whole.length - 5)));

    const multi = await call('GET', `${A}/c/big.bin`, { headers: { range: 'bytes=0-2,149998-' } });
    assert.equal(multi.status, 206);
    const boundary = /boundary=(\w+)/.exec(multi.headers['content-type']!)![1];
    assert.equal(Number(multi.headers['content-length']), multi.body.length);
    const text = multi.body.toString('latin1');
    assert.ok(text.includes(`Content-Range: bytes 0-2/${whole.length}\r\n\r\n${whole.subarray(0, 3).toString('latin1')}\r\n--${boundary}`));
    assert.ok(text.endsWith(`Content-Range: bytes 149998-149999/${whole.length}\r\n\r\n${whole.subarray(149998).toString('latin1')}\r\n--${boundary}--`));

    const beyond = await call('GET', `${A}/c/big.bin`, { headers: { range: `bytes=${whole.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${whole.length}`);
  });

  test('conditions are judged against the large object\'s ETag', async () => {
    const etag = (await call('HEAD', `${A}/c/big.bin`)).headers.etag!;
    assert.equal((await call('GET', `${A}/c/big.bin`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await call('GET', `${A}/c/big.bin`, { headers: { 'if-match': etag } })).status, 200);
    assert.equal((await call('GET', `${A}/c/big.bin`, { headers: { 'if-match': '"something-else"' } })).status, 412);
    assert.equal((await call('HEAD', `${A}/c/big.bin`, { headers: { 'if-none-match': etag } })).status, 304);
  });

  test('?part-number=N reads one segment with the part count', async () => {
    const part = await call('GET', `${A}/c/big.bin?part-number=2`);
    assert.equal(part.status, 206);
    assert.equal(part.headers['x-parts-count'], '3');
    assert.equal(part.headers['content-range'], `bytes 70000-119999/${whole.length}`);
    assert.ok(part.body.equals(seg[1]!));
    const head = await call('HEAD', `${A}/c/big.bin?part-number=3`);
    assert.equal(head.status, 206);
    assert.equal(head.headers['content-length'], String(seg[2]!.length));
    const tooFar = await call('GET', `${A}/c/big.bin?part-number=4`);
    assert.equal(tooFar.status, 416);
    assert.equal(tooFar.text, 'The requested part number is not satisfiable');
    assert.equal((await call('GET', `${A}/c/big.bin?part-number=0`)).status, 400);
    assert.equal((await call('GET', `${A}/c/big.bin?part-number=1`, { headers: { range: 'bytes=0-1' } })).status, 400);
  });

  test('the container listing shows the large object\'s size and its own ETag', async () => {
    const listing = JSON.parse((await call('GET', `${A}/c?format=json&prefix=big`)).text) as Record<string, unknown>[];
    assert.equal(listing[0]!.bytes, whole.length);
    assert.equal(listing[0]!.content_type, 'application/x-big');
    assert.equal(listing[0]!.slo_etag, `"${md5(seg.map((s) => md5(s)).join(''))}"`);
  });

  test('?multipart-manifest=get reads the stored manifest; format=raw gives the PUT form back', async () => {
    const stored = await call('GET', `${A}/c/big.bin?multipart-manifest=get`);
    assert.equal(stored.headers['content-type'], 'application/json; charset=utf-8');
    const segments = JSON.parse(stored.text) as Record<string, unknown>[];
    assert.deepEqual(
      segments.map((s) => [s.name, s.bytes, s.hash, s.content_type]),
      seg.map((s, i) => [`/segs/s${i}`, s.length, md5(s), 'application/octet-stream']),
    );
    const raw = await call('GET', `${A}/c/big.bin?multipart-manifest=get&format=raw`);
    assert.deepEqual(JSON.parse(raw.text), seg.map((s, i) => ({ etag: md5(s), path: `/segs/s${i}`, size_bytes: s.length })));
    assert.equal(raw.headers.etag, md5(raw.body));
  });

  test('manifests nest; data segments and segment ranges count like any bytes', async () => {
    const inner = await putManifest('inner', [{ path: '/segs/s1', range: '10-19' }, { data: Buffer.from('-mid-').toString('base64') }, { path: '/segs/s2' }]);
    assert.equal(inner.status, 201, inner.text);
    const outer = await putManifest('outer', [{ path: '/segs/s0', range: '-4' }, { path: '/c/inner' }]);
    assert.equal(outer.status, 201, outer.text);
    const expected = Buffer.concat([seg[0]!.subarray(-4), seg[1]!.subarray(10, 20), Buffer.from('-mid-'), seg[2]!]);
    const get = await call('GET', `${A}/c/outer`);
    assert.ok(get.body.equals(expected));
    const ranged = await call('GET', `${A}/c/outer`, { headers: { range: 'bytes=2-20' } });
    assert.ok(ranged.body.equals(expected.subarray(2, 21)));
    const stored = JSON.parse((await call('GET', `${A}/c/outer?multipart-manifest=get`)).text) as Record<string, unknown>[];
    assert.equal(stored[0]!.range, `${seg[0]!.length - 4}-${seg[0]!.length - 1}`);
    assert.equal(stored[1]!.sub_slo, true);
    assert.equal(stored[1]!.bytes, 10 + 5 + seg[2]!.length);
  });

  test('segments that do not check out: 400 listing each problem, as text or JSON', async () => {
    const body = [
      { path: '/segs/missing' },
      { path: '/segs/s0', etag: 'not-its-etag' },
      { path: '/segs/s1', size_bytes: 3 },
    ];
    const plain = await putManifest('bad', body);
    assert.equal(plain.status, 400);
    assert.equal(plain.text, 'Errors:\n/segs/missing, 404 Not Found\n/segs/s0, Etag Mismatch\n/segs/s1, Size Mismatch\n');
    const json = await putManifest('bad', body, { accept: 'application/json' });
    assert.equal(json.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(json.text).Errors, [['/segs/missing', '404 Not Found'], ['/segs/s0', 'Etag Mismatch'], ['/segs/s1', 'Size Mismatch']]);
    assert.equal((await call('HEAD', `${A}/c/bad`)).status, 404);
  });

  test('bad manifest PUTs get Swift\'s statuses', async () => {
    const syntax = await putManifest('x', [{ path: 'nocontainer' }]);
    assert.equal(syntax.status, 400);
    assert.match(syntax.text, /^Index 0: path does not refer to an object/);
    const tooMany = await putManifest('x', Array.from({ length: 6 }, () => ({ path: '/segs/s0' })));
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.text, 'Number of object-backed segments must be <= 5');
    const tooBig = await putManifest('x', [{ path: '/segs/s0', etag: 'x'.repeat(5000) }]);
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.text, 'Manifest File > 4096 bytes');
    assert.equal((await putManifest('x', manifestOf('s0'), { etag: 'ffffffffffffffffffffffffffffffff' })).status, 422);
    assert.equal((await putManifest('x', manifestOf('s0'), { etag: md5(md5(seg[0]!)) })).status, 201);
    assert.equal((await putManifest('y', manifestOf('s0'), { 'x-copy-from': 'c/x' })).status, 405);
    const reserved = await call('PUT', `${A}/c/plain`, { body: 'x', headers: { 'x-static-large-object': 'true' } });
    assert.equal(reserved.status, 400);
    assert.match(reserved.text, /X-Static-Large-Object is a reserved header/);
  });

  test('?heartbeat=on answers 202 at once and reports the real status in the body', async () => {
    const res = await putManifest('beat', manifestOf('s0'), { accept: 'application/json' });
    assert.equal(res.status, 201);
    const beat = await call('PUT', `${A}/c/beat?multipart-manifest=put&heartbeat=on`, { body: manifestOf('s0'), headers: { accept: 'application/json' } });
    assert.equal(beat.status, 202);
    const report = JSON.parse(beat.text.trim());
    assert.equal(report['Response Status'], '201 Created');
    assert.equal(report.Etag, `"${md5(md5(seg[0]!))}"`);
    assert.deepEqual(report.Errors, []);
  });

  test('a changed first segment is a 409; a later one cuts the body short', async () => {
    await call('PUT', `${A}/segs/t0`, { body: 'first' });
    await call('PUT', `${A}/segs/t1`, { body: 'second' });
    assert.equal((await putManifest('fragile', [{ path: '/segs/t0' }, { path: '/segs/t1' }])).status, 201);
    await call('PUT', `${A}/segs/t1`, { body: 'changed' });
    await assert.rejects(call('GET', `${A}/c/fragile`));
    await call('PUT', `${A}/segs/t0`, { body: 'FIRST' });
    assert.equal((await call('GET', `${A}/c/fragile`)).status, 409);
    // the manifest itself is still a plain object
    assert.equal((await call('GET', `${A}/c/fragile?multipart-manifest=get`)).status, 200);
  });

  test('DELETE ?multipart-manifest=delete removes the segments, then the manifest', async () => {
    for (const n of ['d0', 'd1']) await call('PUT', `${A}/segs/${n}`, { body: n });
    assert.equal((await putManifest('doomed', [{ path: '/segs/d0' }, { path: '/segs/d1' }, { path: '/segs/d1' }])).status, 201);
    const res = await call('DELETE', `${A}/c/doomed?multipart-manifest=delete`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const report = JSON.parse(res.text);
    assert.equal(report['Response Status'], '200 OK');
    assert.equal(report['Number Deleted'], 3);
    assert.equal(report['Number Not Found'], 1);
    for (const path of ['segs/d0', 'segs/d1', 'c/doomed']) assert.equal((await call('HEAD', `${A}/${path}`)).status, 404);

    const plain = await call('DELETE', `${A}/segs/s0?multipart-manifest=delete`);
    assert.equal(plain.text, 'Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/segs/s0, Not an SLO manifest\n');
    assert.equal((await call('HEAD', `${A}/segs/s0`)).status, 200);
  });

  test('/info has an slo section with the limits in force', () => {
    assert.deepEqual(capabilities.get('slo'), {
      max_manifest_segments: 5, max_manifest_size: 4096, yield_frequency: 10, min_segment_size: 1, allow_async_delete: false,
    });
  });
});
