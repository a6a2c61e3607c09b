import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { hashPath } from '../ring/hash.ts';
import { clock, eventually, filesUnder, HASH_PREFIX, HASH_SUFFIX, rawStatus, startNode, type TestNode } from './test-support.ts';

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');
const objectHash = (a: string, c: string, o: string) => hashPath(a, c, o, { prefix: HASH_PREFIX, suffix: HASH_SUFFIX }).hex;

describe('object server', () => {
  let node: TestNode;
  const t = clock();
  let n = 0;
  /** a fresh object path on device sda, partition 3 */
  const fresh = () => `/sda/3/AUTH_test/photos/dir/pic-${++n}.jpg`;
  const put = (path: string, body: string, headers: Record<string, string> = {}) =>
    node.request('PUT', path, { headers: { 'x-timestamp': t.next(), 'content-type': 'image/jpeg', ...headers }, body });

  before(async () => {
    node = await startNode(['sda', 'sdb'], { missing: ['sdb'] });
  });
  after(() => node.close());

  test('PUT stores the body and its metadata; GET and HEAD give them back', async () => {
    const path = fresh();
    const timestamp = t.next();
    const created = await node.request('PUT', path, {
      headers: { 'x-timestamp': timestamp, 'content-type': 'image/jpeg', 'x-object-meta-color': 'blue', 'content-disposition': 'inline', 'x-object-sysmeta-slo': 'x', 'x-unrelated': 'dropped' },
      body: 'hello world',
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.etag, `"${md5('hello world')}"`);

    const got = await node.request('GET', path);
    assert.equal(got.status, 200);
    assert.equal(got.text, 'hello world');
    assert.equal(got.headers['content-type'], 'image/jpeg');
    assert.equal(got.headers['content-length'], '11');
    assert.equal(got.headers.etag, `"${md5('hello world')}"`);
    assert.equal(got.headers['x-timestamp'], timestamp);
    assert.equal(got.headers['x-backend-timestamp'], timestamp);
    assert.equal(got.headers['last-modified'], new Date(Math.ceil(Number(timestamp)) * 1000).toUTCString());
    assert.equal(got.headers['x-object-meta-color'], 'blue');
    assert.equal(got.headers['content-disposition'], 'inline');
    assert.equal(got.headers['x-object-sysmeta-slo'], 'x');
    assert.equal(got.headers['x-unrelated'], undefined);

    const head = await node.request('HEAD', path);
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], '11');
    assert.equal(head.headers['x-object-meta-color'], 'blue');
  });

  test('the object is one .data file in objects/<partition>/<suffix>/<hash>, nothing left in tmp', async () => {
    const path = fresh();
    const timestamp = t.next();
    await node.request('PUT', path, { headers: { 'x-timestamp': timestamp, 'content-type': 'text/plain' }, body: 'abc' });
    const hash = objectHash('AUTH_test', 'photos', path.split('/photos/')[1]!);
    const dir = join(node.devicePath('sda'), 'objects', '3', hash.slice(-3), hash);
    assert.deepEqual(readdirSync(dir), [`${timestamp}.data`]);
    assert.deepEqual(filesUnder(join(node.devicePath('sda'), 'tmp')), []);

    const newer = t.next();
    await node.request('PUT', path, { headers: { 'x-timestamp': newer, 'content-type': 'text/plain' }, body: 'abcd' });
    assert.deepEqual(readdirSync(dir), [`${newer}.data`], 'the older data file is removed');
  });

  test('a damaged object file is moved to quarantined/ and reads as missing', async () => {
    const path = fresh();
    const timestamp = t.next();
    await node.request('PUT', path, { headers: { 'x-timestamp': timestamp, 'content-type': 'text/plain' }, body: 'precious' });
    const hash = objectHash('AUTH_test', 'photos', path.split('/photos/')[1]!);
    writeFileSync(join(node.devicePath('sda'), 'objects', '3', hash.slice(-3), hash, `${timestamp}.data`), 'bit rot');
    assert.equal((await node.request('GET', path)).status, 404);
    assert.deepEqual(readdirSync(join(node.devicePath('sda'), 'quarantined', 'objects', hash)), [`${timestamp}.data`]);
  });

  test('chunked uploads are stored whole', async () => {
    const path = fresh();
    const res = await node.request('PUT', path, { headers: { 'x-timestamp': t.next(), 'content-type': 'text/plain', 'transfer-encoding': 'chunked' }, body: 'x'.repeat(100_000) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.etag, `"${md5('x'.repeat(100_000))}"`);
    assert.equal((await node.request('GET', path)).body.length, 100_000);
  });

  test('bad PUTs: no X-Timestamp, a bad one, no Content-Type, no length', async () => {
    const path = fresh();
    const noTimestamp = await node.request('PUT', path, { headers: { 'content-type': 'text/plain' }, body: 'a' });
    assert.equal(noTimestamp.status, 400);
    assert.equal(noTimestamp.text, 'Missing X-Timestamp header');
    const badTimestamp = await node.request('PUT', path, { headers: { 'x-timestamp': 'yesterday', 'content-type': 'text/plain' }, body: 'a' });
    assert.equal(badTimestamp.status, 400);
    assert.equal(badTimestamp.text, 'Invalid X-Timestamp header');
    const noType = await node.request('PUT', path, { headers: { 'x-timestamp': t.next() }, body: 'a' });
    assert.equal(noType.status, 400);
    assert.match(noType.text, /No content type/);
    const noLength = await rawStatus(node.port, `PUT ${path} HTTP/1.1\r\nHost: x\r\nX-Timestamp: ${t.next()}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n`);
    assert.equal(noLength, 411);
    assert.equal((await node.request('HEAD', path)).status, 404);
  });

  test('an ETag that does not match the body is a 422 and stores nothing; a matching one (quoted or not) is accepted', async () => {
    const path = fresh();
    const wrong = await put(path, 'data', { etag: md5('other') });
    assert.equal(wrong.status, 422);
    assert.equal((await node.request('GET', path)).status, 404);
    assert.deepEqual(filesUnder(join(node.devicePath('sda'), 'tmp')), []);
    assert.equal((await put(path, 'data', { etag: `"${md5('data')}"` })).status, 201);
    assert.equal((await node.request('GET', path)).text, 'data');
  });

  test('newest timestamp wins: an older or equal PUT is a 409 carrying the stored timestamp', async () => {
    const path = fresh();
    const older = t.next();
    const newer = t.next();
    assert.equal((await node.request('PUT', path, { headers: { 'x-timestamp': newer, 'content-type': 'text/plain' }, body: 'new' })).status, 201);
    for (const timestamp of [older, newer]) {
      const res = await node.request('PUT', path, { headers: { 'x-timestamp': timestamp, 'content-type': 'text/plain' }, body: 'old' });
      assert.equal(res.status, 409);
      assert.equal(res.headers['x-backend-timestamp'], newer);
    }
    assert.equal((await node.request('GET', path)).text, 'new');
  });

  test('POST replaces the user metadata, keeps data, sysmeta and Content-Type; an older POST is a 409', async () => {
    const path = fresh();
    await put(path, 'body', { 'x-object-meta-a': '1', 'x-object-meta-b': '2', 'x-object-sysmeta-keep': 'k', 'content-encoding': 'gzip' });
    const postTs = t.next();
    const posted = await node.request('POST', path, { headers: { 'x-timestamp': postTs, 'x-object-meta-c': '3' } });
    assert.equal(posted.status, 202);
    assert.equal(posted.headers['x-backend-content-type'], 'image/jpeg');
    assert.equal(posted.headers['x-object-sysmeta-keep'], 'k');
    const got = await node.request('GET', path);
    assert.equal(got.text, 'body');
    assert.equal(got.headers['x-object-meta-a'], undefined);
    assert.equal(got.headers['x-object-meta-c'], '3');
    assert.equal(got.headers['x-object-sysmeta-keep'], 'k');
    assert.equal(got.headers['content-encoding'], undefined, 'allowed headers are replaced too');
    assert.equal(got.headers['content-type'], 'image/jpeg');
    assert.equal(got.headers['x-timestamp'], postTs);

    const stale = await node.request('POST', path, { headers: { 'x-timestamp': t.at(-1000), 'x-object-meta-d': '4' } });
    assert.equal(stale.status, 409);
    assert.equal(stale.headers['x-backend-timestamp'], postTs);
    assert.equal((await node.request('POST', fresh(), { headers: { 'x-timestamp': t.next() } })).status, 404);
  });

  test('POST with a Content-Type changes the type, and a later POST without one keeps it', async () => {
    const path = fresh();
    await put(path, 'body');
    await node.request('POST', path, { headers: { 'x-timestamp': t.next(), 'content-type': 'text/markdown' } });
    await node.request('POST', path, { headers: { 'x-timestamp': t.next(), 'x-object-meta-x': 'y' } });
    const head = await node.request('HEAD', path);
    assert.equal(head.headers['content-type'], 'text/markdown');
    assert.equal(head.headers['x-object-meta-x'], 'y');
  });

  test('DELETE leaves a tombstone: 204 for an object, 404 when there was none; reads then say 404 with the tombstone time', async () => {
    const path = fresh();
    await put(path, 'bye');
    const deleteTs = t.next();
    const deleted = await node.request('DELETE', path, { headers: { 'x-timestamp': deleteTs } });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.headers['x-backend-timestamp'], deleteTs);
    const got = await node.request('GET', path);
    assert.equal(got.status, 404);
    assert.equal(got.headers['x-backend-timestamp'], deleteTs);
    const head = await node.request('HEAD', path);
    assert.equal(head.status, 404);
    assert.equal(head.headers['x-backend-timestamp'], deleteTs);

    const hash = objectHash('AUTH_test', 'photos', path.split('/photos/')[1]!);
    assert.deepEqual(readdirSync(join(node.devicePath('sda'), 'objects', '3', hash.slice(-3), hash)), [`${deleteTs}.ts`]);

    const older = await node.request('PUT', path, { headers: { 'x-timestamp': t.at(-1000), 'content-type': 'text/plain' }, body: 'late' });
    assert.equal(older.status, 409, 'a PUT older than the tombstone loses');
    assert.equal(older.headers['x-backend-timestamp'], deleteTs);

    const nothing = fresh();
    const missing = await node.request('DELETE', nothing, { headers: { 'x-timestamp': t.next() } });
    assert.equal(missing.status, 404);
    const missingHash = objectHash('AUTH_test', 'photos', nothing.split('/photos/')[1]!);
    assert.equal(readdirSync(join(node.devicePath('sda'), 'objects', '3', missingHash.slice(-3), missingHash)).length, 1, 'a tombstone even so');
  });

  test('a DELETE older than the object is a 409 and deletes nothing', async () => {
    const path = fresh();
    const old = t.next();
    await put(path, 'stays');
    const res = await node.request('DELETE', path, { headers: { 'x-timestamp': old } });
    assert.equal(res.status, 409);
    assert.equal((await node.request('GET', path)).text, 'stays');
  });

  describe('ranges', () => {
    const body = '0123456789abcdefghij';
    let path: string;
    before(async () => {
      path = fresh();
      await put(path, body, { 'content-type': 'text/plain' });
    });
    const get = (range: string) => node.request('GET', path, { headers: { range } });

    test('one range is a 206 with Content-Range', async () => {
      const res = await get('bytes=2-5');
      assert.equal(res.status, 206);
      assert.equal(res.text, '2345');
      assert.equal(res.headers['content-range'], 'bytes 2-5/20');
      assert.equal(res.headers['content-length'], '4');
      assert.equal((await get('bytes=-3')).text, 'hij');
      assert.equal((await get('bytes=15-')).text, 'fghij');
      assert.equal((await get('bytes=18-100')).text, 'ij');
    });

    test('several ranges are a multipart/byteranges 206', async () => {
      const res = await get('bytes=0-1,5-6');
      assert.equal(res.status, 206);
      const type = String(res.headers['content-type']);
      const boundary = /^multipart\/byteranges;boundary=(\w+)$/.exec(type)![1]!;
      assert.equal(Number(res.headers['content-length']), res.body.length);
      assert.equal(
        res.text,
        `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n` +
          `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/20\r\n\r\n56\r\n--${boundary}--`,
      );
    });

    test('ranges outside the object are a 416; a malformed Range is ignored', async () => {
      const res = await get('bytes=50-60');
      assert.equal(res.status, 416);
      assert.equal(res.headers['content-range'], 'bytes */20');
      const ignored = await get('bytes=5-2');
      assert.equal(ignored.status, 200);
      assert.equal(ignored.text, body);
      assert.equal((await node.request('HEAD', path, { headers: { range: 'bytes=0-1' } })).headers['content-length'], '20');
    });
  });

  describe('conditional requests', () => {
    let path: string;
    let etag: string;
    let timestamp: string;
    before(async () => {
      path = fresh();
      timestamp = t.next();
      await node.request('PUT', path, { headers: { 'x-timestamp': timestamp, 'content-type': 'text/plain' }, body: 'cond' });
      etag = md5('cond');
    });
    const date = (seconds: number) => new Date(seconds * 1000).toUTCString();

    test('If-Match and If-None-Match', async () => {
      assert.equal((await node.request('GET', path, { headers: { 'if-match': `"${etag}"` } })).status, 200);
      assert.equal((await node.request('GET', path, { headers: { 'if-match': '"nope"' } })).status, 412);
      const notModified = await node.request('GET', path, { headers: { 'if-none-match': `"${etag}"` } });
      assert.equal(notModified.status, 304);
      assert.equal(notModified.body.length, 0);
      assert.equal(notModified.headers.etag, `"${etag}"`);
      assert.equal((await node.request('HEAD', path, { headers: { 'if-none-match': '*' } })).status, 304);
      assert.equal((await node.request('GET', path, { headers: { 'if-none-match': '"other"' } })).status, 200);
      assert.equal((await node.request('GET', fresh(), { headers: { 'if-match': '*' } })).status, 412);
    });

    test('If-Modified-Since and If-Unmodified-Since', async () => {
      const modified = Math.ceil(Number(timestamp));
      assert.equal((await node.request('GET', path, { headers: { 'if-modified-since': date(modified) } })).status, 304);
      assert.equal((await node.request('GET', path, { headers: { 'if-modified-since': date(modified - 10) } })).status, 200);
      assert.equal((await node.request('GET', path, { headers: { 'if-unmodified-since': date(modified - 10) } })).status, 412);
      assert.equal((await node.request('GET', path, { headers: { 'if-unmodified-since': date(modified) } })).status, 200);
    });

    test('PUT with If-None-Match: * does not overwrite', async () => {
      const res = await node.request('PUT', path, { headers: { 'x-timestamp': t.next(), 'content-type': 'text/plain', 'if-none-match': '*' }, body: 'over' });
      assert.equal(res.status, 412);
      assert.equal((await node.request('GET', path)).text, 'cond');
    });
  });

  describe('X-Delete-At', () => {
    test('an object reads as missing once its time has come', async () => {
      const path = fresh();
      const now = Number(t.next());
      const deleteAt = String(Math.floor(now) + 100);
      assert.equal((await put(path, 'ephemeral', { 'x-delete-at': deleteAt })).status, 201);
      const before = await node.request('GET', path, { headers: { 'x-timestamp': String(now + 50) } });
      assert.equal(before.status, 200);
      assert.equal(before.headers['x-delete-at'], deleteAt);
      const afterwards = await node.request('GET', path, { headers: { 'x-timestamp': String(now + 101) } });
      assert.equal(afterwards.status, 404);
      assert.ok(afterwards.headers['x-backend-timestamp']);
      assert.equal((await node.request('HEAD', path, { headers: { 'x-timestamp': String(now + 101) } })).status, 404);
    });

    test('X-Delete-After becomes X-Delete-At; times in the past and non-integers are refused', async () => {
      const path = fresh();
      const timestamp = t.next();
      await node.request('PUT', path, { headers: { 'x-timestamp': timestamp, 'content-type': 'text/plain', 'x-delete-after': '60' }, body: 'x' });
      assert.equal((await node.request('HEAD', path)).headers['x-delete-at'], String(Math.floor(Number(timestamp) + 60)).padStart(10, '0'));
      const past = await put(fresh(), 'x', { 'x-delete-at': '1000' });
      assert.equal(past.status, 400);
      assert.match(past.text, /X-Delete-At in past/);
      assert.match((await put(fresh(), 'x', { 'x-delete-at': 'soon' })).text, /Non-integer X-Delete-At/);
    });

    test('X-If-Delete-At deletes only the object still set to expire then', async () => {
      const path = fresh();
      const deleteAt = String(Math.floor(Number(t.next())) + 1000);
      await put(path, 'x', { 'x-delete-at': deleteAt });
      const wrong = await node.request('DELETE', path, { headers: { 'x-timestamp': t.next(), 'x-if-delete-at': String(Number(deleteAt) + 1) } });
      assert.equal(wrong.status, 412);
      assert.equal((await node.request('GET', path)).status, 200);
      const right = await node.request('DELETE', path, { headers: { 'x-timestamp': t.next(), 'x-if-delete-at': deleteAt } });
      assert.equal(right.status, 204);
      assert.equal((await node.request('DELETE', fresh(), { headers: { 'x-timestamp': t.next(), 'x-if-delete-at': deleteAt } })).status, 404);
    });
  });

  test('metadata beyond Swift\'s limits is a 400', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ [`x-object-meta-${'n'.repeat(129)}`]: 'v' }, /Metadata name too long/],
      [{ 'x-object-meta-big': 'v'.repeat(257) }, /Metadata value longer than 256/],
      [Object.fromEntries(Array.from({ length: 91 }, (_, i) => [`x-object-meta-k${i}`, 'v'])), /Too many metadata items; max 90/],
      [Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-object-meta-k${i}`, 'v'.repeat(250)])), /Total metadata too large; max 4096/],
    ];
    for (const [headers, message] of cases) {
      const res = await put(fresh(), 'x', headers);
      assert.equal(res.status, 400);
      assert.match(res.text, message);
      const post = await node.request('POST', fresh(), { headers: { 'x-timestamp': t.next(), ...headers } });
      assert.equal(post.status, 400);
    }
    const longName = await put(`/sda/3/AUTH_test/photos/${'o'.repeat(1025)}`, 'x');
    assert.equal(longName.status, 400);
    assert.match(longName.text, /Object name length of 1025 longer than 1024/);
  });

  test('a device not served or not there is a 507; a bad partition or path is a 400', async () => {
    assert.equal((await node.request('GET', '/sdz/3/a/c/o')).status, 507);
    assert.equal((await node.request('PUT', '/sdb/3/a/c/o', { headers: { 'x-timestamp': t.next(), 'content-type': 'text/plain' }, body: 'x' })).status, 507);
    assert.equal((await node.request('GET', '/sda/x1/a/c/o')).status, 400);
    assert.equal((await node.request('GET', '/sda/../a/c/o')).status, 400);
    assert.equal((await node.request('GET', '/sda/3/a//o')).status, 400);
    assert.equal((await node.request('COPY', fresh())).status, 405);
  });

  test('an upload the client abandons mid-body leaves no file behind', async () => {
    const path = fresh();
    await new Promise<void>((resolve, reject) => {
      const socket = connect(node.port, '127.0.0.1', () => {
        socket.write(`PUT ${path} HTTP/1.1\r\nHost: x\r\nX-Timestamp: ${t.next()}\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n${'y'.repeat(5000)}`, () => {
          socket.destroy();
          resolve();
        });
      });
      socket.on('error', reject);
    });
    await eventually(() => assert.deepEqual(filesUnder(join(node.devicePath('sda'), 'tmp')), []));
    assert.equal((await node.request('GET', path)).status, 404);
  });

  test('a body that fails midway is answered 499 and its temp file removed', async () => {
    const path = fresh();
    let reads = 0;
    const body = new Readable({
      read() {
        if (reads++ === 0) this.push(Buffer.alloc(1000, 1));
        else this.destroy(new Error('connection reset'));
      },
    });
    const res = await node.storage.handler({
      method: 'PUT',
      path,
      query: new URLSearchParams(),
      headers: { 'x-timestamp': t.next(), 'content-type': 'text/plain', 'content-length': '5000' },
      body,
      env: { transId: 'tx-test' },
    });
    assert.equal(res.status, 499);
    assert.deepEqual(filesUnder(join(node.devicePath('sda'), 'tmp')), []);
    assert.equal((await node.request('HEAD', path)).status, 404);
  });

  test('REPORT gives a hash per suffix of a partition, which changes when an object does', async () => {
    const path = '/sda/9/AUTH_test/photos/reported';
    const hash = objectHash('AUTH_test', 'photos', 'reported');
    const suffix = hash.slice(-3);
    assert.deepEqual(JSON.parse((await node.request('REPORT', '/sda/9')).text), {});
    await node.request('PUT', path, { headers: { 'x-timestamp': t.next(), 'content-type': 'text/plain' }, body: 'r' });
    const first = JSON.parse((await node.request('REPORT', '/sda/9')).text) as Record<string, string>;
    assert.deepEqual(Object.keys(first), [suffix]);
    await node.request('DELETE', path, { headers: { 'x-timestamp': t.next() } });
    const second = JSON.parse((await node.request('REPORT', `/sda/9/${suffix}`)).text) as Record<string, string>;
    assert.notEqual(second[suffix], first[suffix]);
    assert.equal((await node.request('REPORT', '/sda/9/xyz')).status, 400);
    assert.ok(existsSync(join(node.devicePath('sda'), 'objects', '9', suffix, hash)));
  });
});
