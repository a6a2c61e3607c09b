// The proxy as Swift builds it: one app (the controllers) wrapped in middlewares, each a
// function from a request to a response. Middlewares are small and testable alone: a test
// hands one a `next` handler and looks at what comes out. Subrequests (SLO segments, version
// copies, container-info lookups) go through the same chain, below the middleware that made them.
import type { Readable } from 'node:stream';
import type { RequestContext } from '../core/auth/index.ts';

export interface SwiftRequest {
  /** upper case: GET, HEAD, PUT, POST, DELETE, COPY, OPTIONS */
  method: string;
  /** the decoded path, e.g. /v1/AUTH_abc/photos/2024/a.jpg */
  path: string;
  query: URLSearchParams;
  /** lower-case header names */
  headers: Record<string, string>;
  /** the request body; undefined when there is none */
  body?: Readable;
  env: RequestEnv;
}

/** What middlewares hand down with a request (Swift's WSGI environ). */
export interface RequestEnv {
  /** tx<21 hex>-<10 hex unix time>, sent back as X-Trans-Id and X-Openstack-Request-Id */
  transId: string;
  remoteAddr?: string;
  /** the caller, once the auth middleware has validated a token */
  identity?: RequestContext;
  /**
   * Set by the auth middleware; the proxy calls it once it knows the container's ACL
   * (`acl` is X-Container-Read for reads, X-Container-Write for writes). A response means
   * refused (401 without a caller, 403 with one); undefined means allowed.
   */
  authorize?: (req: SwiftRequest, acl?: string) => SwiftResponse | undefined;
  /** true on pre-authorized subrequests: authorization is already settled (tempurl, info lookups) */
  authorizeOverride?: boolean;
  /** the middleware that made this subrequest (Swift's swift.source), for logs */
  source?: string;
  /** per-request cache of account/container info, shared with subrequests */
  infoCache?: Map<string, unknown>;
  /** anything else a middleware hands down (its own keys, documented where set) */
  [key: string]: unknown;
}

export interface SwiftResponse {
  status: number;
  /** lower-case header names */
  headers: Record<string, string>;
  body?: Readable | Buffer | string;
}

export type Handler = (req: SwiftRequest) => Promise<SwiftResponse>;
export type Middleware = (next: Handler) => Handler;

/** app wrapped in middlewares; the first one listed is the outermost (sees requests first). */
export function compose(app: Handler, ...middlewares: Middleware[]): Handler {
  return middlewares.reduceRight<Handler>((inner, middleware) => middleware(inner), app);
}

export interface SubrequestOptions {
  method?: string;
  path?: string;
  query?: URLSearchParams | Record<string, string>;
  /** replaces the parent's headers entirely (only x-auth-token and the transaction id carry over) */
  headers?: Record<string, string>;
  body?: Readable;
  /** skip authorization: the caller has decided already (Swift's make_pre_authed_request) */
  preauthorized?: boolean;
  /** the middleware making it */
  source: string;
}

/** A request a middleware makes on behalf of `parent`: same caller, same transaction, same info cache. */
export function subrequest(parent: SwiftRequest, opts: SubrequestOptions): SwiftRequest {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = parent.headers['x-auth-token'];
  if (token !== undefined && headers['x-auth-token'] === undefined) headers['x-auth-token'] = token;
  parent.env.infoCache ??= new Map();
  const env: RequestEnv = { ...parent.env, source: opts.source };
  if (opts.preauthorized) {
    env.authorize = () => undefined;
    env.authorizeOverride = true;
  }
  const query = opts.query instanceof URLSearchParams ? opts.query : new URLSearchParams(opts.query ?? {});
  return { method: opts.method ?? parent.method, path: opts.path ?? parent.path, query, headers, body: opts.body, env };
}

/** A response with a short text body, as Swift's plain error pages are. */
export function textResponse(status: number, text = '', headers: Record<string, string> = {}): SwiftResponse {
  const body = text ? `<html><h1>${STATUS_TEXT[status] ?? ''}</h1><p>${text}</p></html>` : '';
  return {
    status,
    headers: { 'content-type': 'text/html; charset=UTF-8', 'content-length': String(Buffer.byteLength(body)), ...headers },
    body,
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Request Entity Too Large',
  416: 'Requested Range Not Satisfiable', 422: 'Unprocessable Entity', 499: 'Client Disconnect',
  500: 'Internal Error', 503: 'Service Unavailable',
};

export class BodyTooLargeError extends Error {}

/** Reads a whole (small) body; more than `limit` bytes is a BodyTooLargeError. */
export async function readBody(body: Readable | Buffer | string | undefined, limit: number): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') body = Buffer.from(body);
  if (Buffer.isBuffer(body)) {
    if (body.length > limit) throw new BodyTooLargeError(`body over ${limit} bytes`);
    return body;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new BodyTooLargeError(`body over ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Throws away a response body we do not use, so its source (a socket, a file) is released. */
export function discardBody(res: SwiftResponse): void {
  const body = res.body;
  if (body && typeof body !== 'string' && !Buffer.isBuffer(body)) body.resume();
}
