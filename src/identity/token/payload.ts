/**
 * What a Fernet token carries, packed the way Keystone's token formatters pack
 * it: a msgpack array `[version, ...fields]`, one version per kind of scope.
 *
 *   0 unscoped                 [0, user, methods, expires_at, audit_ids]
 *   1 domain-scoped            [1, user, methods, domain, expires_at, audit_ids]
 *   2 project-scoped           [2, user, methods, project, expires_at, audit_ids]
 *   8 system-scoped            [8, user, methods, 'all', expires_at, audit_ids]
 *   9 application credential   [9, user, methods, project, expires_at, audit_ids, app_cred]
 *
 * Sizes matter because the token travels in every request header, so:
 * - ids that are 32 lowercase hex chars (UUID4 hex, what we generate) go as
 *   `[true, <16 bytes>]`, anything else (e.g. the `default` domain, LDAP ids)
 *   as `[false, <string>]`;
 * - methods are a bitmask over AUTH_METHODS (bit i = AUTH_METHODS[i]); they
 *   come back in AUTH_METHODS order, not the order given;
 * - audit ids in our own 22-char form go as their 16 raw bytes, any other
 *   string (a parent's audit id minted elsewhere) as the string;
 * - expires_at is float seconds since the epoch (millisecond precision survives).
 *
 * Decoding is strict: any shape other than the above is an InvalidToken.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { randomBytes } from 'node:crypto';
import { InvalidToken } from './errors.ts';

export const AUTH_METHODS = [
  'oauth1',
  'saml2',
  'openid',
  'x509',
  'token',
  'password',
  'totp',
  'mapped',
  'application_credential',
  // last, so that adding it moved no other method's bit: tokens made by ec2tokens/s3tokens
  'ec2credential',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const PAYLOAD_VERSION = {
  unscoped: 0,
  domain: 1,
  project: 2,
  system: 8,
  applicationCredential: 9,
} as const;

/** The fields a token carries (issued-at is the Fernet timestamp, not part of the payload). */
export interface Payload {
  userId: string;
  methods: string[];
  projectId?: string;
  domainId?: string;
  system?: 'all';
  appCredId?: string;
  expiresAt: Date;
  auditIds: string[];
}

const encoder = new Encoder();
const decoder = new Decoder();

/** A new audit id: 16 random bytes as urlsafe base64 without padding (22 chars), as Keystone mints them. */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url');
}

// ---- ids -------------------------------------------------------------------

const UUID_HEX = /^[0-9a-f]{32}$/;

type PackedId = [true, Uint8Array] | [false, string];

function packId(id: string, what: string): PackedId {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError(`${what} must be a non-empty string`);
  // Only lowercase hex: uppercase would come back lowercased and no longer equal the id.
  return UUID_HEX.test(id) ? [true, Buffer.from(id, 'hex')] : [false, id];
}

function unpackId(value: unknown): string {
  if (!Array.isArray(value) || value.length !== 2) throw new InvalidToken('malformed id in payload');
  const [compressed, body] = value as unknown[];
  if (compressed === true && body instanceof Uint8Array && body.length === 16) {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('hex');
  }
  if (compressed === false && typeof body === 'string' && body.length > 0) return body;
  throw new InvalidToken('malformed id in payload');
}

// ---- methods ---------------------------------------------------------------

function packMethods(methods: readonly string[]): number {
  if (!Array.isArray(methods) || methods.length === 0) throw new TypeError('a token needs at least one authentication method');
  let mask = 0;
  for (const method of methods) {
    const bit = (AUTH_METHODS as readonly string[]).indexOf(method);
    if (bit < 0) throw new TypeError(`unknown authentication method ${JSON.stringify(method)}`);
    mask |= 1 << bit;
  }
  return mask;
}

function unpackMethods(value: unknown): string[] {
  const all = (1 << AUTH_METHODS.length) - 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || (value & ~all) !== 0) {
    throw new InvalidToken('malformed methods in payload');
  }
  return AUTH_METHODS.filter((_, bit) => (value & (1 << bit)) !== 0);
}

// ---- audit ids -------------------------------------------------------------

function packAuditId(id: string): Uint8Array | string {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError('audit id must be a non-empty string');
  if (id.length === 22) {
    const bytes = Buffer.from(id, 'base64url');
    if (bytes.length === 16 && bytes.toString('base64url') === id) return bytes;
  }
  return id;
}

function unpackAuditIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) throw new InvalidToken('malformed audit ids in payload');
  return value.map((id: unknown) => {
    if (id instanceof Uint8Array && id.length === 16) return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64url');
    if (typeof id === 'string' && id.length > 0) return id;
    throw new InvalidToken('malformed audit id in payload');
  });
}

// ---- expiry ----------------------------------------------------------------

function packTime(date: Date): number {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new TypeError('expiresAt must be a valid Date');
  return ms / 1000;
}

function unpackTime(value: unknown): Date {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidToken('malformed expiry in payload');
  const date = new Date(Math.round(value * 1000));
  if (Number.isNaN(date.getTime())) throw new InvalidToken('malformed expiry in payload');
  return date;
}

// ---- the payload -----------------------------------------------------------

/** Which version a payload gets; throws TypeError for a combination of scopes no token can have. */
export function payloadVersion(p: Pick<Payload, 'projectId' | 'domainId' | 'system' | 'appCredId'>): number {
  const present = (v: unknown) => v !== undefined;
  if (present(p.system) && p.system !== 'all') throw new TypeError("system scope must be 'all'");
  const scopes = [p.projectId, p.domainId, p.system].filter(present).length;
  if (scopes > 1) throw new TypeError('a token is scoped to at most one of project, domain or system');
  if (present(p.appCredId)) {
    if (!present(p.projectId)) throw new TypeError('an application credential token must be project-scoped');
    return PAYLOAD_VERSION.applicationCredential;
  }
  if (present(p.projectId)) return PAYLOAD_VERSION.project;
  if (present(p.domainId)) return PAYLOAD_VERSION.domain;
  if (present(p.system)) return PAYLOAD_VERSION.system;
  return PAYLOAD_VERSION.unscoped;
}

export function encodePayload(p: Payload): Uint8Array {
  const version = payloadVersion(p);
  const user = packId(p.userId, 'userId');
  const methods = packMethods(p.methods);
  const expires = packTime(p.expiresAt);
  if (!Array.isArray(p.auditIds) || p.auditIds.length < 1 || p.auditIds.length > 2) {
    throw new TypeError('a token has one audit id, or two when rescoped from another token');
  }
  const audit = p.auditIds.map(packAuditId);
  let fields: unknown[];
  switch (version) {
    case PAYLOAD_VERSION.unscoped:
      fields = [version, user, methods, expires, audit];
      break;
    case PAYLOAD_VERSION.domain:
      fields = [version, user, methods, packId(p.domainId!, 'domainId'), expires, audit];
      break;
    case PAYLOAD_VERSION.project:
      fields = [version, user, methods, packId(p.projectId!, 'projectId'), expires, audit];
      break;
    case PAYLOAD_VERSION.system:
      fields = [version, user, methods, p.system, expires, audit];
      break;
    default: // application credential
      fields = [version, user, methods, packId(p.projectId!, 'projectId'), expires, audit, packId(p.appCredId!, 'appCredId')];
  }
  return encoder.encode(fields);
}

const FIELD_COUNT: Record<number, number> = {
  [PAYLOAD_VERSION.unscoped]: 5,
  [PAYLOAD_VERSION.domain]: 6,
  [PAYLOAD_VERSION.project]: 6,
  [PAYLOAD_VERSION.system]: 6,
  [PAYLOAD_VERSION.applicationCredential]: 7,
};

export function decodePayload(bytes: Uint8Array): Payload {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch {
    throw new InvalidToken('payload is not msgpack');
  }
  if (!Array.isArray(value) || value.length === 0) throw new InvalidToken('malformed payload');
  const version = value[0];
  if (typeof version !== 'number' || FIELD_COUNT[version] !== value.length) throw new InvalidToken('unknown payload version');

  const payload: Payload = {
    userId: unpackId(value[1]),
    methods: unpackMethods(value[2]),
    expiresAt: new Date(0),
    auditIds: [],
  };
  let rest: unknown[];
  switch (version) {
    case PAYLOAD_VERSION.unscoped:
      rest = value.slice(3);
      break;
    case PAYLOAD_VERSION.domain:
      payload.domainId = unpackId(value[3]);
      rest = value.slice(4);
      break;
    case PAYLOAD_VERSION.project:
      payload.projectId = unpackId(value[3]);
      rest = value.slice(4);
      break;
    case PAYLOAD_VERSION.system:
      if (value[3] !== 'all') throw new InvalidToken('malformed system scope in payload');
      payload.system = 'all';
      rest = value.slice(4);
      break;
    default: // application credential
      payload.projectId = unpackId(value[3]);
      payload.appCredId = unpackId(value[6]);
      rest = value.slice(4, 6);
  }
  payload.expiresAt = unpackTime(rest[0]);
  payload.auditIds = unpackAuditIds(rest[1]);
  return payload;
}
