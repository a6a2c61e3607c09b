// A small real cluster for proxy tests: three storage servers (two devices each, one zone
// per server) on 127.0.0.1, 3-replica rings built by the ring builder, and the proxy behind
// the HTTP server with the middlewares a test asks for. Storage servers can be stopped and
// started again on their port, to see what clients see when nodes are down.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../../core/log/logger.ts';
import { Capabilities } from '../../capabilities.ts';
import { handlerApp } from '../../http-server.ts';
import { compose, type Handler, type Middleware } from '../../pipeline.ts';
import { ensureRings } from '../../ring/all-in-one.ts';
import { loadRings } from '../../ring/file.ts';
import { hashPath } from '../../ring/hash.ts';
import { createStorageHandler, type StorageServer } from '../../storage/server.ts';
import { createProxyHandler } from '../app.ts';

const HASH = { prefix: '', suffix: 'proxy-tests' };

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** a Buffer goes with its Content-Length; an array of pieces goes chunked */
  body?: Buffer | string | (Buffer | string)[];
}

interface StorageNode {
  port: number;
  devices: string[];
  server?: StorageServer;
  app?: FastifyInstance;
}

export interface TestCluster {
  /** the pipeline the HTTP server serves */
  handler: Handler;
  capabilities: Capabilities;
  port: number;
  /** one request to the proxy over HTTP; the path is sent as given (already %-quoted) */
  call(method: string, path: string, opts?: CallOptions): Promise<Reply>;
  /** which storage nodes (0, 1, 2) hold a .data file of the object, one entry per copy */
  objectCopies(account: string, container: string, object: string): number[];
  stopStorage(index: number): Promise<void>;
  startStorage(index: number): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** outermost first, around the proxy app */
  middlewares?: Middleware[];
  accountAutocreate?: boolean;
  nodeTimeoutMs?: number;
  /** devices per storage node (default 2: one holds a replica, the other can be a handoff) */
  devicesPerNode?: number;
}

async function listen(handler: Handler, port = 0): Promise<{ app: FastifyInstance; port: number }> {
  const app = handlerApp(handler, { service: 'test', logger: silentLogger });
  await app.listen({ host: '127.0.0.1', port });
  return { app, port: (app.server.address() as AddressInfo).port };
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tenrec-proxy-'));
  const nodes: StorageNode[] = [0, 1, 2].map((i) => {
    const devices = 'abcd'.slice(0, opts.devicesPerNode ?? 2).split('').map((d) => join(dir, `node${i}`, `sd${i}${d}`));
    for (const device of devices) mkdirSync(device, { recursive: true });
    return { port: 0, devices };
  });

  const startStorage = async (index: number) => {
    const node = nodes[index]!;
    const server = createStorageHandler({
      devices: node.devices,
      logger: silentLogger,
      hashPrefix: HASH.prefix,
      hashSuffix: HASH.suffix,
      // listings right after a write must show it, however slow the machine
      containerUpdateTimeoutMs: 20_000,
      nodeTimeoutMs: 20_000,
      connTimeoutMs: 5000,
    });
    const { app, port } = await listen(server.handler, node.port);
    Object.assign(node, { server, app, port });
  };
  const stopStorage = async (index: number) => {
    const node = nodes[index]!;
    await node.app?.close();
    await node.server?.close();
    node.app = undefined;
    node.server = undefined;
  };
  for (let i = 0; i < nodes.length; i++) await startStorage(i);

  const ringDir = join(dir, 'rings');
  mkdirSync(ringDir);
  const devices = nodes.flatMap((node, i) => node.devices.map((path) => ({ ip: '127.0.0.1', port: node.port, device: path.split('/').pop()!, zone: i + 1 })));
  ensureRings(ringDir, devices, 3, 6);
  const rings = loadRings(ringDir, HASH);
  const capabilities = new Capabilities();
  const proxy = createProxyHandler({
    rings: () => rings,
    logger: silentLogger,
    // generous: a loaded test machine must not look like a failing node (a stopped one is refused at once)
    nodeTimeoutMs: opts.nodeTimeoutMs ?? 20_000,
    connTimeoutMs: 5000,
    accountAutocreate: opts.accountAutocreate ?? true,
    capabilities,
  });
  const handler = compose(proxy.handler, ...(opts.middlewares ?? []));
  const { app, port } = await listen(handler);

  const call = (method: string, path: string, callOpts: CallOptions = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const headers = { ...(callOpts.headers ?? {}) };
      const body = callOpts.body;
      if ((typeof body === 'string' || Buffer.isBuffer(body)) && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          const data = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: flat, body: data, text: data.toString('utf8') });
        });
      });
      req.on('error', reject);
      if (Array.isArray(body)) {
        for (const piece of body) req.write(piece);
        req.end();
      } else req.end(body);
    });

  const objectCopies = (account: string, container: string, object: string) => {
    const hash = hashPath(account, container, object, HASH).hex;
    return nodes.flatMap((node, i) =>
      node.devices.flatMap((device) => {
        const root = join(device, 'objects');
        if (!existsSync(root)) return [];
        const found = (readdirSync(root, { recursive: true }) as string[]).filter((p) => p.split('/').at(-2) === hash && p.endsWith('.data'));
        return found.map(() => i);
      }),
    );
  };

  return {
    handler,
    capabilities,
    objectCopies,
    port,
    call,
    stopStorage,
    startStorage,
    close: async () => {
      await app.close();
      await proxy.close();
      for (let i = 0; i < nodes.length; i++) await stopStorage(i);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
