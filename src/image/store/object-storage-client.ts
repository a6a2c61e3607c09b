// The little an image store needs from an object storage service (Swift's object API).
// The Object Storage service implements it with its REST client; tests use an in-memory fake.
import type { ByteRange } from './types.ts';

export interface ObjectInfo {
  /** Bytes of the object (for a manifest written by us: the manifest's own bytes). */
  size: number;
  etag?: string;
  contentType?: string;
}

export interface ListedObject {
  name: string;
  /** when the object was last written, ms since the epoch */
  lastModified: number;
}

export interface ObjectStorageClient {
  /** Creates the container if missing (Swift: PUT on the container; idempotent). */
  ensureContainer(container: string): Promise<void>;

  /**
   * Stores `body` as the object. All or nothing, as a Swift PUT is: if `body` errors or is
   * destroyed, or the length differs from `contentLength`, the put rejects and no object
   * (nor a change to an existing one) becomes visible. Resolves with the object's etag.
   * Without `contentLength` the body goes chunked.
   */
  putObject(
    container: string,
    name: string,
    body: NodeJS.ReadableStream,
    opts?: { contentLength?: number; contentType?: string },
  ): Promise<{ etag: string }>;

  /** The object's bytes, or the inclusive range of them (already clipped by the caller). Rejects when missing. */
  getObject(container: string, name: string, range?: ByteRange): Promise<{ stream: NodeJS.ReadableStream; size: number }>;

  /** A missing object is not an error. */
  deleteObject(container: string, name: string): Promise<void>;

  /** null when the object does not exist. */
  headObject(container: string, name: string): Promise<ObjectInfo | null>;

  /** One page of the container's objects in name order, after `marker`; an empty page is the end (a missing container lists nothing). */
  listObjects(container: string, opts?: { marker?: string }): Promise<ListedObject[]>;
}
