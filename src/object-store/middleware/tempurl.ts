// Temporary URLs (Swift's tempurl): a link that lets whoever holds it GET, PUT, ... one object
// (or every object under a prefix) until it expires, without a token. The link carries
//   temp_url_sig      HMAC of "[ip=<range>\n]<METHOD>\n<expires>\n<path>" under a temp URL key,
//                     hex, or "<digest>:<base64>"; the path is "prefix:/v1/a/c/<prefix>" for
//                     prefix links
//   temp_url_expires  unix time, or ISO 8601 "2030-01-01T00:00:00Z"
//   temp_url_prefix   (optional) the object name prefix the signature covers
//   temp_url_ip_range (optional) the client network the signature covers
//   filename, inline  (optional) the Content-Disposition of a GET
// A valid link makes the request pre-authorized for its account (an account key) or its
// container (a container key) alone; anything wrong with it is a 401 "Temp URL invalid".
// A HEAD may use a GET, PUT or POST signature.
import type { Capabilities } from '../capabilities.ts';
import { parseInteger } from '../constraints.ts';
import { parseSwiftPath } from '../path.ts';
import type { Handler, Middleware, SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { inIpRange } from './ip-range.ts';
import { quote } from './quote.ts';
import { bodyResponse, errorPage, realmOf } from './responses.ts';
import { allowedDigests, hmacHex, parseSignature, sameSignature, tempUrlKeys, type KeyScope } from './signatures.ts';

export interface TempUrlOptions {
  /** methods a temp URL may be made for; default GET HEAD PUT POST DELETE */
  methods?: readonly string[];
  /** request headers dropped from temp URL requests ("name" or "prefix*"); default x-timestamp x-open-expired */
  incomingRemoveHeaders?: readonly string[];
  /** exceptions to incomingRemoveHeaders; default none */
  incomingAllowHeaders?: readonly string[];
  /** response headers withheld from temp URL users; default x-object-meta-* */
  outgoingRemoveHeaders?: readonly string[];
  /** exceptions to outgoingRemoveHeaders; default x-object-meta-public-* */
  outgoingAllowHeaders?: readonly string[];
  /** digests a signature may use; default sha1 (deprecated) sha256 sha512 */
  allowedDigests?: readonly string[];
  /** where the /info "tempurl" section is registered */
  capabilities?: Capabilities;
  /** seconds since the epoch; for tests */
  now?: () => number;
}

export const TEMPURL_DEFAULTS = {
  methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
  incomingRemoveHeaders: ['x-timestamp', 'x-open-expired'],
  incomingAllowHeaders: [] as string[],
  outgoingRemoveHeaders: ['x-object-meta-*'],
  outgoingAllowHeaders: ['x-object-meta-public-*'],
};

/** Headers that would let an upload point at data the link does not grant (a DLO manifest, a symlink). */
const DISALLOWED_INCOMING = ['x-object-manifest', 'x-symlink-target'];

interface TempUrlParams {
  sig?: string;
  expires?: string;
  prefix?: string;
  filename?: string;
  inline: boolean;
  ipRange?: string;
}

function readParams(query: URLSearchParams): TempUrlParams {
  const get = (name: string) => query.get(name) ?? undefined;
  return {
    sig: get('temp_url_sig'),
    expires: get('temp_url_expires'),
    prefix: get('temp_url_prefix'),
    filename: get('filename'),
    inline: query.has('inline'),
    ipRange: get('temp_url_ip_range'),
  };
}

/** The expiry as unix seconds; 0 when it is unreadable or already past. */
export function normalizeExpires(value: string, now: number): number {
  let seconds = parseInteger(value);
  if (seconds === undefined) {
    const iso = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(value);
    seconds = iso ? isoSeconds(iso.slice(1).map(Number)) : 0;
  }
  return Number.isFinite(seconds) && seconds >= now ? seconds : 0;
}

function isoSeconds([year, month, day, hour, minute, second]: number[]): number {
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  const back = new Date(ms);
  // 2030-02-31 is no date (strptime refuses it)
  if (back.getUTCMonth() !== month! - 1 || back.getUTCDate() !== day! || hour! > 23 || minute! > 59 || second! > 61) return 0;
  return Math.floor(ms / 1000);
}

/** Content-Disposition with a filename both plain and RFC 5987-encoded, as Swift writes it. */
export function dispositionValue(type: 'inline' | 'attachment', filename: string): string {
  return `${type}; filename="${quote(filename, ' /')}"; filename*=UTF-8''${quote(filename)}`;
}

/** A "name" / "prefix*" header list as a predicate. */
function headerMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')).map((p) => p.toLowerCase()));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1).toLowerCase());
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

function headerFilter(remove: readonly string[], allow: readonly string[]): (headers: Record<string, string>) => void {
  const removed = headerMatcher(remove);
  const allowed = headerMatcher(allow);
  return (headers) => {
    for (const name of Object.keys(headers)) if (!allowed(name) && removed(name)) delete headers[name];
  };
}

function titleCase(header: string): string {
  return header.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

/** What a valid temp URL lets through: its own account, or its own container for a container key. */
function scopedAuthorize(scope: KeyScope, account: string, container: string): (req: SwiftRequest) => SwiftResponse | undefined {
  return (req) => {
    const p = parseSwiftPath(req.path);
    const inScope = p !== undefined && p.account === account && (scope === 'account' || p.container === container);
    return inScope ? undefined : errorPage(401, { 'www-authenticate': `Swift realm="${realmOf(req.path)}"` });
  };
}

export function tempurl(opts: TempUrlOptions = {}): Middleware {
  const methods = (opts.methods ?? TEMPURL_DEFAULTS.methods).map((m) => m.toUpperCase());
  const incoming = {
    remove: opts.incomingRemoveHeaders ?? TEMPURL_DEFAULTS.incomingRemoveHeaders,
    allow: opts.incomingAllowHeaders ?? TEMPURL_DEFAULTS.incomingAllowHeaders,
  };
  const outgoing = {
    remove: opts.outgoingRemoveHeaders ?? TEMPURL_DEFAULTS.outgoingRemoveHeaders,
    allow: opts.outgoingAllowHeaders ?? TEMPURL_DEFAULTS.outgoingAllowHeaders,
  };
  const digests = allowedDigests(opts.allowedDigests);
  const cleanIncoming = headerFilter(incoming.remove, incoming.allow);
  const cleanOutgoing = headerFilter(outgoing.remove, outgoing.allow);
  const now = opts.now ?? (() => Date.now() / 1000);

  opts.capabilities?.register('tempurl', {
    methods,
    incoming_remove_headers: incoming.remove,
    incoming_allow_headers: incoming.allow,
    outgoing_remove_headers: outgoing.remove,
    outgoing_allow_headers: outgoing.allow,
    allowed_digests: digests.allowed,
    ...(digests.deprecated.length ? { deprecated_digests: digests.deprecated } : {}),
  });

  const invalid = (req: SwiftRequest) =>
    bodyResponse(401, req.method === 'HEAD' ? '' : '401 Unauthorized: Temp URL invalid\n');

  return (next: Handler): Handler => async (req) => {
    if (req.method === 'OPTIONS') return next(req);
    const params = readParams(req.query);
    if (params.sig === undefined && params.expires === undefined) return next(req);
    const expires = params.expires === undefined ? 0 : normalizeExpires(params.expires, now());
    if (!params.sig || !expires) return invalid(req);
    const signature = parseSignature(params.sig);
    if (!signature || !(digests.allowed as string[]).includes(signature.digest)) return invalid(req);

    // Only objects, only the configured methods, only /v1.
    const path = methods.includes(req.method) ? parseSwiftPath(req.path) : undefined;
    if (!path || path.version !== 'v1' || path.container === undefined || !path.object?.replace(/^\/+|\/+$/g, '')) return invalid(req);
    const { account, container, object } = path as Required<typeof path>;

    if (params.ipRange) {
      const inside = req.env.remoteAddr === undefined ? undefined : inIpRange(params.ipRange, req.env.remoteAddr);
      if (!inside) return invalid(req);
    }

    const keys = await tempUrlKeys(req, next);
    if (keys.length === 0) return invalid(req);
    let signedPath = `/v1/${account}/${container}/${object}`;
    if (params.prefix !== undefined) {
      if (!object.startsWith(params.prefix)) return invalid(req);
      signedPath = `prefix:/v1/${account}/${container}/${params.prefix}`;
    }
    const scope = matchingScope(signature, keys, req.method === 'HEAD' ? ['HEAD', 'GET', 'POST', 'PUT'] : [req.method], expires, signedPath, params.ipRange);
    if (!scope) return invalid(req);

    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      const refused = DISALLOWED_INCOMING.find((h) => req.headers[h] !== undefined);
      if (refused) return bodyResponse(400, `The header '${titleCase(refused)}' is not allowed in this tempurl`);
    }
    cleanIncoming(req.headers);
    req.env.authorize = scopedAuthorize(scope, account, container);
    req.env.authorizeOverride = true;
    // What the rest of the pipeline sees of the query: the link's own parameters, nothing else.
    const query = new URLSearchParams({ temp_url_sig: params.sig, temp_url_expires: params.expires! });
    if (params.prefix !== undefined) query.set('temp_url_prefix', params.prefix);
    if (params.filename) query.set('filename', params.filename);
    if (params.inline) query.set('inline', '');
    req.query = query;

    const res = await next(req);
    cleanOutgoing(res.headers);
    if ((req.method === 'GET' || req.method === 'HEAD') && isSuccess(res.status)) {
      res.headers['content-disposition'] = disposition(params, res.headers['content-disposition'], req.path).replace(/\n/g, '%0A');
      res.headers['expires'] = new Date(expires * 1000).toUTCString();
    }
    return res;
  };
}

/** The scope of the key whose signature for one of `methods` matches; undefined when none does. */
function matchingScope(
  signature: { digest: string; hex: string },
  keys: { key: string; scope: KeyScope }[],
  methods: string[],
  expires: number,
  path: string,
  ipRange: string | undefined,
): KeyScope | undefined {
  for (const method of methods) {
    const parts = [...(ipRange ? [`ip=${ipRange}`] : []), method, String(expires), path];
    for (const { key, scope } of keys) {
      if (sameSignature(signature.hex, hmacHex(signature.digest, key, parts))) return scope;
    }
  }
  return undefined;
}

/** The query's choice, else the object's own Content-Disposition, else an attachment named after the object. */
function disposition(params: TempUrlParams, existing: string | undefined, path: string): string {
  if (params.inline) return params.filename ? dispositionValue('inline', params.filename) : 'inline';
  if (params.filename) return dispositionValue('attachment', params.filename);
  if (existing) return existing;
  const name = path.replace(/\/+$/, '');
  return dispositionValue('attachment', name.slice(name.lastIndexOf('/') + 1));
}
