// Storage nodes that fail in ways a real one rarely does on cue: cut a body short, hang,
// refuse an upload, hold a stale copy. Each is a scripted HTTP server; the rings are made by
// hand so the test knows which node is a primary and which a handoff.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/log/logger.ts';
import { Capabilities } from '../capabilities.ts';
import { handlerApp } from '../http-server.ts';
import type { Ring, RingDevice } from '../ring/types.ts';
import { createProxyHandler } from './app.ts';

type Script = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

interface FakeNode {
  device: RingDevice;
  script: Script;
  /** a status to answer an upload with instead of 100 Continue (a full or missing disk) */
  refuseUpload?: number;
  /** takes an upload, then drops the connection once data comes */
  dropUpload?: boolean;
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[];
}

/** Account and container requests succeed; objects do what the node's script says. */
function serve(node: FakeNode): Server {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    const answer = () => {
      const body = Buffer.concat(chunks);
      node.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const depth = req.url!.split('?')[0]!.split('/').length - 1; // /dev/part/a/c/o → 5
      if (depth < 5) {
        res.writeHead(req.method === 'HEAD' ? 204 : 201, { 'x-timestamp': '0000000001.00000', 'x-put-timestamp': '0000000001.00000' });
        res.end();
        return;
      }
      node.script(req, res, body);
    };
    req.on('end', answer);
  });
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (node.refuseUpload) {
      node.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.alloc(0) });
      res.writeHead(node.refuseUpload, { connection: 'close' });
      res.end();
      return;
    }
    res.writeContinue();
    if (node.dropUpload) req.once('data', () => req.socket.destroy());
    else server.emit('request', req, res);
  });
  return server;
}

function ring(primaries: FakeNode[], handoffs: FakeNode[]): Ring {
  const devices = [...primaries, ...handoffs].map((n) => n.device);
  return {
    partPower: 0,
    replicaCount: primaries.length,
    devices,
    getNodes: () => ({ partition: 0, nodes: primaries.map((n) => n.device) }),
    getPartNodes: () => primaries.map((n) => n.device),
    getMoreNodes: () => handoffs.map((n) => n.device),
  };
}

const ok200 = (body: string, timestamp = '0000000010.00000'): Script => (_req, res) => {
  res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'text/plain', etag: 'e', 'x-timestamp': timestamp, 'x-backend-timestamp': timestamp });
  res.end(body);
};

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('proxy: misbehaving storage nodes', () => {
  const nodes: FakeNode[] = [];
  const servers: Server[] = [];
  let proxyPort = 0;
  let close: () => Promise<void>;

  before(async () => {
    for (let i = 0; i < 5; i++) {
      const node: FakeNode = { device: { id: i, region: 1, zone: i + 1, weight: 1, ip: '127.0.0.1', port: 0, device: `d${i}` }, script: ok200('unset'), seen: [] };
      const server = serve(node);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      node.device.port = (server.address() as AddressInfo).port;
      nodes.push(node);
      servers.push(server);
    }
    // nodes 0-2 are the primaries, 3-4 the handoffs, for every ring
    const r = ring(nodes.slice(0, 3), nodes.slice(3));
    const proxy = createProxyHandler({
      rings: () => ({ account: r, container: r, object: r }),
      logger: silentLogger,
      // short enough for the hanging-node test, long enough for a busy machine
      nodeTimeoutMs: 1500,
      connTimeoutMs: 5000,
      accountAutocreate: true,
      capabilities: new Capabilities(),
    });
    const app = handlerApp(proxy.handler, { service: 'test', logger: silentLogger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    proxyPort = (app.server.address() as AddressInfo).port;
    close = async () => {
      await app.close();
      await proxy.close();
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
    };
  });
  afterEach(() => {
    for (const node of nodes) {
      node.seen.length = 0;
      node.script = ok200('unset');
      node.refuseUpload = undefined;
      node.dropUpload = undefined;
    }
  });
  after(() => close());

  const objectRequests = (node: FakeNode) => node.seen.filter((s) => s.url.split('/').length > 5);

  test('a node that cuts the body short cuts the client response short', async () => {
    const cut: Script = (_req, res) => {
      res.writeHead(200, { 'content-length': '1000', 'x-timestamp': '0000000010.00000' });
      res.write('only the beginning');
      setImmediate(() => res.destroy());
    };
    for (const node of nodes) node.script = cut;
    await assert.rejects(call(proxyPort, 'GET', '/v1/AUTH_t/c/o'));
  });

  test('a node that never answers is given up on after node_timeout and the next one asked', async () => {
    nodes[0]!.script = () => undefined; // hangs
    nodes[1]!.script = () => undefined;
    nodes[2]!.script = () => undefined;
    nodes[3]!.script = ok200('from a handoff');
    const res = await call(proxyPort, 'GET', '/v1/AUTH_t/c/o');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'from a handoff');
  });

  test('a deletion newer than a copy wins: 404, whichever replica answered first', async () => {
    const tombstone: Script = (_req, res) => {
      res.writeHead(404, { 'x-backend-timestamp': '0000000020.00000', 'content-length': '0' });
      res.end();
    };
    nodes[0]!.script = tombstone;
    nodes[1]!.script = tombstone;
    nodes[2]!.script = tombstone;
    nodes[3]!.script = ok200('stale copy on a handoff', '0000000010.00000');
    assert.equal((await call(proxyPort, 'GET', '/v1/AUTH_t/c/o')).status, 404);
  });

  test('X-Newest asks every replica and serves the newest copy', async () => {
    nodes[0]!.script = ok200('old', '0000000010.00000');
    nodes[1]!.script = ok200('newest', '0000000030.00000');
    nodes[2]!.script = ok200('newer', '0000000020.00000');
    const plain = await call(proxyPort, 'GET', '/v1/AUTH_t/c/o');
    assert.equal(plain.status, 200);
    const newest = await call(proxyPort, 'GET', '/v1/AUTH_t/c/o', { 'x-newest': 'true' });
    assert.equal(newest.text, 'newest');
  });

  test('a primary that refuses an upload (507) is replaced by a handoff; each gets a container to update', async () => {
    const accept: Script = (req, res) => {
      res.writeHead(201, { etag: '5d41402abc4b2a76b9719d911017c592' });
      res.end();
      req.resume();
    };
    nodes[0]!.refuseUpload = 507;
    for (const i of [1, 2, 3, 4]) nodes[i]!.script = accept;
    const res = await call(proxyPort, 'PUT', '/v1/AUTH_t/c/o', { 'content-length': '5' }, 'hello');
    assert.equal(res.status, 201);
    assert.equal(res.headers['etag'], '5d41402abc4b2a76b9719d911017c592');
    const writers = nodes.filter((n) => objectRequests(n).some((s) => s.method === 'PUT'));
    assert.deepEqual(writers.map((n) => n.device.device), ['d0', 'd1', 'd2', 'd3']);
    for (const n of writers.slice(1)) {
      const put = objectRequests(n).find((s) => s.method === 'PUT')!;
      assert.match(String(put.headers['x-container-host']), /^127\.0\.0\.1:\d+$/);
      assert.ok(put.headers['x-container-device']);
      assert.equal(put.headers['x-container-partition'], '0');
      assert.match(String(put.headers['x-timestamp']), /^\d{10}\.\d{5}$/);
    }
  });

  test('a node that drops an upload midway leaves the others to make the quorum', async () => {
    nodes[0]!.dropUpload = true;
    for (const i of [1, 2]) {
      nodes[i]!.script = (_req, res) => {
        res.writeHead(201);
        res.end();
      };
    }
    const body = 'x'.repeat(512 * 1024);
    const res = await call(proxyPort, 'PUT', '/v1/AUTH_t/c/o', { 'content-length': String(body.length) }, body);
    assert.equal(res.status, 201);
    assert.equal(objectRequests(nodes[1]!)[0]!.body.length, body.length);
    nodes[1]!.dropUpload = true;
    assert.equal((await call(proxyPort, 'PUT', '/v1/AUTH_t/c/o', { 'content-length': String(body.length) }, body)).status, 503);
  });

  test('object servers that disagree on what they stored make the PUT fail', async () => {
    nodes[0]!.script = (req, res) => {
      res.writeHead(201, { etag: 'something-else' });
      res.end();
      req.resume();
    };
    for (const i of [1, 2]) {
      nodes[i]!.script = (req, res) => {
        res.writeHead(201, { etag: '5d41402abc4b2a76b9719d911017c592' });
        res.end();
        req.resume();
      };
    }
    const res = await call(proxyPort, 'PUT', '/v1/AUTH_t/c/o', { 'content-length': '5' }, 'hello');
    assert.equal(res.status, 500);
  });

  test('a DELETE that found the object on some replicas and not on others is a 204', async () => {
    const deleted: Script = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    const missing: Script = (_req, res) => {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
    };
    nodes[0]!.script = deleted;
    nodes[1]!.script = missing;
    nodes[2]!.script = (_req, res) => {
      res.writeHead(503);
      res.end();
    };
    nodes[3]!.script = missing;
    nodes[4]!.script = missing;
    assert.equal((await call(proxyPort, 'DELETE', '/v1/AUTH_t/c/o')).status, 204);
  });
});
