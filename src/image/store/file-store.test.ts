import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { makeQcow2 } from '../disk/qcow2.ts';
import { StoreDuplicate, StoreError, StoreInvalidRange, StoreNotFound, StoreQuotaExceeded, StoreSizeMismatch } from './errors.ts';
import { FileStore } from './file-store.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-file-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshStore = () => new FileStore({ id: 'local', directory: join(root, `store-${n++}`, 'images') });
const listing = (store: FileStore) => readdirSync(store.directory).sort();
const imageId = () => `${randomBytes(4).toString('hex')}-0000-4000-8000-${randomBytes(6).toString('hex')}`;
const MiB = 1024 * 1024;

/** Yields `data` in chunks of random sizes up to 100 KiB, as a network would. */
async function* chunked(data: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; ) {
    const size = 1 + Math.floor(Math.random() * 100 * 1024);
    yield data.subarray(at, at + size);
    at += size;
  }
}

/** `count` chunks of `size` bytes, counting how many were pulled. */
function counted(count: number, size: number) {
  const state = { pulled: 0 };
  async function* source() {
    for (let i = 0; i < count; i++) {
      state.pulled++;
      yield Buffer.alloc(size, i);
    }
  }
  return { state, source: source() };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

describe('FileStore', () => {
  test('round trip: the file, its location and digests equal to node:crypto over the same bytes', async () => {
    const store = freshStore();
    const id = imageId();
    const data = randomBytes(3 * MiB + 12345);
    const stored = await store.add(id, chunked(data));
    assert.deepEqual(stored, {
      location: `file://${store.directory}/${id}`,
      size: data.length,
      checksum: md5(data),
      osHashAlgo: 'sha512',
      osHashValue: sha512(data),
      virtualSize: null,
      detectedFormat: null,
    });
    assert.deepEqual(listing(store), [id]);
    assert.equal(statSync(store.directory).mode & 0o777, 0o700);
    assert.equal(statSync(join(store.directory, id)).mode & 0o777, 0o600);

    const { stream, size } = await store.get(stored.location);
    assert.equal(size, data.length);
    assert.ok((await readAll(stream)).equals(data));
    assert.equal(await store.exists(stored.location), true);
    assert.equal(await store.bytesUsed(), data.length);
  });

  test('another os_hash algorithm; a Node Readable and string chunks as sources', async () => {
    const store = freshStore();
    const data = randomBytes(200_000);
    const stored = await store.add(imageId(), Readable.from(chunked(data)), { hashAlgo: 'sha256', expectedSize: data.length });
    assert.equal(stored.osHashAlgo, 'sha256');
    assert.equal(stored.osHashValue, createHash('sha256').update(data).digest('hex'));

    const text = await store.add(imageId(), Readable.from(['hello ', 'world'], { objectMode: true }));
    assert.equal(text.checksum, md5(Buffer.from('hello world')));
    await assert.rejects(store.add(imageId(), chunked(data), { hashAlgo: 'nope' }), StoreError);
  });

  test('recognises a qcow2 upload and its virtual size', async () => {
    const store = freshStore();
    const stored = await store.add(imageId(), chunked(makeQcow2(1024 ** 3)));
    assert.equal(stored.detectedFormat, 'qcow2');
    assert.equal(stored.virtualSize, 1024 ** 3);
  });

  test('an empty image', async () => {
    const store = freshStore();
    const stored = await store.add(imageId(), chunked(Buffer.alloc(0)), { expectedSize: 0 });
    assert.equal(stored.size, 0);
    assert.equal(stored.checksum, md5(Buffer.alloc(0)));
    const { stream, size } = await store.get(stored.location);
    assert.equal(size, 0);
    assert.equal((await readAll(stream)).length, 0);
  });

  test('range get: inclusive ranges, an end past the data clipped, a start past it refused', async () => {
    const store = freshStore();
    const data = randomBytes(5 * MiB);
    const { location } = await store.add(imageId(), chunked(data));
    for (const [start, end] of [[0, 0], [0, 99], [1, MiB], [MiB - 1, 3 * MiB + 7], [data.length - 1, data.length - 1]]) {
      const { stream, size } = await store.get(location, { start: start!, end: end! });
      assert.equal(size, end! - start! + 1);
      assert.ok((await readAll(stream)).equals(data.subarray(start!, end! + 1)), `${start}-${end}`);
    }
    const clipped = await store.get(location, { start: data.length - 10, end: data.length + 1000 });
    assert.equal(clipped.size, 10);
    assert.ok((await readAll(clipped.stream)).equals(data.subarray(data.length - 10)));
    await assert.rejects(store.get(location, { start: data.length, end: data.length + 5 }), StoreInvalidRange);
    await assert.rejects(store.get(location, { start: 10, end: 5 }), StoreInvalidRange);
  });

  test('data shorter than expectedSize: StoreSizeMismatch, nothing left in the directory', async () => {
    const store = freshStore();
    const data = randomBytes(2 * MiB);
    await assert.rejects(store.add(imageId(), chunked(data), { expectedSize: data.length + 1 }), StoreSizeMismatch);
    assert.deepEqual(listing(store), []);
  });

  test('data longer than expectedSize: StoreSizeMismatch as soon as it is crossed, nothing left', async () => {
    const store = freshStore();
    const { state, source } = counted(100, 64 * 1024);
    await assert.rejects(store.add(imageId(), source, { expectedSize: 10 * 64 * 1024 + 1 }), (err: unknown) => {
      assert.ok(err instanceof StoreSizeMismatch);
      assert.equal(err.expected, 10 * 64 * 1024 + 1);
      return true;
    });
    assert.equal(state.pulled, 11, 'stopped at the chunk that crossed the size');
    assert.deepEqual(listing(store), []);
  });

  test('a source that errors halfway (client disconnect): the same error, nothing left', async () => {
    const store = freshStore();
    const disconnect = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    async function* source() {
      for (let i = 0; i < 50; i++) yield randomBytes(64 * 1024);
      throw disconnect;
    }
    await assert.rejects(store.add(imageId(), source()), (err) => err === disconnect);
    assert.deepEqual(listing(store), []);

    // The same through a Node stream destroyed mid-way, as an IncomingMessage is on disconnect.
    const readable = new Readable({ read() {} });
    readable.push(randomBytes(MiB));
    setTimeout(() => readable.destroy(disconnect), 20);
    await assert.rejects(store.add(imageId(), readable), (err) => err === disconnect);
    assert.deepEqual(listing(store), []);
  });

  test('maxSize exceeded: StoreQuotaExceeded as soon as it is crossed, the rest unread, nothing left', async () => {
    const store = freshStore();
    const { state, source } = counted(1000, 64 * 1024);
    await assert.rejects(store.add(imageId(), source, { maxSize: 5 * 64 * 1024 }), StoreQuotaExceeded);
    assert.equal(state.pulled, 6);
    assert.deepEqual(listing(store), []);

    // Exactly maxSize is allowed.
    const exact = counted(5, 64 * 1024);
    await store.add(imageId(), exact.source, { maxSize: 5 * 64 * 1024 });

    // An announced size above the quota fails before a byte is read or a file created.
    const other = freshStore();
    const announced = counted(10, 1024);
    await assert.rejects(other.add(imageId(), announced.source, { maxSize: 1000, expectedSize: 10 * 1024 }), StoreQuotaExceeded);
    assert.equal(announced.state.pulled, 0);
  });

  test("a failed add leaves the caller's stream alone, so the API can still answer on it", async () => {
    const store = freshStore();
    const readable = Readable.from(counted(100, 64 * 1024).source, { objectMode: false });
    await assert.rejects(store.add(imageId(), readable, { maxSize: 64 * 1024 }), StoreQuotaExceeded);
    assert.equal(readable.destroyed, false);
    readable.destroy();
  });

  test('abort: a stalled upload is given up at once, nothing left', async () => {
    const store = freshStore();
    const readable = new Readable({ read() {} });
    readable.push(randomBytes(MiB)); // then nothing more: a client that went quiet
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await assert.rejects(store.add(imageId(), readable, { signal: controller.signal }), { name: 'AbortError' });
    assert.deepEqual(listing(store), []);
    readable.destroy();
  });

  test('refuses to overwrite an existing image (Glance: Duplicate)', async () => {
    const store = freshStore();
    const id = imageId();
    await store.add(id, chunked(randomBytes(1000)));
    const second = counted(3, 10);
    await assert.rejects(store.add(id, second.source), StoreDuplicate);
    assert.equal(second.state.pulled, 0);
    assert.deepEqual(listing(store), [id]);
  });

  test('delete is idempotent; a deleted image is not found', async () => {
    const store = freshStore();
    const { location } = await store.add(imageId(), chunked(randomBytes(1000)));
    await store.delete(location);
    await store.delete(location);
    assert.deepEqual(listing(store), []);
    assert.equal(await store.exists(location), false);
    await assert.rejects(store.get(location), StoreNotFound);
  });

  test('locations outside its directory are refused (path traversal)', async () => {
    const store = freshStore();
    await store.add(imageId(), chunked(randomBytes(10)));
    const secret = join(root, 'secret');
    writeFileSync(secret, 'top secret');
    const bad = [
      `file://${store.directory}/../../secret`,
      `file://${secret}`,
      `file://${store.directory}`,
      `file://${store.directory}/`,
      `file://${store.directory}/sub/${imageId()}`,
      `file://${store.directory}/.${imageId()}.abcd.tmp`,
      `file://images/${imageId()}`,
      `${store.directory}/${imageId()}`,
      `swift+config://local/glance/${imageId()}`,
      `file://${store.directory}/x\0`,
    ];
    for (const location of bad) {
      assert.equal(store.ownsLocation(location), false, location);
      await assert.rejects(store.get(location), StoreError, location);
      await assert.rejects(store.delete(location), StoreError, location);
      await assert.rejects(store.exists(location), StoreError, location);
    }
    assert.equal(statSync(secret).size, 10);
    assert.equal(store.ownsLocation(`file://${store.directory}/${imageId()}`), true);
  });

  test('invalid image ids are refused before anything is written', async () => {
    const store = freshStore();
    for (const id of ['', '../x', 'a/b', '.hidden', 'x'.repeat(200)]) {
      await assert.rejects(store.add(id, chunked(randomBytes(10))), StoreError, id);
    }
  });

  test('sweepTemporaryFiles removes old leftovers of dead uploads only', async () => {
    const store = freshStore();
    const id = imageId();
    await store.add(id, chunked(randomBytes(10)));
    const old = `.${imageId()}.0123456789abcdef.tmp`;
    const fresh = `.${imageId()}.fedcba9876543210.tmp`;
    writeFileSync(join(store.directory, old), 'x');
    writeFileSync(join(store.directory, fresh), 'x');
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    utimesSync(join(store.directory, old), twoDaysAgo, twoDaysAgo);
    assert.deepEqual(await store.sweepTemporaryFiles(), [old]);
    assert.deepEqual(listing(store), [fresh, id].sort());
  });

  test('20 MiB of random data round trip', async () => {
    const store = freshStore();
    const data = randomBytes(20 * MiB);
    const stored = await store.add(imageId(), Readable.from(chunked(data), { objectMode: false }), { expectedSize: data.length });
    assert.equal(stored.checksum, md5(data));
    assert.equal(stored.osHashValue, sha512(data));
    assert.ok((await readAll((await store.get(stored.location)).stream)).equals(data));
  });

  test('memory: with an abort signal (as the API always passes), chunks already written are not kept', async (t) => {
    // Fresh buffers per chunk, as a socket delivers them: they are garbage once written, unless
    // something keeps them reachable until the upload ends.
    const store = freshStore();
    const total = 384 * MiB;
    let peak = 0;
    async function* generate() {
      for (let sent = 0; sent < total; sent += MiB) {
        if (sent % (16 * MiB) === 0) peak = Math.max(peak, process.memoryUsage().rss);
        yield Buffer.alloc(MiB, ((sent / MiB) & 0xff) | 1); // non-zero: pages really touched
      }
    }
    const before = process.memoryUsage().rss;
    const stored = await store.add(imageId(), Readable.from(generate(), { objectMode: false }), { expectedSize: total, signal: new AbortController().signal });
    peak = Math.max(peak, process.memoryUsage().rss);
    const growth = peak - before;
    t.diagnostic(`rss growth ${(growth / MiB).toFixed(1)} MiB`);
    assert.equal(stored.size, total);
    assert.ok(growth < 192 * MiB, `rss grew by ${(growth / MiB).toFixed(1)} MiB for a ${total / MiB} MiB image`);
  });

  test('memory: a 256 MiB upload generated on the fly does not grow rss by the image size', async (t) => {
    const store = freshStore();
    const total = 256 * MiB;
    const chunk = 64 * 1024;
    // A few buffers refilled in turn: little garbage of our own, so rss shows what the store
    // holds; and since they are reused, the content check below also proves the store copies.
    const ring = Array.from({ length: 4 }, () => Buffer.allocUnsafe(chunk));
    const hash = createHash('md5');
    let peak = 0;
    async function* generate() {
      for (let sent = 0, i = 0; sent < total; sent += chunk, i++) {
        const buf = randomFillSync(ring[i % ring.length]!);
        hash.update(buf);
        if (sent % (4 * MiB) === 0) peak = Math.max(peak, process.memoryUsage().rss);
        yield buf;
      }
    }
    const before = process.memoryUsage().rss;
    const stored = await store.add(imageId(), generate(), { expectedSize: total });
    peak = Math.max(peak, process.memoryUsage().rss);
    const growth = peak - before;
    t.diagnostic(`rss growth ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(growth < 64 * MiB, `rss grew by ${(growth / MiB).toFixed(1)} MiB`);

    const expected = hash.digest('hex');
    assert.equal(stored.size, total);
    assert.equal(stored.checksum, expected);
    const readBack = createHash('md5');
    for await (const part of (await store.get(stored.location)).stream) readBack.update(part as Buffer);
    assert.equal(readBack.digest('hex'), expected, 'the file holds what was sent');
    await store.delete(stored.location);
  });
});
