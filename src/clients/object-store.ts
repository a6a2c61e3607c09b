// A typed client of the Object Storage API (Swift v1) for services, the CLI and tests. It is
// bound to one account: its base URL is the catalog's object-store endpoint with the project
// filled in (http://host:8080/v1/AUTH_<project id>). Object data streams both ways over
// node:http: a Buffer goes with its Content-Length, a stream chunked unless a length is given,
// and a download is handed back as the response stream itself.
//
// Every call but request() and send() throws an ObjectStoreError for a status outside 2xx,
// except where said (headObject: null when missing; deleteObject: done when missing).
//
// The image service's object-store backend reaches its account through this client (see
// src/image/store/service-account.ts).
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class ObjectStoreError extends Error {
  override name = 'ObjectStoreError';

  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    /** the response body as text (Swift's error pages are short) */
    readonly body: string,
    readonly headers: IncomingHttpHeaders,
  ) {
    super(`${method} ${path} → ${status}${body ? `: ${body.slice(0, 300)}` : ''}`);
  }
}

export type ObjectData = Buffer | Uint8Array | string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

export interface RequestOptions {
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  body?: ObjectData;
  /** announced Content-Length of a stream body; without it a stream goes chunked */
  contentLength?: number;
}

export interface ListingOptions {
  prefix?: string;
  delimiter?: string;
  marker?: string;
  endMarker?: string;
  limit?: number;
  reverse?: boolean;
}

export interface ContainerEntry {
  name: string;
  count: number;
  bytes: number;
  last_modified?: string;
}

export type ObjectEntry =
  | { name: string; hash: string; bytes: number; content_type: string; last_modified: string }
  | { subdir: string };

export interface AccountInfo {
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
  /** X-Account-Meta-* by their lower-case suffix */
  metadata: Record<string, string>;
  headers: IncomingHttpHeaders;
}

export interface ContainerInfo {
  objectCount: number;
  bytesUsed: number;
  /** X-Container-Read / X-Container-Write, shown to the account's owner only */
  read?: string;
  write?: string;
  metadata: Record<string, string>;
  headers: IncomingHttpHeaders;
}

export interface ObjectInfo {
  size: number;
  etag?: string;
  contentType?: string;
  lastModified?: string;
  metadata: Record<string, string>;
  headers: IncomingHttpHeaders;
}

export interface PutObjectOptions {
  contentLength?: number;
  contentType?: string;
  /** anything else: X-Object-Meta-*, ETag, X-Delete-After, ... */
  headers?: Record<string, string>;
}

export interface DownloadedObject {
  /** 200, or 206 for a range */
  status: number;
  stream: IncomingMessage;
  /** bytes the stream holds */
  size: number;
  headers: IncomingHttpHeaders;
}

/** An object name keeps its slashes; every other character is %-escaped. */
export function objectPath(container: string, name?: string): string {
  let path = `/${encodeURIComponent(container)}`;
  if (name !== undefined) path += `/${name.split('/').map(encodeURIComponent).join('/')}`;
  return path;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

const count = (headers: IncomingHttpHeaders, name: string) => Number(header(headers, name) ?? 0);

function metadataOf(headers: IncomingHttpHeaders, kind: 'account' | 'container' | 'object'): Record<string, string> {
  const prefix = `x-${kind}-meta-`;
  const found: Record<string, string> = {};
  for (const name of Object.keys(headers)) if (name.startsWith(prefix)) found[name.slice(prefix.length)] = header(headers, name)!;
  return found;
}

/** Fails a body whose length is not the one announced, so a short upload never becomes an object. */
class LengthCheck extends Transform {
  private seen = 0;

  constructor(private readonly expected: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expected) done(new Error(`body longer than the announced ${this.expected} bytes`));
    else done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.seen === this.expected ? null : new Error(`body of ${this.seen} bytes, ${this.expected} announced`));
  }
}

export class ObjectStoreClient {
  constructor(
    /** the account's URL: http://host:8080/v1/AUTH_<project id> */
    readonly baseUrl: string,
    public token?: string,
  ) {}

  /**
   * Sends one request and resolves with the response once its head arrived, whatever the
   * status; the caller reads or discards the body. `path` is below the account: '', '/c', '/c/o'
   * (already escaped; see objectPath).
   */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const url = new URL(`${this.baseUrl.replace(/\/+$/, '')}${path}`);
    for (const [key, value] of Object.entries(opts.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    // lower case, so a caller's `Content-Type` replaces our default rather than doubling it
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers[name.toLowerCase()] = value;
    if (this.token && headers['x-auth-token'] === undefined) headers['x-auth-token'] = this.token;
    const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    if (body instanceof Uint8Array) headers['content-length'] = String(body.byteLength);
    else if (body !== undefined) {
      if (opts.contentLength !== undefined) headers['content-length'] = String(opts.contentLength);
      else headers['transfer-encoding'] = 'chunked';
    } else if (method === 'PUT' || method === 'POST') headers['content-length'] ??= '0';
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = send(url, { method, headers }, (res) => {
        answered = true;
        resolve(res);
      });
      req.on('error', reject);
      if (body === undefined || body instanceof Uint8Array) {
        req.end(body);
        return;
      }
      const source = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>, { objectMode: false });
      const sent = opts.contentLength !== undefined ? pipeline(source, new LengthCheck(opts.contentLength), req) : pipeline(source, req);
      // A body that fails midway aborts the request, so the server stores nothing. Once the
      // server has answered (a 401 before reading the body), its answer is what counts.
      sent.catch((err) => {
        if (answered) return;
        req.destroy(err);
        reject(err);
      });
    });
  }

  /** request() with the body read: the status, headers and body text, whatever the status. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    const res = await this.request(method, path, opts);
    return { status: res.statusCode ?? 0, headers: res.headers, body: await text(res) };
  }

  private async call(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    const res = await this.send(method, path, opts);
    if (res.status < 200 || res.status >= 300) throw new ObjectStoreError(res.status, method, path || '/', res.body, res.headers);
    return res;
  }

  private async listing<T>(path: string, opts: ListingOptions): Promise<T[]> {
    const res = await this.call('GET', path, {
      query: { format: 'json', prefix: opts.prefix, delimiter: opts.delimiter, marker: opts.marker, end_marker: opts.endMarker, limit: opts.limit, reverse: opts.reverse },
      headers: { accept: 'application/json' },
    });
    return res.status === 204 || res.body === '' ? [] : (JSON.parse(res.body) as T[]);
  }

  // --- the account

  async headAccount(): Promise<AccountInfo> {
    const { headers } = await this.call('HEAD', '');
    return {
      containerCount: count(headers, 'x-account-container-count'),
      objectCount: count(headers, 'x-account-object-count'),
      bytesUsed: count(headers, 'x-account-bytes-used'),
      metadata: metadataOf(headers, 'account'),
      headers,
    };
  }

  /** One page of the account's containers (at most 10,000, or opts.limit); page on with opts.marker. */
  listContainers(opts: ListingOptions = {}): Promise<ContainerEntry[]> {
    return this.listing('', opts);
  }

  async postAccount(headers: Record<string, string>): Promise<void> {
    await this.call('POST', '', { headers });
  }

  // --- containers

  /** 201 when made, 202 when it existed (its metadata updated). */
  async putContainer(container: string, headers: Record<string, string> = {}): Promise<number> {
    return (await this.call('PUT', objectPath(container), { headers })).status;
  }

  /** Makes the container if missing. */
  async ensureContainer(container: string): Promise<void> {
    await this.putContainer(container);
  }

  async headContainer(container: string): Promise<ContainerInfo> {
    const { headers } = await this.call('HEAD', objectPath(container));
    return {
      objectCount: count(headers, 'x-container-object-count'),
      bytesUsed: count(headers, 'x-container-bytes-used'),
      read: header(headers, 'x-container-read'),
      write: header(headers, 'x-container-write'),
      metadata: metadataOf(headers, 'container'),
      headers,
    };
  }

  /** One page of the container's objects (and `subdir` entries with a delimiter). */
  listObjects(container: string, opts: ListingOptions = {}): Promise<ObjectEntry[]> {
    return this.listing(objectPath(container), opts);
  }

  async postContainer(container: string, headers: Record<string, string>): Promise<void> {
    await this.call('POST', objectPath(container), { headers });
  }

  /** 409 (an ObjectStoreError) while it holds objects. */
  async deleteContainer(container: string): Promise<void> {
    await this.call('DELETE', objectPath(container));
  }

  // --- objects

  /**
   * Stores the object, all or nothing: a stream that errors, or whose length differs from
   * opts.contentLength, aborts the upload and rejects. Resolves with the stored object's etag.
   */
  async putObject(container: string, name: string, body: ObjectData, opts: PutObjectOptions = {}): Promise<{ etag: string }> {
    const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/octet-stream', ...opts.headers };
    const res = await this.call('PUT', objectPath(container, name), { headers, body, contentLength: opts.contentLength });
    return { etag: (header(res.headers, 'etag') ?? '').replace(/^"|"$/g, '') };
  }

  /**
   * The object's bytes as a stream, or the inclusive byte range of them (a 206); the caller
   * reads or destroys the stream.
   */
  async getObject(container: string, name: string, range?: { start: number; end: number }, opts: { headers?: Record<string, string> } = {}): Promise<DownloadedObject> {
    const headers: Record<string, string> = { ...opts.headers };
    if (range) headers.range = `bytes=${range.start}-${range.end}`;
    const path = objectPath(container, name);
    const res = await this.request('GET', path, { headers });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw new ObjectStoreError(status, 'GET', path, await text(res), res.headers);
    return { status, stream: res, size: count(res.headers, 'content-length'), headers: res.headers };
  }

  /** The whole object in memory (small objects). */
  async download(container: string, name: string): Promise<Buffer> {
    const { stream } = await this.getObject(container, name);
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  /** null when the object does not exist. */
  async headObject(container: string, name: string): Promise<ObjectInfo | null> {
    const path = objectPath(container, name);
    const res = await this.send('HEAD', path);
    if (res.status === 404) return null;
    if (res.status < 200 || res.status >= 300) throw new ObjectStoreError(res.status, 'HEAD', path, res.body, res.headers);
    return {
      size: count(res.headers, 'content-length'),
      etag: header(res.headers, 'etag')?.replace(/^"|"$/g, ''),
      contentType: header(res.headers, 'content-type'),
      lastModified: header(res.headers, 'last-modified'),
      metadata: metadataOf(res.headers, 'object'),
      headers: res.headers,
    };
  }

  /** Replaces the object's metadata (X-Object-Meta-*, Content-Type, X-Delete-At ...). */
  async postObject(container: string, name: string, headers: Record<string, string>): Promise<void> {
    await this.call('POST', objectPath(container, name), { headers });
  }

  /** Deletes the object; one already gone is not an error (a retried delete succeeds). */
  async deleteObject(container: string, name: string): Promise<void> {
    const path = objectPath(container, name);
    const res = await this.send('DELETE', path);
    if (res.status !== 404 && (res.status < 200 || res.status >= 300)) throw new ObjectStoreError(res.status, 'DELETE', path, res.body, res.headers);
  }

  /** A server-side copy (PUT with X-Copy-From); metadata given here is added to the source's. */
  async copyObject(from: { container: string; name: string }, to: { container: string; name: string }, headers: Record<string, string> = {}): Promise<{ etag: string }> {
    const res = await this.call('PUT', objectPath(to.container, to.name), {
      headers: { 'x-copy-from': objectPath(from.container, from.name), ...headers },
    });
    return { etag: (header(res.headers, 'etag') ?? '').replace(/^"|"$/g, '') };
  }
}

async function text(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
