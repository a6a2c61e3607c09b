// For the storage server's tests only: a server on 127.0.0.1 over temp device directories,
// a raw HTTP client (any method, any header, streamed or cut-off bodies), and timestamps.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/log/logger.ts';
import { handlerApp } from '../http-server.ts';
import { createStorageHandler, type StorageHandlerOptions, type StorageServer } from './server.ts';
import { Timestamp } from './timestamp.ts';

export const HASH_PREFIX = 'pre';
export const HASH_SUFFIX = 'suf';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface TestNode {
  root: string;
  /** "127.0.0.1:<port>" as X-*-Host headers carry it */
  host: string;
  port: number;
  devicePath(name: string): string;
  storage: StorageServer;
  request(method: string, path: string, opts?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply>;
  close(): Promise<void>;
}

/** A storage server serving devices `names` (directories made under a fresh temp root). */
export async function startNode(names: string[] = ['sda'], options: Partial<StorageHandlerOptions> & { missing?: string[] } = {}): Promise<TestNode> {
  const root = mkdtempSync(join(tmpdir(), 'tenrec-storage-'));
  const devices = names.map((name) => join(root, name));
  for (const [i, dir] of devices.entries()) if (!options.missing?.includes(names[i]!)) mkdirSync(dir);
  const storage = createStorageHandler({ devices, logger: silentLogger, hashPrefix: HASH_PREFIX, hashSuffix: HASH_SUFFIX, ...options });
  const app = handlerApp(storage.handler, { service: 'object-store:storage', logger: silentLogger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    root,
    host: `127.0.0.1:${port}`,
    port,
    devicePath: (name) => join(root, name),
    storage,
    request: (method, path, opts = {}) => send(port, method, path, opts.headers ?? {}, opts.body),
    async close() {
      await app.close();
      await storage.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const sized = !('transfer-encoding' in headers) && (data || ['PUT', 'POST'].includes(method));
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...(sized ? { 'content-length': String(data?.length ?? 0) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: all, text: all.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Sends `text` as-is on a new connection and returns the response's status (for requests Node's client will not make). */
export function rawStatus(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
  });
}

export interface Clock {
  next(): string;
  at(offsetSeconds: number): string;
}

/** Timestamps counting up from a base near now, one per call, so each write is newer than the last. */
export function clock(start = Date.now() / 1000): Clock {
  let n = 0;
  return {
    next: () => Timestamp.fromSeconds(start + ++n / 100).normal,
    at: (offset) => Timestamp.fromSeconds(start + offset).normal,
  };
}

/** Every file under `dir`, as paths relative to it. */
export function filesUnder(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(filesUnder(path).map((p) => join(name, p)));
    else out.push(name);
  }
  return out.sort();
}

/** Retries `check` until it stops throwing (for effects that happen after a response, such as background reports). */
export async function eventually(check: () => void | Promise<void>, attempts = 500): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await check();
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export interface DbServerSuite {
  /** the node on device sda, started before the block's tests and closed after them */
  node: TestNode;
  t: Clock;
  /** PUT of an account or container at the clock's next timestamp */
  create(path: string, headers?: Record<string, string>): Promise<Reply>;
  /** a JSON listing's entries (it must answer 200) */
  list(path: string, query?: string): Promise<Array<Record<string, unknown>>>;
  /** a JSON listing's names, a subdir's prefix for a subdir */
  names(path: string, query?: string): Promise<string[]>;
}

/** What the account and container server tests share; call it in a describe block. */
export function dbServerSuite(): DbServerSuite {
  let started: TestNode | undefined;
  before(async () => {
    started = await startNode(['sda']);
  });
  after(() => started?.close());
  const get = (): TestNode => {
    if (!started) throw new Error('the node is started before the tests');
    return started;
  };
  const node: TestNode = {
    get root() {
      return get().root;
    },
    get host() {
      return get().host;
    },
    get port() {
      return get().port;
    },
    get storage() {
      return get().storage;
    },
    devicePath: (name) => get().devicePath(name),
    request: (method, path, opts) => get().request(method, path, opts),
    close: () => get().close(),
  };
  const t = clock();
  const list = async (path: string, query = '') => {
    const res = await node.request('GET', `${path}?format=json${query}`);
    assert.equal(res.status, 200, res.text);
    return JSON.parse(res.text) as Array<Record<string, unknown>>;
  };
  return {
    node,
    t,
    create: (path, headers = {}) => node.request('PUT', path, { headers: { 'x-timestamp': t.next(), ...headers } }),
    list,
    names: async (path, query = '') => (await list(path, query)).map((e) => (e.subdir ?? e.name) as string),
  };
}
