// Signed requests without a token (tempurl, formpost): HMACs keyed with the temp URL keys an
// account or container owner has set, in any of the digests the operator allows, sent as hex
// or as "<digest>:<base64>".
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Handler, SwiftRequest } from '../pipeline.ts';
import { accountInfo, containerInfo } from './backend-info.ts';

export type Digest = 'sha1' | 'sha256' | 'sha512';

export const SUPPORTED_DIGESTS: readonly Digest[] = ['sha1', 'sha256', 'sha512'];
/** still accepted by default, but shown in /info as deprecated */
export const DEPRECATED_DIGESTS: readonly Digest[] = ['sha1'];

const HEX_LENGTHS: Record<number, Digest> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

/** The operator's allowed digests (unknown names dropped; none given: all supported ones) and the deprecated among them. */
export function allowedDigests(configured: readonly string[] = []): { allowed: Digest[]; deprecated: Digest[] } {
  const wanted = configured.map((d) => d.toLowerCase());
  const allowed = (wanted.length ? SUPPORTED_DIGESTS.filter((d) => wanted.includes(d)) : [...SUPPORTED_DIGESTS]).sort();
  if (allowed.length === 0) throw new Error(`no supported digest among ${configured.join(', ')} (supported: ${SUPPORTED_DIGESTS.join(', ')})`);
  return { allowed, deprecated: allowed.filter((d) => DEPRECATED_DIGESTS.includes(d)) };
}

/**
 * The digest a client signature names and the signature as lower-case hex; undefined when it
 * cannot be read. Hex signatures name their digest by their length; "<name>:<base64>" names it
 * outright (standard or URL-safe alphabet, padding optional).
 */
export function parseSignature(value: string): { digest: string; hex: string } | undefined {
  const colon = value.indexOf(':');
  if (colon < 0) {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(value)) return undefined;
    const digest = HEX_LENGTHS[value.length];
    // Upper-case hex decodes, but never equals a computed signature: Swift compares the text.
    return digest ? { digest, hex: value } : undefined;
  }
  const digest = value.slice(0, colon);
  let b64 = value.slice(colon + 1);
  if (/[-_]/.test(b64) && !/[+/]/.test(b64)) b64 = b64.replace(/-/g, '+').replace(/_/g, '/');
  const bare = b64.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(bare) || bare.length % 4 === 1) return undefined;
  return { digest, hex: Buffer.from(bare, 'base64').toString('hex') };
}

/** The hex HMAC of the newline-joined `parts` under `key`. */
export function hmacHex(digest: string, key: string, parts: readonly string[]): string {
  return createHmac(digest, Buffer.from(key, 'utf8')).update(Buffer.from(parts.join('\n'), 'utf8')).digest('hex');
}

/** Compares two signatures in time independent of where they differ. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export type KeyScope = 'account' | 'container';

function keysIn(meta: Record<string, string>): string[] {
  return ['temp-url-key', 'temp-url-key-2'].map((name) => meta[name]).filter((v): v is string => v !== undefined && v !== '');
}

/**
 * The temp URL keys that may sign a request to this container: X-Account-Meta-Temp-URL-Key(-2)
 * and X-Container-Meta-Temp-URL-Key(-2), each with where it came from (a container key grants
 * that container only). Read without authorization; the caller never sees them.
 */
export async function tempUrlKeys(req: SwiftRequest, next: Handler): Promise<{ key: string; scope: KeyScope }[]> {
  const account = await accountInfo(req, next);
  const container = await containerInfo(req, next);
  return [
    ...keysIn(account.meta).map((key) => ({ key, scope: 'account' as const })),
    ...keysIn(container.meta).map((key) => ({ key, scope: 'container' as const })),
  ];
}
