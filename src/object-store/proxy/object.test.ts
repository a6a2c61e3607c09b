import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster } from './testing/cluster.ts';

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

describe('proxy: objects', () => {
  let cluster: TestCluster;
  const base = '/v1/AUTH_obj/things';

  before(async () => {
    cluster = await startCluster();
    assert.equal((await cluster.call('PUT', base, { headers: { 'content-length': '0' } })).status, 201);
  });
  after(() => cluster.close());

  test('PUT answers 201 with the MD5 as ETag and Last-Modified; GET gives the bytes back with their headers', async () => {
    const data = 'the quick brown fox';
    const put = await cluster.call('PUT', `${base}/fox`, { body: data, headers: { 'content-type': 'text/x-fox', 'x-object-meta-color': 'brown' } });
    assert.equal(put.status, 201);
    assert.equal(put.headers['etag'], md5(data));
    assert.ok(put.headers['last-modified']);
    assert.equal(put.headers['content-length'], '0');

    const get = await cluster.call('GET', `${base}/fox`);
    assert.equal(get.status, 200);
    assert.equal(get.text, data);
    assert.equal(get.headers['etag'], md5(data));
    assert.equal(get.headers['content-type'], 'text/x-fox');
    assert.equal(get.headers['content-length'], String(data.length));
    assert.equal(get.headers['x-object-meta-color'], 'brown');
    assert.equal(get.headers['accept-ranges'], 'bytes');
    assert.match(get.headers['x-timestamp']!, /^\d{10}\.\d{5}$/);
    assert.equal(get.headers['last-modified'], put.headers['last-modified']);
  });

  test('HEAD has the headers of a GET and no body', async () => {
    await cluster.call('PUT', `${base}/head-me`, { body: '12345' });
    const head = await cluster.call('HEAD', `${base}/head-me`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.headers['etag'], md5('12345'));
    assert.equal(head.body.length, 0);
  });

  test('a chunked upload and a large one are streamed through whole', async () => {
    const pieces = Array.from({ length: 40 }, (_, i) => `chunk-${i}|`);
    const chunked = await cluster.call('PUT', `${base}/chunked`, { body: pieces, headers: { 'transfer-encoding': 'chunked' } });
    assert.equal(chunked.status, 201);
    assert.equal(chunked.headers['etag'], md5(pieces.join('')));
    assert.equal((await cluster.call('GET', `${base}/chunked`)).text, pieces.join(''));

    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    const put = await cluster.call('PUT', `${base}/big`, { body: big });
    assert.equal(put.status, 201);
    const got = await cluster.call('GET', `${base}/big`);
    assert.equal(got.body.length, big.length);
    assert.ok(got.body.equals(big));
  });

  test('an empty object is an object', async () => {
    const put = await cluster.call('PUT', `${base}/empty`, { body: '' });
    assert.equal(put.status, 201);
    assert.equal(put.headers['etag'], 'd41d8cd98f00b204e9800998ecf8427e');
    const get = await cluster.call('GET', `${base}/empty`);
    assert.equal(get.status, 200);
    assert.equal(get.headers['content-length'], '0');
  });

  test('object names keep their slashes, spaces and non-ASCII characters', async () => {
    const name = 'dir/sub dir/naïve ✓.txt';
    const path = `${base}/${name.split('/').map(encodeURIComponent).join('/')}`;
    assert.equal((await cluster.call('PUT', path, { body: 'x' })).status, 201);
    assert.equal((await cluster.call('GET', path)).text, 'x');
    const listing = JSON.parse((await cluster.call('GET', `${base}?format=json&prefix=dir/`)).text);
    assert.deepEqual(listing.map((o: { name: string }) => o.name), [name]);
  });

  test('Content-Type is guessed from the name when missing, or when X-Detect-Content-Type asks', async () => {
    await cluster.call('PUT', `${base}/photo.JPG`, { body: 'img' });
    assert.equal((await cluster.call('HEAD', `${base}/photo.JPG`)).headers['content-type'], 'image/jpeg');
    await cluster.call('PUT', `${base}/archive.tar.gz`, { body: 'tgz' });
    assert.equal((await cluster.call('HEAD', `${base}/archive.tar.gz`)).headers['content-type'], 'application/x-tar');
    await cluster.call('PUT', `${base}/noext`, { body: 'x' });
    assert.equal((await cluster.call('HEAD', `${base}/noext`)).headers['content-type'], 'application/octet-stream');
    await cluster.call('PUT', `${base}/page.html`, { body: 'x', headers: { 'content-type': 'text/plain', 'x-detect-content-type': 'true' } });
    assert.equal((await cluster.call('HEAD', `${base}/page.html`)).headers['content-type'], 'text/html');
  });

  test('Range requests get 206 with the part asked for, or 416', async () => {
    await cluster.call('PUT', `${base}/digits`, { body: '0123456789' });
    const part = await cluster.call('GET', `${base}/digits`, { headers: { range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.equal(part.text, '2345');
    assert.equal(part.headers['content-range'], 'bytes 2-5/10');
    const tail = await cluster.call('GET', `${base}/digits`, { headers: { range: 'bytes=-3' } });
    assert.equal(tail.text, '789');
    const beyond = await cluster.call('GET', `${base}/digits`, { headers: { range: 'bytes=20-30' } });
    assert.equal(beyond.status, 416);
  });

  test('conditional GETs: If-None-Match gives 304, If-Match a 412, If-Modified-Since a 304', async () => {
    const put = await cluster.call('PUT', `${base}/cond`, { body: 'conditional' });
    const etag = put.headers['etag']!;
    assert.equal((await cluster.call('GET', `${base}/cond`, { headers: { 'if-none-match': `"${etag}"` } })).status, 304);
    assert.equal((await cluster.call('GET', `${base}/cond`, { headers: { 'if-match': '"nope"' } })).status, 412);
    assert.equal((await cluster.call('GET', `${base}/cond`, { headers: { 'if-match': etag } })).status, 200);
    const later = new Date(Date.now() + 3600_000).toUTCString();
    assert.equal((await cluster.call('GET', `${base}/cond`, { headers: { 'if-modified-since': later } })).status, 304);
  });

  test('PUT with If-None-Match: * refuses to overwrite; other If-None-Match values are a 400', async () => {
    assert.equal((await cluster.call('PUT', `${base}/once`, { body: 'a', headers: { 'if-none-match': '*' } })).status, 201);
    assert.equal((await cluster.call('PUT', `${base}/once`, { body: 'b', headers: { 'if-none-match': '*' } })).status, 412);
    assert.equal((await cluster.call('GET', `${base}/once`)).text, 'a');
    const bad = await cluster.call('PUT', `${base}/once`, { body: 'c', headers: { 'if-none-match': '"abc"' } });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /If-None-Match only supports \*/);
  });

  test('POST replaces the metadata (202); DELETE answers 204, then the object is gone (404)', async () => {
    await cluster.call('PUT', `${base}/meta`, { body: 'm', headers: { 'x-object-meta-one': '1' } });
    const post = await cluster.call('POST', `${base}/meta`, { headers: { 'x-object-meta-two': '2' } });
    assert.equal(post.status, 202);
    const head = await cluster.call('HEAD', `${base}/meta`);
    assert.equal(head.headers['x-object-meta-two'], '2');
    assert.equal(head.headers['x-object-meta-one'], undefined);

    assert.equal((await cluster.call('DELETE', `${base}/meta`)).status, 204);
    assert.equal((await cluster.call('GET', `${base}/meta`)).status, 404);
    assert.equal((await cluster.call('HEAD', `${base}/meta`)).status, 404);
    assert.equal((await cluster.call('DELETE', `${base}/meta`)).status, 404);
    assert.equal((await cluster.call('POST', `${base}/meta`, { headers: { 'x-object-meta-x': 'y' } })).status, 404);
  });

  test('X-Delete-After becomes X-Delete-At; ones in the past or not numbers are a 400', async () => {
    await cluster.call('PUT', `${base}/expiring`, { body: 'e', headers: { 'x-delete-after': '3600' } });
    const at = Number((await cluster.call('HEAD', `${base}/expiring`)).headers['x-delete-at']);
    assert.ok(at > Date.now() / 1000 + 3500 && at < Date.now() / 1000 + 3700, `delete-at ${at}`);
    const past = await cluster.call('PUT', `${base}/expiring`, { body: 'e', headers: { 'x-delete-at': '1000' } });
    assert.equal(past.status, 400);
    assert.match(past.text, /X-Delete-At in past/);
    const nonInteger = await cluster.call('POST', `${base}/expiring`, { headers: { 'x-delete-after': 'soon' } });
    assert.equal(nonInteger.status, 400);
    assert.match(nonInteger.text, /Non-integer X-Delete-After/);
  });

  test('an object in a container that does not exist: PUT and POST 404, GET 404', async () => {
    assert.equal((await cluster.call('PUT', '/v1/AUTH_obj/nowhere/o', { body: 'x' })).status, 404);
    assert.equal((await cluster.call('POST', '/v1/AUTH_obj/nowhere/o')).status, 404);
    assert.equal((await cluster.call('GET', '/v1/AUTH_obj/nowhere/o')).status, 404);
    assert.equal((await cluster.call('PUT', '/v1/AUTH_nobody/nowhere/o', { body: 'x' })).status, 404);
  });

  describe('bad requests', () => {
    test('an object name over 1024 bytes is a 400', async () => {
      const res = await cluster.call('PUT', `${base}/${'n'.repeat(1025)}`, { body: 'x' });
      assert.equal(res.status, 400);
      assert.match(res.text, /Object name length of 1025 longer than 1024/);
      // counted in bytes: 342 three-byte characters are 1026 bytes
      const wide = await cluster.call('PUT', `${base}/${encodeURIComponent('✓'.repeat(342))}`, { body: 'x' });
      assert.equal(wide.status, 400);
      assert.equal((await cluster.call('PUT', `${base}/${'n'.repeat(1024)}`, { body: 'x' })).status, 201);
    });

    test('metadata over its limits is a 400 that says which', async () => {
      const cases: [Record<string, string>, RegExp][] = [
        [{ [`x-object-meta-${'k'.repeat(129)}`]: 'v' }, /Metadata name too long/],
        [{ 'x-object-meta-big': 'v'.repeat(257) }, /Metadata value longer than 256/],
        [Object.fromEntries(Array.from({ length: 91 }, (_, i) => [`x-object-meta-m${i}`, 'v'])), /Too many metadata items; max 90/],
        [Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-object-meta-m${i}`, 'v'.repeat(250)])), /Total metadata too large; max 4096/],
      ];
      for (const [headers, message] of cases) {
        const put = await cluster.call('PUT', `${base}/bad-meta`, { body: 'x', headers });
        assert.equal(put.status, 400, String(message));
        assert.match(put.text, message);
      }
      await cluster.call('PUT', `${base}/bad-meta`, { body: 'x' });
      const post = await cluster.call('POST', `${base}/bad-meta`, { headers: { 'x-object-meta-big': 'v'.repeat(257) } });
      assert.equal(post.status, 400);
    });

    test('a PUT with neither Content-Length nor chunked transfer is a 411', async () => {
      // Node's client always says one or the other; a bare socket says neither
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(cluster.port, '127.0.0.1', () => socket.write(`PUT ${base}/no-length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 411 /);
      assert.match(answer, /Missing Content-Length/);
    });

    test('a body over max_file_size is a 413 before a byte is stored', async () => {
      const res = await cluster.call('PUT', `${base}/huge`, { headers: { 'content-length': String(5368709122 + 1) }, body: [] });
      assert.equal(res.status, 413);
      assert.equal((await cluster.call('HEAD', `${base}/huge`)).status, 404);
    });

    test('a body whose MD5 is not the ETag sent is a 422 and nothing is stored', async () => {
      const res = await cluster.call('PUT', `${base}/mismatch`, { body: 'what I sent', headers: { etag: md5('something else') } });
      assert.equal(res.status, 422);
      assert.equal((await cluster.call('HEAD', `${base}/mismatch`)).status, 404);
      const chunked = await cluster.call('PUT', `${base}/mismatch`, { body: ['what ', 'I sent'], headers: { etag: md5('else'), 'transfer-encoding': 'chunked' } });
      assert.equal(chunked.status, 422);
      assert.equal((await cluster.call('HEAD', `${base}/mismatch`)).status, 404);
      const right = await cluster.call('PUT', `${base}/mismatch`, { body: 'what I sent', headers: { etag: `"${md5('what I sent')}"` } });
      assert.equal(right.status, 201);
    });

    test('a client that goes away midway leaves no object behind', async () => {
      await new Promise<void>((resolve) => {
        const socket = connect(cluster.port, '127.0.0.1', () => {
          socket.write(`PUT ${base}/abandoned HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n`);
          socket.write(Buffer.alloc(300_000, 'a'), () => {
            socket.destroy();
            resolve();
          });
        });
      });
      assert.equal((await cluster.call('HEAD', `${base}/abandoned`)).status, 404);
      assert.deepEqual(cluster.objectCopies('AUTH_obj', 'things', 'abandoned'), []);
    });

    test('paths that are not Swift paths', async () => {
      assert.equal((await cluster.call('GET', '/v2/AUTH_obj')).status, 400);
      assert.equal((await cluster.call('GET', '/v1/')).status, 412);
      assert.equal((await cluster.call('GET', '/v1/AUTH_obj//o')).status, 404);
      assert.equal((await cluster.call('GET', '/')).status, 404);
      const copyVerb = await cluster.call('PATCH', `${base}/fox`);
      assert.equal(copyVerb.status, 405);
      assert.equal(copyVerb.headers['allow'], 'DELETE, GET, HEAD, POST, PUT');
    });
  });
});
