// The contract between the image API and its data backends (Glance's glance_store drivers).
// The API owns image records and decides which store; a store only moves bytes and reports
// what it saw: size, checksums, and the disk format the first bytes reveal.

/** What add() wrote: everything the API records on the image (size, checksum, os_hash_*, virtual_size). */
export interface StoredImage {
  /** Where the data is, in the store's own URL form; the API keeps it in the image's locations. */
  location: string;
  size: number;
  /** md5 hex, Glance's legacy `checksum`. */
  checksum: string;
  /** The `os_hash_algo` used, e.g. 'sha512'. */
  osHashAlgo: string;
  /** hex */
  osHashValue: string;
  /** From the disk header (qcow2, vmdk, vhd, iso); null when it cannot be known (raw, vhdx). */
  virtualSize: number | null;
  /** From the disk header; null when unrecognised (raw or anything else). */
  detectedFormat: string | null;
}

export interface AddOptions {
  /** From Content-Length or the image's size: data shorter or longer fails the add. */
  expectedSize?: number;
  /** Quota headroom: as soon as more bytes arrive the add fails with StoreQuotaExceeded, unread data stays unread. */
  maxSize?: number;
  /** The os_hash algorithm, any node:crypto hash name; default 'sha512' as Glance's hashing_algorithm. */
  hashAlgo?: string;
  signal?: AbortSignal;
}

export type ByteRange = { start: number; end: number };

export interface ImageStore {
  /** As in Glance multi-store `enabled_backends = local:file`: 'local'. */
  readonly id: string;
  readonly type: 'file' | 'object-store';
  readonly description: string;
  /** Backend details for /v2/info/stores-detail (Glance shows e.g. data_dir, chunk_size). */
  readonly properties: Readonly<Record<string, string | number | boolean>>;

  /**
   * Streams `data` in, computing md5 + the os_hash and inspecting the first bytes for the
   * disk format and virtual size. Atomic: the data becomes visible at its location only
   * when the stream ended normally and the size checks passed; on ANY failure (stream
   * error, client disconnect, abort, size mismatch, quota) what was written is removed and
   * the error rethrown.
   *
   * add() never destroys `data`: on failure it just stops reading, so an HTTP handler can
   * still answer (413, 400) on the request it came from.
   */
  add(imageId: string, data: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, opts?: AddOptions): Promise<StoredImage>;

  /**
   * The whole object, or the inclusive byte range (an `end` past the data is clipped, as
   * HTTP does); `size` is the number of bytes the stream will yield.
   * Missing data: StoreNotFound. A range starting past the end: StoreInvalidRange.
   */
  get(location: string, range?: ByteRange): Promise<{ stream: NodeJS.ReadableStream; size: number }>;

  /** Removes the data; a missing object is not an error. */
  delete(location: string): Promise<void>;

  exists(location: string): Promise<boolean>;

  /** Whether the location is in this store's form and names this store (the registry asks each store). */
  ownsLocation(location: string): boolean;

  /** Bytes the store's images use, for stores-detail style reporting; absent when the backend cannot tell cheaply. */
  bytesUsed?(): Promise<number>;
}
