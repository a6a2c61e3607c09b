// Account and container listings in the format the client asks for (Swift's listing_formats):
// ?format=json|xml|plain, or the Accept header (text/plain by default). The proxy and the
// storage servers below only ever produce JSON; this turns it into XML or plain names.
import { validApiVersion } from '../constraints.ts';
import { readBody, textResponse, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { BadAcceptError, bestMatch } from './accept.ts';
import { errorPage } from './responses.ts';

const FORMAT_TYPES: Record<string, string> = { plain: 'text/plain', json: 'application/json', xml: 'application/xml' };
const OFFERED = ['text/plain', 'application/json', 'application/xml', 'text/xml'];
/** A listing JSON body larger than this is not a listing we made (a static web page): passed on untouched. */
const MAX_LISTING_BODY = 1024 * 10000 * 2;

declare module '../pipeline.ts' {
  interface RequestEnv {
    /** a middleware below that answers listings itself (static web) sets it false to keep its body as is */
    formatListing?: boolean;
  }
}

/** The listing type a request asks for: ?format= wins over Accept (a malformed Accept throws BadAcceptError). */
export function listingContentType(req: SwiftRequest): string | undefined {
  const format = req.query.get('format');
  const accept = format ? (FORMAT_TYPES[format.toLowerCase()] ?? FORMAT_TYPES.plain) : req.headers['accept'];
  return bestMatch(accept, OFFERED);
}

const escapeText = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const escapeAttribute = (s: string) =>
  escapeText(s).replaceAll('"', '&quot;').replaceAll('\n', '&#10;').replaceAll('\r', '&#13;').replaceAll('\t', '&#09;');

type Entry = Record<string, unknown>;

/** A listing field as Python's str() prints it; a missing one means this is not our listing. */
function field(entry: Entry, name: string): string {
  if (!(name in entry)) throw new Error(`listing entry without ${name}`);
  const value = entry[name];
  return typeof value === 'boolean' ? (value ? 'True' : 'False') : value === null ? 'None' : String(value);
}

const element = (name: string, text: string) => `<${name}>${escapeText(text)}</${name}>`;
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function containerToXml(listing: Entry[], container: string): string {
  const items = listing.map((entry) => {
    if ('subdir' in entry) {
      const name = field(entry, 'subdir');
      return `<subdir name="${escapeAttribute(name)}">${element('name', name)}</subdir>`;
    }
    const fields = ['name', 'hash', 'bytes', 'content_type', 'last_modified'].map((f) => element(f, field(entry, f)));
    return `<object>${fields.join('')}</object>`;
  });
  const open = `<container name="${escapeAttribute(container)}"`;
  return XML_DECLARATION + (items.length ? `${open}>${items.join('')}</container>` : `${open} />`);
}

export function accountToXml(listing: Entry[], account: string): string {
  const items = listing.map((entry) => {
    if ('subdir' in entry) return `<subdir name="${escapeAttribute(field(entry, 'subdir'))}" />\n`;
    const fields = ['name', 'count', 'bytes', 'last_modified'].map((f) => element(f, field(entry, f)));
    if ('storage_policy' in entry) fields.push(element('storage_policy', field(entry, 'storage_policy')));
    return `<container>${fields.join('')}</container>\n`;
  });
  return `${XML_DECLARATION}<account name="${escapeAttribute(account)}">\n${items.join('')}</account>`;
}

export function listingToText(listing: Entry[]): string {
  return listing.map((entry) => `${field(entry, 'name' in entry ? 'name' : 'subdir')}\n`).join('');
}

/** /<version>/<account>[/<container>] of a listing request, else undefined. */
function listingTarget(path: string): { account: string; container?: string } | undefined {
  const m = /^\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
  if (!m || !validApiVersion(m[1]!)) return undefined;
  return { account: m[2]!, container: m[3] };
}

function withBody(res: SwiftResponse, body: string, type: string): SwiftResponse {
  const status = body ? res.status : 204;
  return { status, headers: { ...res.headers, 'content-type': `${type}; charset=utf-8`, 'content-length': String(Buffer.byteLength(body)) }, body };
}

export function listingFormats(): Middleware {
  return (next) => async (req) => {
    const target = req.method === 'GET' || req.method === 'HEAD' ? listingTarget(req.path) : undefined;
    if (!target) return next(req);
    let type: string | undefined;
    try {
      type = listingContentType(req);
    } catch (err) {
      if (err instanceof BadAcceptError) return textResponse(400, 'Invalid Accept header');
      throw err;
    }
    if (!type) return errorPage(406);
    const canVary = !req.query.has('format');
    req.query.set('format', 'json');
    req.env.formatListing ??= true;
    const res = await next(req);
    if (!req.env.formatListing || (res.status !== 200 && res.status !== 204)) return res;
    if (canVary) {
      const vary = res.headers['vary'];
      if (!vary) res.headers['vary'] = 'Accept';
      else if (!vary.toLowerCase().split(',').map((v) => v.trim()).includes('accept')) res.headers['vary'] = `${vary}, Accept`;
    }
    if ((res.headers['content-type'] ?? '').split(';')[0]!.trim() !== 'application/json') return res;
    if (req.method === 'HEAD') {
      res.headers['content-type'] = `${type}; charset=utf-8`;
      res.headers['content-length'] = '0';
      return res;
    }
    const length = res.headers['content-length'];
    if (length === undefined || Number(length) > MAX_LISTING_BODY) return res;
    const raw = await readBody(res.body, MAX_LISTING_BODY);
    let listing: Entry[];
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (!Array.isArray(parsed) || !parsed.every((e) => typeof e === 'object' && e !== null && !Array.isArray(e))) throw new Error('not a listing');
      listing = parsed as Entry[];
    } catch {
      return { ...res, body: raw };
    }
    // Names in the reserved namespace (starting with NUL) are for the cluster's own use.
    listing = listing.filter((e) => !String(e.name ?? '').includes('\0') && !String(e.subdir ?? '').includes('\0'));
    try {
      if (type.endsWith('/xml')) {
        return withBody(res, target.container !== undefined ? containerToXml(listing, target.container) : accountToXml(listing, target.account), type);
      }
      if (type === 'text/plain') return withBody(res, listingToText(listing), type);
      return withBody(res, JSON.stringify(listing), type);
    } catch {
      return { ...res, body: raw };
    }
  };
}
