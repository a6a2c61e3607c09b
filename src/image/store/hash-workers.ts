/**
 * Image digests computed on worker threads, so that an upload's MD5 and SHA-512 run on two
 * cores beside the thread that receives and writes the data (on one thread, hashing alone
 * holds an upload to ~300 MB/s, under the rate of many disks).
 *
 * Data goes to the workers in 1 MiB blocks of shared memory, shared with each digest's
 * worker when it opens; a message then names a filled block by its index, and the block is
 * reused once every digest has hashed it. An upload
 * holds at most BLOCKS_PER_DIGEST blocks; when all are in use, write() waits, which is the
 * upload's backpressure.
 *
 * The workers run plain JavaScript given as source text (no TypeScript loader in a worker),
 * are shared by every upload of the process, and do not keep the process alive while idle.
 */
import { Worker } from 'node:worker_threads';

export const BLOCK_SIZE = 1024 * 1024;
const BLOCKS_PER_DIGEST = 4;
const POOL_SIZE = 2;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.op === 'open') hashes.set(m.id, { hash: createHash(m.algorithm), blocks: m.blocks });
    else if (m.op === 'data') {
      const open = hashes.get(m.id);
      if (open) open.hash.update(new Uint8Array(open.blocks[m.index], 0, m.length));
      parentPort.postMessage({ id: m.id, ack: m.index });
    } else if (m.op === 'end') {
      const open = hashes.get(m.id);
      hashes.delete(m.id);
      parentPort.postMessage({ id: m.id, digest: open.hash.digest('hex') });
    } else if (m.op === 'drop') hashes.delete(m.id);
  } catch (err) {
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

type Reply = { id: number; ack?: number; digest?: string; error?: string };

interface Listener {
  onAck(index: number): void;
  onDigest(hex: string): void;
  onError(err: Error): void;
}

/** One worker thread and the digests open on it. */
class HashWorker {
  readonly worker: Worker;
  readonly listeners = new Map<number, Listener>();
  dead = false;

  constructor(onDeath: (w: HashWorker) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const listener = this.listeners.get(reply.id);
      if (!listener) return;
      if (reply.ack !== undefined) listener.onAck(reply.ack);
      else if (reply.digest !== undefined) this.settle(reply.id, () => listener.onDigest(reply.digest!));
      else this.settle(reply.id, () => listener.onError(new Error(`hash worker: ${reply.error}`)));
    });
    const die = (err: Error) => {
      if (this.dead) return;
      this.dead = true;
      onDeath(this);
      for (const listener of this.listeners.values()) listener.onError(err);
      this.listeners.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`hash worker exited with code ${code}`)));
  }

  open(id: number, listener: Listener): void {
    if (this.listeners.size === 0) this.worker.ref(); // an unfinished digest keeps the process alive
    this.listeners.set(id, listener);
  }

  settle(id: number, then: () => void): void {
    this.listeners.delete(id);
    if (this.listeners.size === 0) this.worker.unref();
    then();
  }
}

class HashPool {
  private workers: HashWorker[] = [];
  private next = 0;
  private ids = 0;

  /** `count` workers for one upload's digests, each on a different one while the pool allows. */
  take(count: number): HashWorker[] {
    while (this.workers.length < POOL_SIZE) {
      this.workers.push(new HashWorker((dead) => (this.workers = this.workers.filter((w) => w !== dead))));
    }
    const start = this.next++;
    return Array.from({ length: count }, (_, i) => this.workers[(start + i) % this.workers.length]!);
  }

  newId(): number {
    return ++this.ids;
  }
}

const pool = new HashPool();

/** The hex digests of one stream of data under several algorithms, computed on the workers. */
export class WorkerDigests {
  private readonly blocks: SharedArrayBuffer[] = [];
  /** how many digests still have to hash each block */
  private readonly pendingReaders: number[] = [];
  private readonly free: number[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly parts: { worker: HashWorker; id: number; digest: Promise<string> }[];
  private current = -1;
  private filled = 0;
  private failure: Error | null = null;
  private ended = false;

  constructor(algorithms: string[]) {
    for (let i = 0; i < BLOCKS_PER_DIGEST; i++) {
      this.blocks.push(new SharedArrayBuffer(BLOCK_SIZE));
      this.pendingReaders.push(0);
      this.free.push(i);
    }
    const workers = pool.take(algorithms.length);
    this.parts = algorithms.map((algorithm, i) => {
      const worker = workers[i]!;
      const id = pool.newId();
      const digest = new Promise<string>((resolve, reject) => {
        worker.open(id, {
          onAck: (index) => this.release(index),
          onDigest: resolve,
          onError: (err) => {
            this.fail(err);
            reject(err);
          },
        });
      });
      digest.catch(() => {}); // the failure is reported by write() or finish()
      // the blocks are shared once; each data message names one by its index
      worker.worker.postMessage({ op: 'open', id, algorithm, blocks: this.blocks });
      return { worker, id, digest };
    });
  }

  /** Copies `data` into blocks, handing each full one to the workers; waits while every block is in use. */
  async write(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      if (this.failure) throw this.failure;
      if (this.current < 0) this.current = await this.freeBlock();
      const view = new Uint8Array(this.blocks[this.current]!);
      const n = Math.min(data.length - offset, BLOCK_SIZE - this.filled);
      view.set(data.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === BLOCK_SIZE) this.post();
    }
  }

  /** The digests, in the order of the algorithms. */
  async finish(): Promise<string[]> {
    if (this.failure) throw this.failure;
    if (this.filled > 0) this.post();
    this.ended = true;
    for (const part of this.parts) part.worker.worker.postMessage({ op: 'end', id: part.id });
    return Promise.all(this.parts.map((p) => p.digest));
  }

  /** Forgets the digests (the upload failed); the workers drop their state. */
  drop(): void {
    if (this.ended) return;
    this.ended = true;
    for (const part of this.parts) {
      part.worker.worker.postMessage({ op: 'drop', id: part.id });
      part.worker.settle(part.id, () => {});
    }
  }

  private post(): void {
    const index = this.current;
    this.pendingReaders[index] = this.parts.length;
    for (const part of this.parts) {
      part.worker.worker.postMessage({ op: 'data', id: part.id, index, length: this.filled });
    }
    this.current = -1;
    this.filled = 0;
  }

  private release(index: number): void {
    if (--this.pendingReaders[index]! > 0) return;
    this.free.push(index);
    this.waiting.shift()?.();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async freeBlock(): Promise<number> {
    while (this.free.length === 0) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.failure) throw this.failure;
    }
    return this.free.shift()!;
  }
}
