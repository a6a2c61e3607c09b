import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../core/log/logger.ts';
import { handlerApp, newTransId, splitUrl } from './http-server.ts';
import { readBody, textResponse, type Handler, type SwiftRequest } from './pipeline.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('object-store http server', () => {
  const seen: SwiftRequest[] = [];
  let port = 0;
  let app: ReturnType<typeof handlerApp>;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  // Echoes what it got; a few paths behave specially.
  const handler: Handler = async (req) => {
    seen.push(req);
    if (req.path === '/boom') throw new Error('kaput');
    if (req.path === '/ignore-body') return textResponse(201);
    if (req.path === '/stream') {
      const parts = ['one,', 'two,', 'three'];
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: Readable.from(parts.map((p) => Buffer.from(p))) };
    }
    if (req.path === '/broken') {
      const body = new Readable({ read() {} });
      body.push('partial');
      setImmediate(() => body.destroy(new Error('storage node went away')));
      return { status: 200, headers: { 'content-length': '100' }, body };
    }
    if (req.body && req.path === '/echo') {
      return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: req.body };
    }
    const text = JSON.stringify({ method: req.method, path: req.path, query: req.query.toString() });
    return { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }, body: text };
  };

  function send(method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string[] } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: opts.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (Array.isArray(opts.body)) {
        // chunked: written piece by piece
        for (const piece of opts.body) req.write(piece);
        req.end();
      } else req.end(opts.body);
    });
  }

  before(async () => {
    app = handlerApp(handler, { service: 'test', logger: silentLogger, transIdSuffix: '-test' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    agent.destroy();
    await app.close();
  });

  test('COPY and REPORT reach the handler like any other method', async () => {
    for (const method of ['COPY', 'REPORT', 'PUT', 'POST', 'DELETE', 'OPTIONS']) {
      const res = await send(method, '/v1/a/c/o', { headers: { 'content-length': '0' } });
      assert.equal(res.status, 200, method);
      assert.equal(JSON.parse(res.body).method, method);
    }
  });

  test('the path arrives decoded, with %2F as a slash and double slashes kept, and the query parsed', async () => {
    const res = await send('GET', '/v1/a/c/dir%2Fsub//x%20y?prefix=a%2Fb&limit=2');
    const got = JSON.parse(res.body);
    assert.equal(got.path, '/v1/a/c/dir/sub//x y');
    const query = new URLSearchParams(got.query);
    assert.equal(query.get('prefix'), 'a/b');
    assert.equal(query.get('limit'), '2');
  });

  test('a path that is not UTF-8 is refused with 412 before the handler sees it', async () => {
    const before = seen.length;
    const res = await send('GET', '/v1/a/c/%ff');
    assert.equal(res.status, 412);
    assert.match(res.body, /Invalid UTF8 or contains NULL/);
    assert.equal(seen.length, before);
    assert.equal((await send('GET', '/v1/a/c/%00')).status, 412);
  });

  test('splitUrl decodes and refuses the same way', () => {
    assert.deepEqual(splitUrl('/v1/a/%E2%9C%93?x=1').path, '/v1/a/✓');
    assert.throws(() => splitUrl('/v1/a/%c3%28'), /Invalid UTF8/);
  });

  test('every response carries one transaction id as X-Trans-Id and X-Openstack-Request-Id', async () => {
    const res = await send('GET', '/v1/a');
    const id = res.headers['x-trans-id'] as string;
    assert.match(id, /^tx[0-9a-f]{21}-[0-9a-f]{10}-test$/);
    assert.equal(res.headers['x-openstack-request-id'], id);
    const other = await send('GET', '/v1/a');
    assert.notEqual(other.headers['x-trans-id'], id);
    assert.match(newTransId(), /^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
  });

  test('a transaction id sent along (proxy to storage server) is kept', async () => {
    const id = 'txabcdefabcdefabcdefabcde-0000000001';
    const res = await send('GET', '/sda/1/a', { headers: { 'x-trans-id': id } });
    assert.equal(res.headers['x-trans-id'], id);
    assert.equal(seen.at(-1)!.env.transId, id);
  });

  test('HEAD answers with the headers of a GET and no body', async () => {
    const res = await send('HEAD', '/v1/a/c');
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    assert.ok(Number(res.headers['content-length']) > 0, 'the length of what a GET would send');
  });

  test('a request body is streamed to the handler and a streamed response body back', async () => {
    const pieces = Array.from({ length: 50 }, (_, i) => `piece ${i};`);
    const res = await send('PUT', '/echo', { body: pieces });
    assert.equal(res.status, 200);
    assert.equal(res.body, pieces.join(''));
    assert.equal(seen.at(-1)!.headers['transfer-encoding'], 'chunked');

    const big = Buffer.alloc(3 * 1024 * 1024, 'x');
    const echoed = await send('PUT', '/echo', { body: big, headers: { 'content-length': String(big.length) } });
    assert.equal(echoed.body.length, big.length);

    const streamed = await send('GET', '/stream');
    assert.equal(streamed.body, 'one,two,three');
  });

  test('a request without a body has none; one the handler ignores does not stall the next request', async () => {
    await send('GET', '/v1/a');
    assert.equal(seen.at(-1)!.body, undefined);
    const ignored = await send('PUT', '/ignore-body', { body: Buffer.alloc(256 * 1024, 'y'), headers: { 'content-length': String(256 * 1024) } });
    assert.equal(ignored.status, 201);
    assert.equal((await send('GET', '/v1/a')).status, 200);
  });

  test('a body that fails midway cuts the response short', async () => {
    await assert.rejects(send('GET', '/broken'));
  });

  test('an error in the handler is a 500, not a dropped connection', async () => {
    const res = await send('GET', '/boom');
    assert.equal(res.status, 500);
    assert.ok(res.headers['x-trans-id']);
  });

  test('readBody refuses more than its limit', async () => {
    await assert.rejects(readBody(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), 15));
    assert.equal((await readBody('abc', 15)).toString(), 'abc');
  });
});
