// AWS request signatures, as S3 clients make them and Swift's s3api checks them:
//   - Signature Version 4 (AWS4-HMAC-SHA256) in the Authorization header or in the query
//     (presigned URLs: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
//     X-Amz-SignedHeaders, X-Amz-Signature);
//   - Signature Version 2 (HMAC-SHA1) in the Authorization header ("AWS <access>:<sig>") or in
//     the query (AWSAccessKeyId, Expires, Signature).
// This file builds the string to sign from the request. The secret stays with Identity, which
// checks the signature (POST /v3/s3tokens); when the secret is known (cached by s3token) the
// check can be made here too, and the key is kept for the signatures of aws-chunked bodies.
import { createHash, createHmac } from 'node:crypto';
import { sameSignature } from '../middleware/signatures.ts';
import { s3Error, type ErrorDetails } from './errors.ts';

export interface SigningRequest {
  method: string;
  /** decoded path as the client addressed it (without the bucket in virtual-hosted style) */
  path: string;
  query: URLSearchParams;
  /** lower-case names */
  headers: Record<string, string>;
}

export interface SignatureOptions {
  /** the region this endpoint serves (Swift's s3api `location`) */
  location: string;
  /** seconds a header-signed request's time may differ from ours (RequestTimeTooSkewed) */
  allowableClockSkew: number;
  /** the bucket when it came in the Host header, part of the v2 canonical resource */
  bucketInHost?: string;
  /** the current time in ms; Date.now() when absent */
  now?: number;
}

export interface S3Auth {
  readonly version: 2 | 4;
  /** 'header' (Authorization) or 'query' (presigned) */
  readonly via: 'header' | 'query';
  readonly accessKey: string;
  readonly signature: string;
  readonly stringToSign: string;
  /** true when the secret makes the same signature; the v4 signing key is kept for chunk signatures */
  check(secret: string): boolean;
  /** what a SignatureDoesNotMatch error shows, so that a client's author can see what we signed */
  mismatchDetails(): ErrorDetails;
}

/** SigV4 request auth: the scope and time chunk and trailer signatures chain from. */
export interface SigV4Auth extends S3Auth {
  readonly version: 4;
  readonly amzDate: string;
  readonly scope: string;
  /** set by a successful check() */
  signingKey?: Buffer;
}

/** Headers that must be signed when present (Swift's SIGV4_MUST_BE_SIGNED_AMZ_PREFIXES). */
const MUST_BE_SIGNED = ['x-amz-copy', 'x-amz-acl', 'x-amz-grant', 'x-amz-meta'];

/** Query parameters that are part of the v2 canonical resource. */
const V2_SUB_RESOURCES = new Set([
  'acl', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy', 'publicAccessBlock',
  'requestPayment', 'torrent', 'uploads', 'uploadId', 'versionId', 'versioning', 'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'cors', 'tagging', 'restore', 'object-lock',
]);

const MAX_PRESIGNED_EXPIRY = 604800;
const DATE_REQUIRED = 'AWS authentication requires a valid Date or x-amz-date header';

/** RFC 3986 percent-encoding of UTF-8 as AWS wants it: all but A-Z a-z 0-9 - _ . ~ (and / when kept). */
export function uriEncode(text: string, keepSlash = false): string {
  const encoded = encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** 20240102T030405Z → ms; undefined when malformed. */
export function parseAmzDate(value: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** An HTTP date (RFC 1123/2822) or a bare ISO time in UTC, as Swift's s3api mktime reads them. */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(value) ? `${value}Z` : value;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A header value as it is signed: control characters and spaces trimmed, inner runs of blanks as one. */
function canonicalValue(value: string): string {
  return value.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '').split(/\s+/).join(' ');
}

/**
 * The signature a request carries, with its string to sign; undefined when the request carries
 * none (it is then not an S3 request). Throws the S3Error a malformed, expired or skewed
 * request gets.
 */
export function parseS3Auth(req: SigningRequest, opts: SignatureOptions): S3Auth | undefined {
  const authorization = req.headers.authorization ?? '';
  const now = opts.now ?? Date.now();
  if (req.query.has('X-Amz-Credential')) return sigV4(req, opts, 'query', now);
  if (authorization.startsWith('AWS4-HMAC-SHA256 ')) return sigV4(req, opts, 'header', now);
  if (req.query.has('AWSAccessKeyId')) return sigV2(req, opts, 'query', now);
  if (authorization.startsWith('AWS ')) return sigV2(req, opts, 'header', now);
  return undefined;
}

/** Header-signed requests must be recent: Swift's _validate_dates. */
function checkSkew(signedAt: number, now: number, opts: SignatureOptions): void {
  if (Math.abs(Math.floor(signedAt / 1000) - Math.floor(now / 1000)) > opts.allowableClockSkew) {
    throw s3Error('RequestTimeTooSkewed', {
      RequestTime: new Date(signedAt).toUTCString(),
      ServerTime: new Date(now).toISOString(),
      MaxAllowedSkewMilliseconds: opts.allowableClockSkew * 1000,
    });
  }
}

interface Credential {
  access: string;
  date: string;
  region: string;
  service: string;
  terminal: string;
}

function parseCredential(value: string): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || !parts[0]) throw s3Error('AccessDenied');
  const [access, date, region, service, terminal] = parts as [string, string, string, string, string];
  return { access, date, region, service, terminal };
}

/** The credential's scope against ours; `error` is the code a mismatch gets (header or query flavour). */
function checkScope(cred: Credential, amzDate: string, opts: SignatureOptions, error: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError'): string {
  const where = error === 'AuthorizationHeaderMalformed' ? 'The authorization header is malformed;' : 'Error parsing the X-Amz-Credential parameter;';
  const date = amzDate.slice(0, 8);
  if (cred.date !== date) throw s3Error(error, {}, `Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${date}".`);
  // the AWS .NET SDK lower-cases the region; Swift lets that pass
  let region = opts.location;
  if (cred.region !== region) {
    if (region.toLowerCase() !== region && cred.region === region.toLowerCase()) region = cred.region;
    else throw s3Error(error, { Region: opts.location }, `${where} the region '${cred.region}' is wrong; expecting '${opts.location}'`);
  }
  if (cred.service !== 's3') throw s3Error(error, {}, `${where} incorrect service "${cred.service}". This endpoint belongs to "s3".`);
  if (cred.terminal !== 'aws4_request') throw s3Error(error, {}, `${where} incorrect terminal "${cred.terminal}". This endpoint uses "aws4_request".`);
  return `${date}/${region}/s3/aws4_request`;
}

function sigV4(req: SigningRequest, opts: SignatureOptions, via: 'header' | 'query', now: number): SigV4Auth {
  const q = req.query;
  let signedAt: number | undefined;
  let credential: Credential;
  let signature: string;
  let signedHeaderList: string;
  let scope: string;
  if (via === 'query') {
    const expiresText = q.get('X-Amz-Expires');
    if (expiresText === null) throw s3Error('AccessDenied');
    if (!/^-?\d+$/.test(expiresText)) throw s3Error('AuthorizationQueryParametersError', {}, 'X-Amz-Expires should be a number');
    const expires = Number(expiresText);
    if (expires < 0) throw s3Error('AuthorizationQueryParametersError', {}, 'X-Amz-Expires must be non-negative');
    if (expires > MAX_PRESIGNED_EXPIRY) {
      throw s3Error('AuthorizationQueryParametersError', {}, 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds');
    }
    signedAt = q.has('X-Amz-Date') ? parseAmzDate(q.get('X-Amz-Date')!) : v4HeaderTime(req);
    if (signedAt === undefined) throw s3Error('AccessDenied', {}, DATE_REQUIRED);
    if (signedAt + expires * 1000 < now) {
      throw s3Error('AccessDenied', { Expires: new Date(signedAt + expires * 1000).toISOString(), ServerTime: new Date(now).toISOString() }, 'Request has expired');
    }
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
      throw s3Error('InvalidArgument', { ArgumentName: 'X-Amz-Algorithm', ArgumentValue: q.get('X-Amz-Algorithm') ?? '' });
    }
    credential = parseCredential(q.get('X-Amz-Credential') ?? '');
    signature = q.get('X-Amz-Signature') ?? '';
    if (!signature) throw s3Error('AccessDenied');
    if (!q.has('X-Amz-SignedHeaders')) throw s3Error('AuthorizationHeaderMalformed');
    signedHeaderList = q.get('X-Amz-SignedHeaders')!;
    scope = checkScope(credential, formatAmzDate(signedAt), opts, 'AuthorizationQueryParametersError');
  } else {
    if (!req.headers.date && !req.headers['x-amz-date']) throw s3Error('AccessDenied', {}, DATE_REQUIRED);
    signedAt = v4HeaderTime(req);
    if (signedAt === undefined) throw s3Error('AccessDenied', {}, DATE_REQUIRED);
    checkSkew(signedAt, now, opts);
    const header = req.headers.authorization!;
    const field = (name: string) => {
      const at = header.indexOf(`${name}=`);
      return at < 0 ? '' : header.slice(at + name.length + 1).split(',')[0]!.trim();
    };
    credential = parseCredential(field('Credential'));
    signature = field('Signature');
    if (!signature) throw s3Error('AccessDenied');
    signedHeaderList = field('SignedHeaders');
    if (!signedHeaderList) throw s3Error('AuthorizationHeaderMalformed');
    scope = checkScope(credential, formatAmzDate(signedAt), opts, 'AuthorizationHeaderMalformed');
  }

  const amzDate = formatAmzDate(signedAt);
  const canonical = canonicalRequestV4(req, new Set(signedHeaderList.split(';')));
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const auth: SigV4Auth = {
    version: 4,
    via,
    accessKey: credential.access,
    signature,
    stringToSign,
    amzDate,
    scope,
    check(secret: string): boolean {
      const key = signingKeyV4(secret, scope);
      const ok = sameSignature(createHmac('sha256', key).update(stringToSign).digest('hex'), signature);
      if (ok) auth.signingKey = key;
      return ok;
    },
    mismatchDetails: () => ({
      AWSAccessKeyId: credential.access,
      StringToSign: stringToSign,
      SignatureProvided: signature,
      StringToSignBytes: hexBytes(stringToSign),
      CanonicalRequest: canonical,
      CanonicalRequestBytes: hexBytes(canonical),
    }),
  };
  return auth;
}

/** X-Amz-Date, else the Date header. */
function v4HeaderTime(req: SigningRequest): number | undefined {
  const amz = req.headers['x-amz-date'];
  return amz ? parseAmzDate(amz) : parseHttpDate(req.headers.date);
}

/** The key of a SigV4 scope: HMACs of the date, region, service and terminal under "AWS4" + secret. */
export function signingKeyV4(secret: string, scope: string): Buffer {
  let key: Buffer = Buffer.from(`AWS4${secret}`, 'utf8');
  for (const piece of scope.split('/')) key = hmac(key, piece);
  return key;
}

function hexBytes(text: string): string {
  return [...Buffer.from(text)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** SigV4's canonical request (method, URI, query, signed headers, payload hash), one per line. */
export function canonicalRequestV4(req: SigningRequest, signed: Set<string>): string {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) headers.set(name.trim().toLowerCase(), canonicalValue(value ?? ''));
  for (const name of headers.keys()) {
    if (!signed.has(name) && MUST_BE_SIGNED.some((p) => name.startsWith(p))) {
      throw s3Error('AccessDenied', { HeadersNotSigned: name }, 'There were headers present in the request which were not signed');
    }
  }
  const names = [...signed].sort();
  // A signed header the request does not carry cannot have been signed as it is.
  if (names.some((n) => !headers.has(n))) throw s3Error('SignatureDoesNotMatch');

  const pairs: [string, string][] = [];
  for (const [k, v] of req.query) if (k !== 'X-Amz-Signature') pairs.push([uriEncode(k), uriEncode(v)]);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));

  // presigned URLs normally sign no payload, but a client may still send and sign the header
  const payload = req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD';
  return [
    req.method,
    uriEncode(req.path, true),
    pairs.map(([k, v]) => `${k}=${v}`).join('&'),
    names.map((n) => `${n}:${headers.get(n)}\n`).join(''),
    names.join(';'),
    payload,
  ].join('\n');
}

function sigV2(req: SigningRequest, opts: SignatureOptions, via: 'header' | 'query', now: number): S3Auth {
  let access: string;
  let signature: string;
  let dateLine: string;
  const amzHeaders = Object.entries(req.headers)
    .filter(([name]) => name.startsWith('x-amz-'))
    .map(([name, value]) => [name.trim(), value.trim()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (via === 'query') {
    const expiresText = req.query.get('Expires') ?? '';
    const expires = expiresText.trim() === '' ? NaN : Number(expiresText);
    if (Number.isNaN(expires)) throw s3Error('AccessDenied');
    if (now > expires * 1000) {
      throw s3Error('AccessDenied', { Expires: new Date(expires * 1000).toISOString(), ServerTime: new Date(now).toISOString() }, 'Request has expired');
    }
    if (expires >= 2 ** 31) throw s3Error('AccessDenied', {}, `Invalid date (should be seconds since epoch): ${expiresText}`);
    access = req.query.get('AWSAccessKeyId') ?? '';
    signature = req.query.get('Signature') ?? '';
    if (!access || !signature) throw s3Error('AccessDenied');
    dateLine = expiresText;
  } else {
    const amzDate = req.headers['x-amz-date'];
    if (!req.headers.date && !amzDate) throw s3Error('AccessDenied', {}, DATE_REQUIRED);
    const signedAt = parseHttpDate(amzDate ?? req.headers.date);
    if (signedAt === undefined || signedAt < 0) throw s3Error('AccessDenied', {}, DATE_REQUIRED);
    checkSkew(signedAt, now, opts);
    const credentials = req.headers.authorization!.slice(4);
    const colon = credentials.lastIndexOf(':');
    if (colon < 0) throw s3Error('AccessDenied');
    access = credentials.slice(0, colon);
    signature = credentials.slice(colon + 1);
    dateLine = amzDate !== undefined ? '' : req.headers.date!;
  }

  const subResources = [...req.query]
    .filter(([k]) => V2_SUB_RESOURCES.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v ? `${k}=${v}` : k));
  const path = uriEncode(opts.bucketInHost ? `/${opts.bucketInHost}${req.path}` : req.path, true);
  const stringToSign = [
    req.method,
    canonicalValue(req.headers['content-md5'] ?? ''),
    canonicalValue(req.headers['content-type'] ?? ''),
    dateLine,
    ...amzHeaders.map(([name, value]) => `${name}:${value}`),
    subResources.length ? `${path}?${subResources.join('&')}` : path,
  ].join('\n');
  return {
    version: 2,
    via,
    accessKey: access,
    signature,
    stringToSign,
    check: (secret: string) => sameSignature(createHmac('sha1', secret).update(stringToSign).digest('base64'), signature),
    mismatchDetails: () => ({
      AWSAccessKeyId: access,
      StringToSign: stringToSign,
      SignatureProvided: signature,
      StringToSignBytes: hexBytes(stringToSign),
    }),
  };
}

/**
 * The signatures of an aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): each chunk's
 * signature covers its SHA-256 and the previous signature, starting from the request's.
 */
export class ChunkSignatures {
  private previous: string;
  constructor(private readonly auth: SigV4Auth, private readonly key: Buffer) {
    this.previous = auth.signature;
  }

  /** true when `signature` is the one the chunk with this SHA-256 should carry; it becomes the previous one. */
  checkChunk(chunkSha256: string, signature: string): boolean {
    const expected = this.sign(['AWS4-HMAC-SHA256-PAYLOAD', this.auth.amzDate, this.auth.scope, this.previous, sha256Hex(''), chunkSha256]);
    this.previous = signature;
    return sameSignature(expected, signature);
  }

  /** The x-amz-trailer-signature check: the trailers (without it) as "name:value\n" lines, sorted. */
  checkTrailer(trailers: Record<string, string>, signature: string): boolean {
    const lines = Object.entries(trailers)
      .filter(([name]) => name !== 'x-amz-trailer-signature')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}:${value}\n`)
      .join('');
    const expected = this.sign(['AWS4-HMAC-SHA256-TRAILER', this.auth.amzDate, this.auth.scope, this.previous, sha256Hex(lines || '\n')]);
    return sameSignature(expected, signature);
  }

  private sign(lines: string[]): string {
    return createHmac('sha256', this.key).update(lines.join('\n')).digest('hex');
  }
}
