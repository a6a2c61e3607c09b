import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StoreDuplicate, StoreError, StoreInvalidRange, StoreNotFound, StoreQuotaExceeded, StoreSizeMismatch, StoreUnavailable } from './errors.ts';
import { MANIFEST_CONTENT_TYPE } from './manifest.ts';
import { ObjectStorageStore, type ObjectInfo, type ObjectStorageClient } from './object-store.ts';
import type { ByteRange } from './types.ts';

/** An in-memory object service with Swift's put semantics: a put that fails stores nothing. */
class FakeObjectStorage implements ObjectStorageClient {
  readonly containers = new Set<string>();
  readonly objects = new Map<string, { data: Buffer; contentType?: string; etag: string; lastModified: number }>();
  readonly puts: Array<{ name: string; contentLength?: number }> = [];
  /** Makes the put with this 1-based number fail after reading its body. */
  failPut?: number;

  async ensureContainer(container: string): Promise<void> {
    this.containers.add(container);
  }

  async putObject(container: string, name: string, body: NodeJS.ReadableStream, opts: { contentLength?: number; contentType?: string } = {}) {
    if (!this.containers.has(container)) throw new Error('404 no such container');
    this.puts.push({ name, contentLength: opts.contentLength });
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(Buffer.from(chunk as Buffer));
    const data = Buffer.concat(parts);
    if (opts.contentLength !== undefined && data.length !== opts.contentLength) throw new Error('499 client closed the request early');
    if (this.puts.length === this.failPut) throw new Error('503 service unavailable');
    const etag = createHash('md5').update(data).digest('hex');
    this.objects.set(`${container}/${name}`, { data, contentType: opts.contentType, etag, lastModified: Date.now() });
    return { etag };
  }

  async getObject(container: string, name: string, range?: ByteRange) {
    const object = this.objects.get(`${container}/${name}`);
    if (!object) throw new Error('404 not found');
    const data = range ? object.data.subarray(range.start, range.end + 1) : object.data;
    const chunks: Buffer[] = [];
    for (let at = 0; at < data.length; at += 1000) chunks.push(data.subarray(at, at + 1000));
    return { stream: Readable.from(chunks), size: data.length };
  }

  async deleteObject(container: string, name: string): Promise<void> {
    this.objects.delete(`${container}/${name}`);
  }

  async headObject(container: string, name: string): Promise<ObjectInfo | null> {
    const object = this.objects.get(`${container}/${name}`);
    return object ? { size: object.data.length, etag: object.etag, contentType: object.contentType } : null;
  }

  /** Pages of 3, to exercise paging. */
  async listObjects(container: string, opts: { marker?: string } = {}) {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${container}/`))
      .map(([key, o]) => ({ name: key.slice(container.length + 1), lastModified: o.lastModified }))
      .filter((o) => opts.marker === undefined || o.name > opts.marker)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .slice(0, 3);
  }

  names(): string[] {
    return [...this.objects.keys()].sort();
  }
}

const KiB = 1024;
const imageId = () => `${randomBytes(4).toString('hex')}-0000-4000-8000-${randomBytes(6).toString('hex')}`;

function setup(options: { segmentSize?: number; largeObjectSize?: number } = {}) {
  const client = new FakeObjectStorage();
  const store = new ObjectStorageStore({ id: 'swift', client, segmentSize: 64 * KiB, largeObjectSize: 256 * KiB, ...options });
  return { client, store };
}

async function* chunked(data: Buffer, size = 10_000): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('ObjectStorageStore', () => {
  test('an image of unknown size goes in segments, then a manifest; it reads back whole', async () => {
    const { client, store } = setup();
    const id = imageId();
    const data = randomBytes(4 * 64 * KiB + 17);
    const stored = await store.add(id, chunked(data));
    assert.equal(stored.location, `swift+config://swift/glance/${id}`);
    assert.equal(stored.size, data.length);
    assert.equal(stored.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(stored.osHashValue, createHash('sha512').update(data).digest('hex'));

    const segments = client.names().filter((n) => n !== `glance/${id}`);
    assert.equal(segments.length, 5);
    assert.deepEqual(segments.map((n) => client.objects.get(n)!.data.length), [65536, 65536, 65536, 65536, 17]);
    for (const name of segments) assert.match(name, new RegExp(`^glance/${id}-[0-9a-f]{12}-0000[1-5]$`));
    const manifest = client.objects.get(`glance/${id}`)!;
    assert.equal(manifest.contentType, MANIFEST_CONTENT_TYPE);
    assert.deepEqual(JSON.parse(manifest.data.toString()).map((e: { path: string }) => e.path), segments.map((n) => `/${n}`));
    assert.deepEqual(client.puts.map((p) => p.contentLength).slice(0, 5), [undefined, undefined, undefined, undefined, undefined], 'chunked: size unknown');

    const { stream, size } = await store.get(stored.location);
    assert.equal(size, data.length);
    assert.ok((await readAll(stream)).equals(data));
    assert.equal(await store.exists(stored.location), true);
  });

  test('range get across segments, inside one, on boundaries, clipped at the end', async () => {
    const { store } = setup();
    const data = randomBytes(4 * 64 * KiB + 17);
    const { location } = await store.add(imageId(), chunked(data));
    const S = 64 * KiB;
    const ranges: Array<[number, number]> = [[0, 0], [10, 20], [S - 1, S], [S - 100, 3 * S + 5], [S, 2 * S - 1], [0, data.length - 1], [4 * S, 4 * S + 16], [S + 1, data.length + 99]];
    for (const [start, end] of ranges) {
      const { stream, size } = await store.get(location, { start, end });
      const expected = data.subarray(start, Math.min(end, data.length - 1) + 1);
      assert.equal(size, expected.length, `${start}-${end}`);
      assert.ok((await readAll(stream)).equals(expected), `${start}-${end}`);
    }
    await assert.rejects(store.get(location, { start: data.length, end: data.length }), StoreInvalidRange);
  });

  test('an announced size up to largeObjectSize is one object with its exact Content-Length', async () => {
    const { client, store } = setup();
    const id = imageId();
    const data = randomBytes(200 * KiB);
    const stored = await store.add(id, chunked(data), { expectedSize: data.length });
    assert.deepEqual(client.names(), [`glance/${id}`]);
    assert.deepEqual(client.puts, [{ name: id, contentLength: data.length }]);
    assert.ok((await readAll((await store.get(stored.location)).stream)).equals(data));
    const range = await store.get(stored.location, { start: 100, end: 199 });
    assert.ok((await readAll(range.stream)).equals(data.subarray(100, 200)));
  });

  test('an announced size above largeObjectSize is segmented, each put with its length', async () => {
    const { client, store } = setup();
    const data = randomBytes(300 * KiB);
    await store.add(imageId(), chunked(data), { expectedSize: data.length });
    assert.deepEqual(client.puts.slice(0, 5).map((p) => p.contentLength), [65536, 65536, 65536, 65536, 300 * KiB - 4 * 65536]);
    assert.equal(client.puts.length, 6, 'five segments and the manifest');
    assert.equal(client.names().length, 6);
  });

  test('an empty image is one empty object', async () => {
    const { client, store } = setup();
    const stored = await store.add(imageId(), chunked(Buffer.alloc(0)));
    assert.equal(client.names().length, 1);
    assert.equal(stored.size, 0);
    assert.equal((await store.get(stored.location)).size, 0);
  });

  test('delete removes the segments and the manifest; it is idempotent', async () => {
    const { client, store } = setup();
    const { location } = await store.add(imageId(), chunked(randomBytes(10 * 64 * KiB)));
    assert.equal(client.names().length, 11);
    const other = await store.add(imageId(), chunked(randomBytes(1000)), { expectedSize: 1000 });
    await store.delete(location);
    assert.deepEqual(client.names(), [`glance/${other.location.split('/').pop()}`]);
    await store.delete(location);
    assert.equal(await store.exists(location), false);
    await assert.rejects(store.get(location), StoreNotFound);
  });

  test('a source that errors after some segments: the same error, every stored segment removed', async () => {
    const { client, store } = setup();
    const disconnect = new Error('client went away');
    async function* source() {
      yield* chunked(randomBytes(150 * KiB));
      throw disconnect;
    }
    await assert.rejects(store.add(imageId(), source()), (err) => err === disconnect);
    assert.deepEqual(client.names(), []);
  });

  test('quota and size mismatch fail without leaving objects', async () => {
    const { client, store } = setup();
    await assert.rejects(store.add(imageId(), chunked(randomBytes(300 * KiB)), { maxSize: 130 * KiB }), StoreQuotaExceeded);
    assert.deepEqual(client.names(), []);
    await assert.rejects(store.add(imageId(), chunked(randomBytes(100 * KiB)), { expectedSize: 100 * KiB + 1 }), StoreSizeMismatch);
    assert.deepEqual(client.names(), []);
    await assert.rejects(store.add(imageId(), chunked(randomBytes(400 * KiB)), { expectedSize: 300 * KiB }), StoreSizeMismatch);
    assert.deepEqual(client.names(), []);
  });

  test('a failing object service: StoreUnavailable, segments already stored removed', async () => {
    const { client, store } = setup();
    client.failPut = 3;
    await assert.rejects(store.add(imageId(), chunked(randomBytes(5 * 64 * KiB))), StoreUnavailable);
    assert.deepEqual(client.names(), []);
    // The manifest put failing is cleaned up the same way.
    const again = setup();
    again.client.failPut = 3;
    await assert.rejects(again.store.add(imageId(), chunked(randomBytes(2 * 64 * KiB))), StoreUnavailable);
    assert.deepEqual(again.client.names(), []);
  });

  test('refuses to overwrite an existing image', async () => {
    const { store } = setup();
    const id = imageId();
    await store.add(id, chunked(randomBytes(10)));
    await assert.rejects(store.add(id, chunked(randomBytes(10))), StoreDuplicate);
  });

  test('a segment that no longer matches its manifest fails the read instead of corrupting it', async () => {
    const { client, store } = setup();
    const { location } = await store.add(imageId(), chunked(randomBytes(3 * 64 * KiB)));
    const segment = client.names().find((n) => n.endsWith('-00002'))!;
    client.objects.get(segment)!.data = randomBytes(1000);
    await assert.rejects(readAll((await store.get(location)).stream), StoreError);
  });

  test('only its own locations: store id, container and an image id', async () => {
    const { store } = setup();
    const id = imageId();
    assert.equal(store.ownsLocation(`swift+config://swift/glance/${id}`), true);
    for (const location of [
      `swift+config://other/glance/${id}`,
      `swift+config://swift/images/${id}`,
      `swift+config://swift/glance/${id}-abc-00001/x`,
      `swift+config://swift/glance/../${id}`,
      `swift+config://swift/glance/`,
      `file:///var/lib/glance/images/${id}`,
    ]) {
      assert.equal(store.ownsLocation(location), false, location);
      await assert.rejects(store.get(location), StoreError, location);
      await assert.rejects(store.delete(location), StoreError, location);
    }
  });

  test('sweepOrphanSegments removes what a dead upload left, never a listed segment, a newer one or an image it may not touch', async () => {
    const { client, store } = setup();
    const S = 64 * KiB;
    // a complete segmented image, and an older leftover attempt of the same image
    const whole = imageId();
    await store.add(whole, chunked(randomBytes(3 * S)));
    const leftover = `${whole}-aaaaaaaaaaaa-00001`;
    await client.putObject('glance', leftover, Readable.from([randomBytes(10)]));
    // a dead upload of an image with no manifest at all
    const dead = imageId();
    for (const n of ['00001', '00002']) await client.putObject('glance', `${dead}-bbbbbbbbbbbb-${n}`, Readable.from([randomBytes(10)]));
    // segments of an image whose transfer may still be running elsewhere
    const busy = imageId();
    await client.putObject('glance', `${busy}-cccccccccccc-00001`, Readable.from([randomBytes(10)]));
    const listedBefore = client.names().filter((n) => n.startsWith(`glance/${whole}`) && n !== `glance/${leftover}`);

    const cutoff = new Date(Date.now() + 1);
    await new Promise((r) => setTimeout(r, 5));
    // written after the cutoff: an upload that started since
    const fresh = `${dead}-dddddddddddd-00001`;
    await client.putObject('glance', fresh, Readable.from([randomBytes(10)]));

    const asked: string[] = [];
    const removed = await store.sweepOrphanSegments(cutoff, async (id) => {
      asked.push(id);
      return id !== busy;
    });
    assert.deepEqual(removed.sort(), [leftover, `${dead}-bbbbbbbbbbbb-00001`, `${dead}-bbbbbbbbbbbb-00002`].sort());
    assert.deepEqual(new Set(asked), new Set([whole, dead, busy]));
    for (const name of [...listedBefore, `glance/${busy}-cccccccccccc-00001`, `glance/${fresh}`]) assert.ok(client.objects.has(name), name);
    assert.ok((await readAll((await store.get(store.locationOf(whole))).stream)).length === 3 * S, 'the complete image still reads whole');
    assert.deepEqual(await store.sweepOrphanSegments(cutoff, async (id) => id !== busy), [], 'nothing left to remove');
  });
});
