// A cluster for durability tests, with storage servers as real processes that can be killed:
// three `tenrec serve object-store:storage` children (two devices each, one zone per node) on
// 127.0.0.1, 3-replica rings over them, and the proxy in this process behind HTTP (no auth).
// A node can be SIGKILLed mid-write and started again on its port. The background workers
// stay off in the children (their intervals are 0): tests run them, in this process, against
// a node's devices and port, as that node would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../core/log/logger.ts';
import { Capabilities } from '../capabilities.ts';
import { handlerApp } from '../http-server.ts';
import type { Handler } from '../pipeline.ts';
import { createProxyHandler } from '../proxy/app.ts';
import { ensureRings } from '../ring/all-in-one.ts';
import { loadRings, type Rings } from '../ring/file.ts';
import { hashPath, type HashSecrets } from '../ring/hash.ts';
import type { RingDevice } from '../ring/types.ts';
import { DeviceSet } from '../storage/devices.ts';
import { objectHashDir } from '../storage/layout.ts';
import type { LocalNode } from '../workers/local-devices.ts';

const TENREC = resolve(import.meta.dirname, '../../../bin/tenrec.js');
export const CLUSTER_HASH: HashSecrets = { prefix: 'durability', suffix: 'tests' };

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export interface StorageNode {
  index: number;
  port: number;
  /** device directories */
  devices: string[];
  child?: ChildProcess;
}

/** Where one copy of an object is: the node, the device and its hash directory. */
export interface ObjectCopy {
  node: number;
  device: string;
  dir: string;
  /** the .data file, if any */
  data?: string;
  /** a primary of its partition, or a handoff */
  primary: boolean;
}

export interface ProcessCluster {
  dir: string;
  rings: Rings;
  nodes: StorageNode[];
  /** the proxy pipeline (for in-process workers such as the expirer) */
  handler: Handler;
  /** one request to the proxy over HTTP; throws when the response is cut short */
  call(method: string, path: string, opts?: { headers?: Record<string, string>; body?: Buffer | string }): Promise<Reply>;
  /** one request straight to a storage node */
  direct(node: number, method: string, path: string, headers?: Record<string, string>): Promise<Reply>;
  /** what a worker running on node `i` is given */
  localNode(i: number): LocalNode;
  /** every hash directory of the object on any node, primaries first */
  copies(account: string, container: string, object: string): ObjectCopy[];
  /** the object's primaries: node index and device directory */
  primaries(account: string, container: string, object: string): Array<{ node: number; device: RingDevice; path: string }>;
  kill(i: number): Promise<void>;
  start(i: number): Promise<void>;
  close(): Promise<void>;
}

function deviceOwner(nodes: StorageNode[], dev: RingDevice): { node: number; path: string } {
  const node = nodes.find((n) => n.port === dev.port)!;
  return { node: node.index, path: node.devices.find((d) => d.endsWith(`/${dev.device}`))! };
}

function httpCall(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const all = { ...headers };
    if (body !== undefined && all['content-length'] === undefined) all['content-length'] = String(Buffer.byteLength(body));
    const req = request({ host: '127.0.0.1', port, method, path, headers: all, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response cut short')));
      res.on('end', () => {
        if (!res.complete) return reject(new Error('response cut short'));
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
        const data = Buffer.concat(chunks);
        resolvePromise({ status: res.statusCode!, headers: flat, body: data, text: data.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function startProcessCluster(): Promise<ProcessCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tenrec-durability-'));
  const confFile = join(dir, 'tenrec.conf');
  writeFileSync(confFile, '');
  const nodes: StorageNode[] = [0, 1, 2].map((index) => {
    const devices = ['a', 'b'].map((d) => join(dir, `node${index}`, `sd${index}${d}`));
    for (const device of devices) mkdirSync(device, { recursive: true });
    return { index, port: 0, devices };
  });

  const start = async (i: number) => {
    const node = nodes[i]!;
    const args = [TENREC, 'serve', 'object-store:storage', '--config-file', confFile, '--state-dir', join(dir, `node${i}`)];
    for (const device of node.devices) args.push('--devices', device);
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        TENREC_DEFAULT_BIND_HOST: '127.0.0.1',
        TENREC_DEFAULT_LOG_LEVEL: 'warn',
        TENREC_OBJECT_STORE_STORAGE_PORT: String(node.port),
        TENREC_OBJECT_STORE_HASH_PATH_PREFIX: CLUSTER_HASH.prefix,
        TENREC_OBJECT_STORE_HASH_PATH_SUFFIX: CLUSTER_HASH.suffix,
        TENREC_OBJECT_STORE_REPLICATOR_INTERVAL: '0',
        TENREC_OBJECT_STORE_AUDITOR_INTERVAL: '0',
        TENREC_OBJECT_STORE_UPDATER_INTERVAL: '0',
        TENREC_OBJECT_STORE_EXPIRER_INTERVAL: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    node.child = child;
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    node.port = await new Promise<number>((resolvePort, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolvePort(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`storage node ${i} exited (${code}) before listening: ${stderr.slice(-2000)}`)));
    });
  };
  const kill = async (i: number) => {
    const child = nodes[i]!.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    nodes[i]!.child = undefined;
  };

  let app: FastifyInstance | undefined;
  let closeProxy: (() => Promise<void>) | undefined;
  try {
    await Promise.all(nodes.map((_, i) => start(i)));
    const ringDir = join(dir, 'rings');
    mkdirSync(ringDir);
    const devices = nodes.flatMap((node) => node.devices.map((path) => ({ ip: '127.0.0.1', port: node.port, device: path.split('/').pop()!, zone: node.index + 1 })));
    ensureRings(ringDir, devices, 3, 4);
    const rings = loadRings(ringDir, CLUSTER_HASH);
    const proxy = createProxyHandler({ rings: () => rings, logger: silentLogger, nodeTimeoutMs: 3000, connTimeoutMs: 500, accountAutocreate: true, capabilities: new Capabilities() });
    closeProxy = proxy.close;
    const handler = proxy.handler;
    app = handlerApp(handler, { service: 'test-proxy', logger: silentLogger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const proxyPort = (app.server.address() as AddressInfo).port;

    const primaries = (account: string, container: string, object: string) =>
      rings.object.getNodes(account, container, object).nodes.map((device) => ({ device, ...deviceOwner(nodes, device) }));

    return {
      dir,
      rings,
      nodes,
      handler,
      call: (method, path, opts = {}) => httpCall(proxyPort, method, path, opts.headers ?? {}, opts.body),
      direct: (i, method, path, headers = {}) => httpCall(nodes[i]!.port, method, path, headers),
      localNode: (i) => ({ devices: new DeviceSet(nodes[i]!.devices), port: nodes[i]!.port, ips: new Set(['127.0.0.1']) }),
      primaries,
      copies(account, container, object) {
        const hash = hashPath(account, container, object, CLUSTER_HASH).hex;
        const partition = rings.object.getNodes(account, container, object).partition;
        const primaryPaths = new Set(primaries(account, container, object).map((p) => p.path));
        const out: ObjectCopy[] = [];
        for (const node of nodes) {
          for (const device of node.devices) {
            const hashDir = objectHashDir(device, partition, hash);
            if (!existsSync(hashDir)) continue;
            const data = readdirSync(hashDir).find((f) => f.endsWith('.data'));
            out.push({ node: node.index, device, dir: hashDir, data: data && join(hashDir, data), primary: primaryPaths.has(device) });
          }
        }
        return out.sort((a, b) => Number(b.primary) - Number(a.primary));
      },
      kill,
      start,
      async close() {
        await app?.close();
        await closeProxy?.();
        await Promise.all(nodes.map((_, i) => kill(i)));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await app?.close();
    await closeProxy?.();
    await Promise.all(nodes.map((_, i) => kill(i)));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
