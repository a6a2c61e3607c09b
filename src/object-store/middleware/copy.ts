// Server-side copy (Swift's copy middleware): COPY with a Destination, or PUT with
// X-Copy-From, becomes a GET of the source and a PUT of its body to the destination, streamed
// through the proxy without the client sending a byte. Both go through the rest of the
// pipeline as subrequests of the caller, so the source must be readable and the destination
// writable by them. Metadata is copied from the source unless X-Fresh-Metadata says not to;
// the client's own headers win either way.
import { checkNameFormat, MAX_FILE_SIZE } from '../constraints.ts';
import { subrequest, textResponse, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess, ResponseError } from '../proxy/responses.ts';
import { isObjectTransientSysmeta, isSysMeta, isSysOrUserMeta, isTrue } from '../storage/header-families.ts';
import { quote, tryDecodeURIComponent } from './quote.ts';

interface ObjectPath {
  version: string;
  account: string;
  container: string;
  object: string;
}

function objectPath(path: string): ObjectPath | undefined {
  const m = /^\/([^/]+)\/([^/]+)\/([^/]+)\/(.+)$/.exec(path);
  return m ? { version: m[1]!, account: m[2]!, container: m[3]!, object: m[4]! } : undefined;
}

/** Source headers that describe the response or the source's own identity, not the object's metadata. */
const NOT_COPIED = new Set([
  'x-static-large-object', 'x-object-manifest', 'etag', 'content-type', 'x-timestamp', 'content-length', 'transfer-encoding',
  'connection', 'date', 'accept-ranges', 'last-modified', 'x-trans-id', 'x-openstack-request-id', 'content-range',
]);

/** Stops a source body nobody will read (without downloading the rest of it). */
function dropBody(res: SwiftResponse): void {
  const body = res.body;
  if (body && typeof body !== 'string' && !Buffer.isBuffer(body) && !body.readableEnded) body.destroy();
}

/** "<container>/<object>" from a header (%-quoted, a leading slash optional); 412 with `message` otherwise. */
function containerAndObject(value: string, message: string): { container: string; object: string } {
  const m = /^\/?([^/]+)\/(.+)$/.exec(tryDecodeURIComponent(value));
  if (!m) throw new ResponseError(textResponse(412, message));
  return { container: m[1]!, object: m[2]! };
}

function accountFromHeader(value: string): string {
  const account = tryDecodeURIComponent(value);
  const bad = checkNameFormat(account, 'Account');
  if (bad) throw new ResponseError(bad);
  return account;
}

/** GETs the source (the newest copy of it); a response to pass back when that fails. */
async function fetchSource(next: Handler, req: SwiftRequest, sourcePath: string): Promise<SwiftResponse> {
  const headers: Record<string, string> = { ...req.headers, 'x-newest': 'true' };
  delete headers['x-backend-storage-policy-index'];
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  const query = new URLSearchParams(req.query);
  // an SLO manifest is copied as its manifest
  if (query.get('multipart-manifest') === 'get') query.set('format', 'raw');
  const source = await next(subrequest(req, { method: 'GET', path: sourcePath, query, headers, source: 'SSC' }));
  if (source.status >= 300) return source;
  const length = source.headers['content-length'];
  if (length === undefined || Number(length) > MAX_FILE_SIZE) {
    dropBody(source);
    throw new ResponseError(textResponse(413, 'Your request is too large.'));
  }
  return source;
}

/** The destination PUT's headers: the source's metadata (unless fresh), then the client's. */
function sinkHeaders(req: SwiftRequest, source: SwiftResponse): Record<string, string> {
  let headers: Record<string, string>;
  if (isTrue(req.headers['x-fresh-metadata'])) {
    // fresh user metadata, but system metadata (middlewares' state) travels with the data
    headers = { ...req.headers };
    for (const [name, value] of Object.entries(source.headers)) if (isSysMeta('object', name) && req.headers[name] === undefined) headers[name] = value;
  } else {
    headers = {};
    for (const [name, value] of Object.entries(source.headers)) {
      if (!NOT_COPIED.has(name) && !name.startsWith('x-backend-')) headers[name] = value;
    }
    Object.assign(headers, req.headers);
  }
  delete headers['x-copy-from'];
  delete headers['x-copy-from-account'];
  delete headers['x-fresh-metadata'];
  delete headers['transfer-encoding'];
  delete headers['x-timestamp']; // the proxy stamps the new copy
  headers['content-length'] = source.headers['content-length']!;
  if (!req.headers['content-type'] && source.headers['content-type']) headers['content-type'] = source.headers['content-type'];
  return headers;
}

async function copyObject(next: Handler, req: SwiftRequest, dest: ObjectPath): Promise<SwiftResponse> {
  if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined) {
    return textResponse(400, 'Copy requests require a zero byte body');
  }
  const srcAccount = req.headers['x-copy-from-account'] !== undefined ? accountFromHeader(req.headers['x-copy-from-account']) : dest.account;
  const { container, object } = containerAndObject(req.headers['x-copy-from']!, 'X-Copy-From header must be of the form <container name>/<object name>');
  const sourcePath = `/${dest.version}/${srcAccount}/${container}/${object}`;
  const source = await fetchSource(next, req, sourcePath);
  if (source.status >= 300) return source;

  const headers = sinkHeaders(req, source);
  const query = new URLSearchParams(req.query);
  if (query.get('multipart-manifest') === 'get') {
    if (source.headers['x-static-large-object'] !== undefined) query.set('multipart-manifest', 'put');
    if (source.headers['x-object-manifest'] !== undefined) {
      query.delete('multipart-manifest');
      headers['x-object-manifest'] = source.headers['x-object-manifest'];
    }
  }
  query.delete('version-id');
  // Only a whole, plain object's ETag is the MD5 of what is copied; the PUT then verifies it.
  const plain = source.status === 200 && source.headers['x-static-large-object'] === undefined &&
    (source.headers['x-object-manifest'] === undefined || req.query.get('multipart-manifest') === 'get');
  if (plain && source.headers['etag']) headers['etag'] = source.headers['etag'];
  else delete headers['etag'];

  const body = source.body;
  const put = await next(subrequest(req, {
    method: 'PUT',
    path: `/${dest.version}/${dest.account}/${dest.container}/${dest.object}`,
    query,
    headers,
    body: typeof body === 'string' || Buffer.isBuffer(body) ? undefined : body,
    source: 'SSC',
  }));
  dropBody(source);
  if (isSuccess(put.status)) {
    put.headers['x-copied-from-account'] = quote(srcAccount);
    put.headers['x-copied-from'] = quote(`${container}/${object}`);
    if (source.headers['last-modified']) put.headers['x-copied-from-last-modified'] = source.headers['last-modified'];
    if (source.headers['x-object-version-id']) put.headers['x-copied-from-version-id'] = source.headers['x-object-version-id'];
    for (const [name, value] of Object.entries(headers)) {
      if (isSysOrUserMeta('object', name) || isObjectTransientSysmeta(name) || name === 'x-delete-at') put.headers[name] = value;
    }
  }
  return put;
}

/** COPY /v1/a/c/o with Destination: c2/o2 (and Destination-Account) is PUT /v1/a2/c2/o2 with X-Copy-From: c/o. */
function copyAsPut(req: SwiftRequest, path: ObjectPath): ObjectPath {
  if (!req.headers['destination']) throw new ResponseError(textResponse(412, 'Destination header required'));
  let account = path.account;
  if (req.headers['destination-account'] !== undefined) {
    account = accountFromHeader(req.headers['destination-account']);
    req.headers['x-copy-from-account'] = quote(path.account);
    delete req.headers['destination-account'];
  }
  const dest = containerAndObject(req.headers['destination'], 'Destination header must be of the form <container name>/<object name>');
  req.method = 'PUT';
  req.path = `/${path.version}/${account}/${dest.container}/${dest.object}`;
  req.headers['content-length'] = '0';
  req.headers['x-copy-from'] = quote(`/${path.container}/${path.object}`);
  delete req.headers['destination'];
  return { version: path.version, account, container: dest.container, object: dest.object };
}

export function copy(): Middleware {
  return (next) => async (req) => {
    const path = objectPath(req.path);
    if (!path) return next(req);
    const isCopy = req.method === 'COPY';
    if (!isCopy && !(req.method === 'PUT' && req.headers['x-copy-from'])) return next(req);
    try {
      return await copyObject(next, req, isCopy ? copyAsPut(req, path) : path);
    } catch (err) {
      if (err instanceof ResponseError) return err.response;
      throw err;
    }
  };
}
