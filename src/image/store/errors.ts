/**
 * Errors of the image stores. The API maps them to Glance's answers:
 * StoreSizeMismatch 400, StoreQuotaExceeded and StoreFull 413, StoreNotFound 404 (or
 * the image goes "killed"/unreadable), StoreDuplicate 409, StoreInvalidRange 416,
 * StoreUnavailable 503, any other StoreError 500. All are StoreError, so one `instanceof`
 * tells a store failure from a bug.
 */

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The data that arrived was not as long as announced (Content-Length or the image's size). */
export class StoreSizeMismatch extends StoreError {
  readonly expected: number;
  /** Bytes received; when the data ran long this is the count at which we stopped reading. */
  readonly got: number;
  constructor(expected: number, got: number) {
    super(got > expected ? `image data longer than the expected ${expected} bytes` : `image data is ${got} bytes, expected ${expected}`);
    this.name = 'StoreSizeMismatch';
    this.expected = expected;
    this.got = got;
  }
}

/** The upload would exceed the caller's quota headroom (`maxSize`); the rest was not read. */
export class StoreQuotaExceeded extends StoreError {
  readonly maxSize: number;
  constructor(maxSize: number) {
    super(`image data exceeds the remaining quota of ${maxSize} bytes`);
    this.name = 'StoreQuotaExceeded';
    this.maxSize = maxSize;
  }
}

/** The backend itself is out of space (ENOSPC, EDQUOT). */
export class StoreFull extends StoreError {
  constructor(message = 'image storage media is full', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreFull';
  }
}

/** No data at this location (get/exists of a deleted or never-written image). */
export class StoreNotFound extends StoreError {
  readonly location: string;
  constructor(location: string) {
    super(`no image data at ${location}`);
    this.name = 'StoreNotFound';
    this.location = location;
  }
}

/** Data for this image already exists in the store; Glance refuses to overwrite it. */
export class StoreDuplicate extends StoreError {
  constructor(location: string) {
    super(`image data already exists at ${location}`);
    this.name = 'StoreDuplicate';
  }
}

/** The requested byte range starts beyond the end of the data (HTTP 416). */
export class StoreInvalidRange extends StoreError {
  readonly size: number;
  constructor(range: { start: number; end: number }, size: number) {
    super(`range ${range.start}-${range.end} not satisfiable for ${size} bytes`);
    this.name = 'StoreInvalidRange';
    this.size = size;
  }
}

/** The backend cannot be reached or refuses service (permissions, I/O error, object server down). */
export class StoreUnavailable extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailable';
  }
}
