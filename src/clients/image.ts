// A typed client of the Image API (Glance v2) for services, the CLI and tests. JSON calls go
// through RestClient; image data goes over node:http so bodies stream both ways (a Buffer is
// sent with its Content-Length, a stream chunked unless a length is given) and so the JSON
// Patch media type of image updates can be sent as is.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, RestClient, type ApiResponse } from './http.ts';

export interface RawResponse<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T;
}

export type ImageData = Buffer | Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

export interface UploadOptions {
  /**
   * Content-Length to announce. Default: the length of a Buffer/string body; a stream is sent
   * chunked (no Content-Length) unless a number is given.
   */
  contentLength?: number | false;
  /** X-Image-Meta-Store: the store to put the data in */
  store?: string;
  /** default application/octet-stream */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface DownloadOptions {
  /** e.g. 'bytes=0-99' */
  range?: string;
  headers?: Record<string, string>;
}

export interface ImportOptions {
  stores?: string[];
  allStores?: boolean;
  allStoresMustSucceed?: boolean;
  /** X-Image-Meta-Store */
  store?: string;
}

export const JSON_PATCH = 'application/openstack-images-v2.1-json-patch';

export class ImageClient {
  readonly rest: RestClient;

  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {
    this.rest = new RestClient(baseUrl, token);
  }

  private json<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    return this.rest.send<T>(method, path, { body, token: this.token });
  }

  createImage(fields: Record<string, unknown>): Promise<ApiResponse> {
    return this.json('POST', '/v2/images', fields);
  }

  getImage(id: string): Promise<ApiResponse> {
    return this.json('GET', `/v2/images/${id}`);
  }

  deleteImage(id: string): Promise<ApiResponse> {
    return this.json('DELETE', `/v2/images/${id}`);
  }

  /** PATCH with a JSON Patch document (Glance's application/openstack-images-v2.1-json-patch). */
  async updateImage(id: string, patch: unknown[]): Promise<RawResponse> {
    return this.raw('PATCH', `/v2/images/${id}`, { body: JSON.stringify(patch), headers: { 'content-type': JSON_PATCH } });
  }

  /** PUT /v2/images/{id}/file: 204 when stored. */
  upload(id: string, data: ImageData, opts: UploadOptions = {}): Promise<RawResponse> {
    return this.send('PUT', `/v2/images/${id}/file`, data, opts);
  }

  /** PUT /v2/images/{id}/stage: 204 when staged. */
  stage(id: string, data: ImageData, opts: UploadOptions = {}): Promise<RawResponse> {
    return this.send('PUT', `/v2/images/${id}/stage`, data, opts);
  }

  /** POST /v2/images/{id}/import: 202 when accepted; the import runs in the background. */
  import(id: string, method: 'glance-direct' | 'copy-image' | string, opts: ImportOptions = {}): Promise<ApiResponse> {
    const body: Record<string, unknown> = { method: { name: method } };
    if (opts.stores) body.stores = opts.stores;
    if (opts.allStores !== undefined) body.all_stores = opts.allStores;
    if (opts.allStoresMustSucceed !== undefined) body.all_stores_must_succeed = opts.allStoresMustSucceed;
    const headers: Record<string, string> = {};
    if (opts.store) headers['x-image-meta-store'] = opts.store;
    return this.rest.send('POST', `/v2/images/${id}/import`, { body, headers, token: this.token });
  }

  /** GET /v2/images/{id}/file into memory (small images; use downloadStream for large ones). */
  async download(id: string, opts: DownloadOptions = {}): Promise<RawResponse<Buffer>> {
    const res = await this.downloadStream(id, opts);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /** GET /v2/images/{id}/file as the response stream itself. */
  downloadStream(id: string, opts: DownloadOptions = {}): Promise<IncomingMessage> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.range) headers.range = opts.range;
    return this.open('GET', `/v2/images/${id}/file`, headers, undefined);
  }

  /** Polls the image until `done` says so (e.g. an import finished); throws after `timeoutMs`. */
  async waitFor(id: string, done: (image: any) => boolean, timeoutMs = 30_000, everyMs = 50): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.getImage(id);
      if (res.status !== 200) throw new ApiError(res.status, res.body, 'GET', `/v2/images/${id}`);
      if (done(res.body)) return res.body;
      if (Date.now() > until) throw new Error(`image ${id} did not reach the expected state: ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  private send(method: string, path: string, data: ImageData, opts: UploadOptions): Promise<RawResponse> {
    const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/octet-stream', ...opts.headers };
    if (opts.store) headers['x-image-meta-store'] = opts.store;
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    if (typeof opts.contentLength === 'number') headers['content-length'] = String(opts.contentLength);
    else if (opts.contentLength !== false && body instanceof Uint8Array) headers['content-length'] = String(body.byteLength);
    else headers['transfer-encoding'] = 'chunked';
    return this.raw(method, path, { body, headers });
  }

  private async raw(method: string, path: string, opts: { body?: Uint8Array | Readable | AsyncIterable<Uint8Array> | string; headers?: Record<string, string> }): Promise<RawResponse> {
    const res = await this.open(method, path, opts.headers ?? {}, opts.body);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    if (text && (res.headers['content-type'] ?? '').includes('json')) body = JSON.parse(text);
    return { status: res.statusCode ?? 0, headers: res.headers, body };
  }

  /** Sends the request (streaming the body) and resolves with the response once its head arrived. */
  private open(method: string, path: string, headers: Record<string, string>, body: Uint8Array | Readable | AsyncIterable<Uint8Array> | string | undefined): Promise<IncomingMessage> {
    const url = new URL(`${this.baseUrl.replace(/\/+$/, '')}${path}`);
    const all: Record<string, string> = { accept: '*/*', ...headers };
    if (this.token) all['x-auth-token'] = this.token;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers: all }, resolve);
      req.on('error', reject);
      if (body === undefined) {
        req.end();
      } else if (typeof body === 'string' || body instanceof Uint8Array) {
        req.end(body);
      } else {
        // The server may answer (413, 409) before reading everything: that is not our error.
        pipeline(Readable.from(body as AsyncIterable<Uint8Array>), req).catch(() => {});
      }
    });
  }
}
