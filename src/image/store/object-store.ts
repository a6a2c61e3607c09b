/**
 * An image store on object storage (Glance's swift store), written against the small
 * ObjectStorageClient interface so it runs on Tenrec's Object Storage service, on a real
 * Swift, or on a fake in tests.
 *
 * Location: `swift+config://<store id>/<container>/<image id>`. As in Glance's swift+config
 * form, the location names a configured store (here by its id) rather than carrying
 * credentials or an endpoint; the container is the store's own (Glance's default "glance").
 *
 * Layout, as Glance lays it out:
 * - when the size is announced and at most `largeObjectSize` (5 GiB, Swift's object limit),
 *   the image is one object named by its id;
 * - otherwise it goes in segments of `segmentSize` (200 MiB) named
 *   `<image id>-<upload token>-<00001...>`, then a manifest object named by the image id
 *   lists them (manifest.ts). The token keeps a retried or concurrent upload from ever
 *   mixing its segments with another's.
 *
 * Atomicity comes from the object service: a put appears whole or not at all, and the
 * object named by the image id (plain or manifest) is written last. A failed add deletes the
 * segments it stored; the segments of an add cut short by a dying process are found later by
 * sweepOrphanSegments. Delete removes the segments first and the manifest last, so an
 * interrupted delete can simply be run again.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StoreDuplicate, StoreError, StoreNotFound, StoreUnavailable } from './errors.ts';
import { checkAddOptions, ingest } from './ingest.ts';
import { decodeManifest, encodeManifest, MANIFEST_CONTENT_TYPE, MAX_MANIFEST_BYTES, type Segment } from './manifest.ts';
import { checkImageId, isImageId } from './names.ts';
import type { ObjectStorageClient } from './object-storage-client.ts';
import { clipRange } from './range.ts';
import { SegmentWriter } from './segment-writer.ts';
import type { AddOptions, ByteRange, ImageStore, StoredImage } from './types.ts';

export type { ObjectInfo, ObjectStorageClient } from './object-storage-client.ts';

export interface ObjectStorageStoreOptions {
  id: string;
  client: ObjectStorageClient;
  /** Glance's swift_store_container. */
  container?: string;
  description?: string;
  /** Glance's swift_store_large_object_chunk_size. */
  segmentSize?: number;
  /** Glance's swift_store_large_object_size: announced sizes up to this go as one object. */
  largeObjectSize?: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_SEGMENT_SIZE = 200 * MiB;
export const DEFAULT_LARGE_OBJECT_SIZE = 5 * 1024 * MiB;
const SCHEME = 'swift+config://';
const NAME = /^[A-Za-z0-9_.-]+$/;
/** <image id>-<upload token>-<number>: a segment's name */
const SEGMENT = /^(.+)-[0-9a-f]{12}-\d{5,}$/;
/** Segment deletes in flight at once: fast for big images, gentle on the object service. */
const DELETE_CONCURRENCY = 8;

export class ObjectStorageStore implements ImageStore {
  readonly id: string;
  readonly type = 'object-store' as const;
  readonly description: string;
  readonly container: string;
  readonly properties: Readonly<Record<string, string | number | boolean>>;
  private readonly client: ObjectStorageClient;
  private readonly segmentSize: number;
  private readonly largeObjectSize: number;

  constructor(options: ObjectStorageStoreOptions) {
    this.id = options.id;
    this.container = options.container ?? 'glance';
    if (!NAME.test(this.id) || !NAME.test(this.container)) throw new StoreError('object store id and container must be plain names');
    this.client = options.client;
    this.segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.largeObjectSize = options.largeObjectSize ?? DEFAULT_LARGE_OBJECT_SIZE;
    if (!(Number.isSafeInteger(this.segmentSize) && this.segmentSize > 0)) throw new RangeError('segmentSize must be a positive integer');
    this.description = options.description ?? `object storage, container ${this.container}`;
    this.properties = {
      container: this.container,
      large_object_size: this.largeObjectSize,
      large_object_chunk_size: this.segmentSize,
    };
  }

  async add(imageId: string, data: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, opts: AddOptions = {}): Promise<StoredImage> {
    checkImageId(imageId);
    checkAddOptions(opts);
    const location = this.locationOf(imageId);
    await this.call(this.client.ensureContainer(this.container));
    if (await this.call(this.client.headObject(this.container, imageId))) throw new StoreDuplicate(location);

    const single = opts.expectedSize !== undefined && opts.expectedSize <= this.largeObjectSize;
    const token = randomBytes(6).toString('hex');
    const writer = new SegmentWriter({
      client: this.client,
      container: this.container,
      nameOf: single ? () => imageId : (i) => `${imageId}-${token}-${String(i + 1).padStart(5, '0')}`,
      segmentSize: single ? Number.POSITIVE_INFINITY : this.segmentSize,
      expectedSize: opts.expectedSize,
    });
    try {
      const result = await ingest(data, opts, writer);
      const segments = await writer.finish();
      if (segments.length === 0) {
        await this.putBuffer(imageId, Buffer.alloc(0), 'application/octet-stream'); // empty image: a plain empty object
      } else if (!single) {
        await this.putBuffer(imageId, encodeManifest(this.container, segments), MANIFEST_CONTENT_TYPE);
      }
      return { location, ...result };
    } catch (err) {
      await writer.abort(err);
      throw err;
    }
  }

  async get(location: string, range?: ByteRange): Promise<{ stream: NodeJS.ReadableStream; size: number }> {
    const imageId = this.imageIdOf(location);
    const info = await this.call(this.client.headObject(this.container, imageId));
    if (!info) throw new StoreNotFound(location);
    if (info.contentType !== MANIFEST_CONTENT_TYPE) {
      if (!range) return this.call(this.client.getObject(this.container, imageId));
      return this.call(this.client.getObject(this.container, imageId, clipRange(range, info.size)));
    }

    const segments = await this.readManifest(imageId);
    const total = segments.reduce((sum, s) => sum + s.size, 0);
    const { start, end } = range ? clipRange(range, total) : { start: 0, end: total - 1 };
    const pieces: Piece[] = [];
    let offset = 0;
    for (const segment of segments) {
      const first = Math.max(start, offset);
      const last = Math.min(end, offset + segment.size - 1);
      if (first <= last) {
        const whole = first === offset && last === offset + segment.size - 1;
        pieces.push({ name: segment.name, range: whole ? undefined : { start: first - offset, end: last - offset }, length: last - first + 1 });
      }
      offset += segment.size;
    }
    const stream = Readable.from(this.concatenate(pieces), { objectMode: false, highWaterMark: MiB });
    return { stream, size: Math.max(0, end - start + 1) };
  }

  async delete(location: string): Promise<void> {
    const imageId = this.imageIdOf(location);
    const info = await this.call(this.client.headObject(this.container, imageId));
    if (!info) return;
    if (info.contentType === MANIFEST_CONTENT_TYPE) {
      const names = (await this.readManifest(imageId)).map((s) => s.name);
      const workers = Array.from({ length: Math.min(DELETE_CONCURRENCY, names.length) }, async () => {
        for (let name = names.shift(); name !== undefined; name = names.shift()) {
          await this.call(this.client.deleteObject(this.container, name));
        }
      });
      await Promise.all(workers); // segments first: if this fails the manifest still lists them for a retry
    }
    await this.call(this.client.deleteObject(this.container, imageId));
  }

  async exists(location: string): Promise<boolean> {
    return (await this.call(this.client.headObject(this.container, this.imageIdOf(location)))) !== null;
  }

  /**
   * Removes segments written before `before` that no manifest lists, of images `mayRemove`
   * agrees to (those with no transfer that could still be writing them): what an upload or
   * copy cut short by a dying process left behind. Returns the names removed.
   */
  async sweepOrphanSegments(before: Date, mayRemove: (imageId: string) => Promise<boolean>): Promise<string[]> {
    const removed: string[] = [];
    // Listings are in name order, so an image's segments come together: one image's answer at a time.
    let current: { imageId: string; keep: Set<string> | null } | undefined;
    for (let marker: string | undefined, page; (page = await this.call(this.client.listObjects(this.container, { marker }))).length > 0; ) {
      for (const { name, lastModified } of page) {
        marker = name;
        const imageId = SEGMENT.exec(name)?.[1];
        if (!imageId || !isImageId(imageId) || !(lastModified < before.getTime())) continue;
        if (current?.imageId !== imageId) current = { imageId, keep: (await mayRemove(imageId)) ? await this.listedSegments(imageId) : null };
        if (!current.keep || current.keep.has(name)) continue;
        await this.call(this.client.deleteObject(this.container, name));
        removed.push(name);
      }
    }
    return removed;
  }

  ownsLocation(location: string): boolean {
    try {
      this.imageIdOf(location);
      return true;
    } catch {
      return false;
    }
  }

  locationOf(imageId: string): string {
    return `${SCHEME}${this.id}/${this.container}/${imageId}`;
  }

  private imageIdOf(location: string): string {
    const parts = location.startsWith(SCHEME) ? location.slice(SCHEME.length).split('/') : [];
    const [storeId, container, imageId] = parts;
    if (parts.length !== 3 || storeId !== this.id || container !== this.container || !isImageId(imageId!)) {
      throw new StoreError(`location ${location} does not belong to store ${this.id}`);
    }
    return imageId!;
  }

  /** The segment names the image's manifest lists; none when it has no manifest. */
  private async listedSegments(imageId: string): Promise<Set<string>> {
    const info = await this.call(this.client.headObject(this.container, imageId));
    if (info?.contentType !== MANIFEST_CONTENT_TYPE) return new Set();
    return new Set((await this.readManifest(imageId)).map((s) => s.name));
  }

  private async readManifest(imageId: string): Promise<Segment[]> {
    const { stream } = await this.call(this.client.getObject(this.container, imageId));
    const parts: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      if (bytes > MAX_MANIFEST_BYTES) {
        (stream as Readable).destroy?.();
        throw new StoreError(`manifest of image ${imageId} is too large`);
      }
      parts.push(chunk as Buffer);
    }
    return decodeManifest(this.container, imageId, Buffer.concat(parts));
  }

  /** Streams the pieces one after the other; a segment shorter or longer than listed is an error, not silent corruption. */
  private async *concatenate(pieces: Piece[]): AsyncGenerator<Buffer> {
    for (const piece of pieces) {
      const { stream } = await this.call(this.client.getObject(this.container, piece.name, piece.range));
      let got = 0;
      for await (const chunk of stream) {
        got += (chunk as Buffer).length;
        if (got > piece.length) break;
        yield chunk as Buffer;
      }
      if (got !== piece.length) throw new StoreError(`segment ${piece.name} does not hold the ${piece.length} bytes its manifest lists`);
    }
  }

  private async putBuffer(name: string, body: Buffer, contentType: string): Promise<void> {
    await this.call(this.client.putObject(this.container, name, Readable.from([body]), { contentLength: body.length, contentType }));
  }

  /** Client failures become StoreUnavailable (503), keeping our own StoreErrors as they are. */
  private async call<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreUnavailable(`object storage: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }
}

interface Piece {
  name: string;
  range: ByteRange | undefined;
  length: number;
}
