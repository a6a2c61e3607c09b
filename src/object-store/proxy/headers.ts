// Which client headers reach the storage servers and which storage headers reach the client
// (Swift's generate_request_headers / transfer_headers and swift_owner_headers).
import type { SwiftRequest } from '../pipeline.ts';
import { isSysMeta, isSysOrUserMeta, isUserMeta, type ServerType } from '../storage/header-families.ts';

const BACKEND_USER_AGENT = `proxy-server ${process.pid}`;

/** Headers that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set([
  'host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'expect', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'proxy-connection',
]);
/** Credentials stay at the proxy. */
const CREDENTIALS = new Set(['x-auth-token', 'x-storage-token', 'x-service-token', 'authorization']);

/** Settings only the account's owner may see or set (Swift's default swift_owner_headers). */
export const OWNER_HEADERS = [
  'x-container-read', 'x-container-write', 'x-container-sync-key', 'x-container-sync-to',
  'x-account-meta-temp-url-key', 'x-account-meta-temp-url-key-2',
  'x-container-meta-temp-url-key', 'x-container-meta-temp-url-key-2', 'x-account-access-control',
];

/** Container settings stored as they come, besides metadata. */
const CONTAINER_PASS_THROUGH = ['x-container-read', 'x-container-write', 'x-container-sync-key', 'x-container-sync-to', 'x-versions-location', 'x-history-location'];
/** X-Remove-<name> clears <name> (sent as an empty value). */
const CONTAINER_REMOVABLE = ['x-remove-container-read', 'x-remove-container-write', 'x-remove-container-sync-key', 'x-remove-container-sync-to', 'x-remove-versions-location', 'x-remove-history-location'];

/**
 * The caller owns what it is looking at: the auth middleware says so (req.env.swiftOwner, set
 * when authorize() finds an owner or reseller admin), the request is an internal pre-authorized
 * one, or there is no auth in the pipeline at all.
 */
export function isOwner(req: SwiftRequest): boolean {
  return req.env.swiftOwner === true || req.env.authorizeOverride === true || req.env.authorize === undefined;
}

export function dropOwnerHeaders(headers: Record<string, string>): void {
  for (const name of OWNER_HEADERS) delete headers[name];
}

/** The client's metadata for an account or container: meta, sysmeta, settings, removals as empty values. */
export function transferHeaders(src: Record<string, string>, type: 'account' | 'container'): Record<string, string> {
  const out: Record<string, string> = {};
  const removePrefix = `x-remove-${type}-meta-`;
  for (const name of Object.keys(src)) {
    if ((name.startsWith(removePrefix) && name.length > removePrefix.length) || (type === 'container' && CONTAINER_REMOVABLE.includes(name))) {
      out[name.replace('-remove', '')] = '';
    }
  }
  for (const [name, value] of Object.entries(src)) {
    if (isSysOrUserMeta(type, name) || (type === 'container' && CONTAINER_PASS_THROUGH.includes(name))) out[name] = value;
  }
  return out;
}

/**
 * Headers for a request to a storage server: the request's X-Backend-* and X-Timestamp, then
 * `additional`, then (with `transfer`) the client's metadata; the transaction id always.
 */
export function backendHeaders(
  req: SwiftRequest,
  opts: { additional?: Record<string, string>; transfer?: 'account' | 'container' } = {},
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-backend-') || name === 'x-timestamp') headers[name] = value;
  }
  Object.assign(headers, opts.additional ?? {});
  if (opts.transfer) Object.assign(headers, transferHeaders(req.headers, opts.transfer));
  headers['x-trans-id'] = req.env.transId;
  headers['user-agent'] = BACKEND_USER_AGENT;
  return headers;
}

/** An object request's headers as the object server should see them: all but hop-by-hop and credentials. */
export function forwardedHeaders(req: SwiftRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && !CREDENTIALS.has(name)) out[name] = value;
  }
  return out;
}

/** Splits headers into user metadata, system metadata and the rest (names without their prefixes). */
export function splitMetadata(type: ServerType, headers: Record<string, string>) {
  const meta: Record<string, string> = {};
  const sysmeta: Record<string, string> = {};
  const other: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (isUserMeta(type, name)) meta[name.slice(`x-${type}-meta-`.length)] = value;
    else if (isSysMeta(type, name)) sysmeta[name.slice(`x-${type}-sysmeta-`.length)] = value;
    else other[name] = value;
  }
  return { meta, sysmeta, other };
}

/**
 * Names a server the storage server must tell about the change (X-Account-* on container
 * writes, X-Container-* on object writes); a second one is appended comma-separated.
 */
export function addUpdateTarget(headers: Record<string, string>, kind: 'account' | 'container', partition: number, node: { ip: string; port: number; device: string }): void {
  const append = (name: string, value: string) => {
    headers[name] = headers[name] ? `${headers[name]},${value}` : value;
  };
  headers[`x-${kind}-partition`] = String(partition);
  append(`x-${kind}-host`, `${node.ip}:${node.port}`);
  append(`x-${kind}-device`, node.device);
}
