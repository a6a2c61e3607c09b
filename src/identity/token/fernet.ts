/**
 * Fernet (https://github.com/fernet/spec, version 0x80), written against the spec.
 *
 *   token = base64url( 0x80 | timestamp (u64 BE, seconds) | IV (16) | AES-128-CBC/PKCS7 ciphertext | HMAC-SHA256 )
 *
 * The HMAC covers every byte before it and is keyed with the first half of the
 * 32-byte key; the second half is the AES key. Keys travel as base64url text (44 chars).
 *
 * `decrypt` throws `InvalidToken` for anything wrong with the token and nothing
 * else: callers can map that one type to 401 without leaking why it failed.
 * A malformed *key* is a configuration fault and throws `InvalidFernetKey`,
 * before the token is looked at.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidFernetKey, InvalidToken } from './errors.ts';

export { InvalidToken, InvalidFernetKey } from './errors.ts';

export const FERNET_VERSION = 0x80;

const VERSION_LEN = 1;
const TIMESTAMP_LEN = 8;
const IV_LEN = 16;
const BLOCK_LEN = 16;
const HMAC_LEN = 32;
/** Offsets of the fields in the decoded token. */
export const OFFSETS = {
  version: 0,
  timestamp: VERSION_LEN,
  iv: VERSION_LEN + TIMESTAMP_LEN,
  ciphertext: VERSION_LEN + TIMESTAMP_LEN + IV_LEN,
} as const;
const HEADER_LEN = OFFSETS.ciphertext;
/** Smallest possible token: header, one cipher block (an empty message still pads to 16 bytes), HMAC. */
const MIN_TOKEN_LEN = HEADER_LEN + BLOCK_LEN + HMAC_LEN;
/** Clock skew tolerated for tokens stamped in the future when a TTL is checked (same as the reference implementations). */
const MAX_CLOCK_SKEW_SECONDS = 60;

/** A parsed key: the two 16-byte halves. */
export interface FernetKey {
  readonly signing: Buffer;
  readonly encryption: Buffer;
}
/** Keys may be given as their base64url text or already parsed (faster: parse once, use many times). */
export type FernetKeyLike = string | FernetKey;

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Strict base64url decoding: only the urlsafe alphabet, padding optional but
 * correct if present, and canonical (unused trailing bits zero) so one token has
 * exactly one spelling. Returns null instead of throwing.
 */
export function decodeBase64Url(text: string): Buffer | null {
  if (typeof text !== 'string' || !BASE64URL.test(text)) return null;
  const body = text.replace(/=+$/, '');
  if (body.length !== text.length && text.length % 4 !== 0) return null;
  if (body.length % 4 === 1) return null;
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.toString('base64url') !== body) return null;
  return bytes;
}

/** base64url with `=` padding, as the Fernet spec writes tokens and keys. */
export function encodeBase64UrlPadded(bytes: Uint8Array): string {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  return body + '='.repeat((4 - (body.length % 4)) % 4);
}

/** A new random key, base64url with padding (44 chars). */
export function generateKey(): string {
  return encodeBase64UrlPadded(randomBytes(32));
}

export function parseKey(key: FernetKeyLike): FernetKey {
  if (typeof key !== 'string') {
    if (key && key.signing?.length === 16 && key.encryption?.length === 16) return key;
    throw new InvalidFernetKey('Fernet key must have a 16-byte signing key and a 16-byte encryption key');
  }
  const bytes = decodeBase64Url(key.trim());
  if (!bytes || bytes.length !== 32) {
    throw new InvalidFernetKey('Fernet key must be 32 bytes encoded as urlsafe base64 (44 characters)');
  }
  return { signing: bytes.subarray(0, 16), encryption: bytes.subarray(16, 32) };
}

function parseKeys(keys: readonly FernetKeyLike[]): FernetKey[] {
  if (!Array.isArray(keys) || keys.length === 0) throw new InvalidFernetKey('no Fernet keys given');
  return keys.map(parseKey);
}

function hmac(signingKey: Buffer, data: Uint8Array): Buffer {
  return createHmac('sha256', signingKey).update(data).digest();
}

function toBytes(plaintext: Uint8Array | string): Uint8Array {
  return typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
}

export interface EncryptOptions {
  /** Timestamp to record, whole seconds since the epoch (default: now). For test vectors and for callers that need issued-at up front. */
  now?: number;
  /** IV to use (default: 16 random bytes). Only test vectors should set this: an IV must never repeat. */
  iv?: Uint8Array;
}

/** Encrypts with the first (primary) key. Returns the padded base64url token as the spec defines it. */
export function encrypt(keys: readonly FernetKeyLike[], plaintext: Uint8Array | string, opts: EncryptOptions = {}): string {
  if (!Array.isArray(keys) || keys.length === 0) throw new InvalidFernetKey('no Fernet keys given');
  const key = parseKey(keys[0]!);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('Fernet timestamp must be a non-negative integer of seconds');
  const iv = opts.iv ?? randomBytes(IV_LEN);
  if (iv.length !== IV_LEN) throw new RangeError('Fernet IV must be 16 bytes');

  const cipher = createCipheriv('aes-128-cbc', key.encryption, iv);
  const ciphertext = Buffer.concat([cipher.update(toBytes(plaintext)), cipher.final()]);

  const token = Buffer.allocUnsafe(HEADER_LEN + ciphertext.length + HMAC_LEN);
  token[OFFSETS.version] = FERNET_VERSION;
  token.writeBigUInt64BE(BigInt(now), OFFSETS.timestamp);
  token.set(iv, OFFSETS.iv);
  ciphertext.copy(token, OFFSETS.ciphertext);
  const signedLen = HEADER_LEN + ciphertext.length;
  hmac(key.signing, token.subarray(0, signedLen)).copy(token, signedLen);
  return encodeBase64UrlPadded(token);
}

export interface DecryptOptions {
  /** If set, reject tokens older than this many seconds, or stamped more than 60 s in the future. */
  ttlSeconds?: number;
  /** The verifier's clock, seconds since the epoch (default: now). Only used with ttlSeconds. */
  now?: number;
}

export interface Decrypted {
  plaintext: Buffer;
  /** The token's creation time, seconds since the epoch. */
  timestamp: number;
}

/** Verifies and decrypts, returning the message and the token's timestamp. */
export function decryptWithTimestamp(keys: readonly FernetKeyLike[], token: string, opts: DecryptOptions = {}): Decrypted {
  const parsed = parseKeys(keys);
  try {
    return open(parsed, token, opts);
  } catch (err) {
    if (err instanceof InvalidToken) throw err;
    // Anything else (a crypto error on a crafted input) is still a bad token to the caller.
    throw new InvalidToken();
  }
}

/** Verifies and decrypts; tries every key, so tokens from secondary and staged keys are accepted. */
export function decrypt(keys: readonly FernetKeyLike[], token: string, opts: DecryptOptions = {}): Buffer {
  return decryptWithTimestamp(keys, token, opts).plaintext;
}

function open(keys: readonly FernetKey[], token: string, opts: DecryptOptions): Decrypted {
  const raw = decodeBase64Url(token);
  if (!raw) throw new InvalidToken('token is not urlsafe base64');
  if (raw.length < MIN_TOKEN_LEN) throw new InvalidToken('token is too short');
  if (raw[OFFSETS.version] !== FERNET_VERSION) throw new InvalidToken('unknown token version');
  if ((raw.length - HEADER_LEN - HMAC_LEN) % BLOCK_LEN !== 0) throw new InvalidToken('ciphertext is not a whole number of blocks');

  // The spec checks the age before the HMAC (so stale tokens cost no HMAC); the outcome is the same error either way.
  const timestamp = Number(raw.readBigUInt64BE(OFFSETS.timestamp));
  if (opts.ttlSeconds !== undefined) {
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    if (timestamp + opts.ttlSeconds < now) throw new InvalidToken('token is older than its time-to-live');
    if (timestamp > now + MAX_CLOCK_SKEW_SECONDS) throw new InvalidToken('token timestamp is in the future');
  }

  const signedLen = raw.length - HMAC_LEN;
  const signed = raw.subarray(0, signedLen);
  const mac = raw.subarray(signedLen);
  // Compare against every key (no early exit) so timing does not say which key matched.
  let match: FernetKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(hmac(key.signing, signed), mac) && !match) match = key;
  }
  if (!match) throw new InvalidToken('token signature does not match any key');

  const iv = raw.subarray(OFFSETS.iv, OFFSETS.ciphertext);
  const decipher = createDecipheriv('aes-128-cbc', match.encryption, iv);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(raw.subarray(OFFSETS.ciphertext, signedLen)), decipher.final()]);
  } catch {
    throw new InvalidToken('bad padding');
  }
  return { plaintext, timestamp };
}
