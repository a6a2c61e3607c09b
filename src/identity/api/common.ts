// What every identity API file shares: the dependencies it is handed, authorization against
// policy, links, ids, and the body/query helpers with Keystone's error wording.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { HttpError, badRequest, conflict, forbidden, unauthorized, publicBaseUrl } from '../../core/http/index.ts';
import { policyCredentials, type RequestContext } from '../../core/auth/index.ts';
import { isUniqueViolation } from '../../core/db/index.ts';
import type { Enforcer } from '../../core/policy/index.ts';
import type { IdentityStore } from '../db/store.ts';
import type { IdentitySettings } from '../settings.ts';
import type { TokenService } from '../token/token-service.ts';
import type { CredentialCipher } from '../credential/cipher.ts';

export interface IdentityDeps {
  store: IdentityStore;
  policy: Enforcer;
  tokens: TokenService;
  /** encrypts and decrypts stored credential blobs */
  credentials: CredentialCipher;
  settings: IdentitySettings;
  logger: Logger;
}

/** Keystone ids: 32 lower-case hex characters. */
export const newId = (): string => randomUUID().replace(/-/g, '');

/** The caller's context; 401 when the request carried no valid token. */
export function contextOf(req: FastifyRequest): RequestContext {
  if (!req.context) throw unauthorized();
  return req.context;
}

/** Checks `rule` for the caller against `target`; 403 (or 401 without a token) when denied. */
export function authorize(req: FastifyRequest, deps: IdentityDeps, rule: string, target: Record<string, unknown> = {}): RequestContext {
  const ctx = contextOf(req);
  if (!deps.policy.check(rule, target, policyCredentials(ctx))) {
    throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
  }
  return ctx;
}

/** The public base URL of this identity endpoint for `links` (honours X-Forwarded-*). */
export function baseUrl(req: FastifyRequest, deps: IdentityDeps): string {
  return publicBaseUrl(req, deps.settings.publicEndpoint, 'localhost:5000');
}

export const selfLink = (req: FastifyRequest, deps: IdentityDeps, path: string) => ({
  self: `${baseUrl(req, deps)}/v3/${path}`,
});

/** The collection envelope Keystone answers lists with. */
export function collection(req: FastifyRequest, deps: IdentityDeps, key: string, items: unknown[]) {
  return {
    [key]: items,
    links: { self: `${baseUrl(req, deps)}${req.url.split('?')[0]}`, previous: null, next: null },
  };
}

/** The object under `key` in a request body; 400 when absent or not an object. */
export function bodyObject(body: unknown, key: string): Record<string, unknown> {
  const value = (body as Record<string, unknown> | undefined)?.[key];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`Invalid input for field '${key}': the request body must contain an object '${key}'.`);
  }
  return value as Record<string, unknown>;
}

type FieldKind = 'string' | 'boolean' | 'object' | 'array' | 'nullable-string';

/** Checks one field's type, Keystone-style 400 when wrong; returns it (undefined when absent). */
export function field<T = unknown>(
  obj: Record<string, unknown>,
  name: string,
  kind: FieldKind,
  opts: { required?: boolean; maxLength?: number; minLength?: number } = {},
): T | undefined {
  const value = obj[name];
  if (value === undefined) {
    if (opts.required) throw badRequest(`Invalid input for field '${name}': '${name}' is a required property.`);
    return undefined;
  }
  const ok =
    kind === 'string' ? typeof value === 'string'
    : kind === 'nullable-string' ? typeof value === 'string' || value === null
    : kind === 'boolean' ? typeof value === 'boolean'
    : kind === 'array' ? Array.isArray(value)
    : value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!ok) throw badRequest(`Invalid input for field '${name}': ${JSON.stringify(value)} is not of type '${kind}'.`);
  if (typeof value === 'string') {
    const min = opts.minLength ?? (kind === 'string' && opts.required ? 1 : 0);
    if (value.length < min) throw badRequest(`Invalid input for field '${name}': '${value}' is too short.`);
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      throw badRequest(`Invalid input for field '${name}': the value is longer than ${opts.maxLength} characters.`);
    }
  }
  return value as T;
}

/** Query-string booleans as Keystone reads them: absent → undefined; '0'/'false'/'no' → false. */
export function queryBool(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  return !['0', 'false', 'no', 'off'].includes(String(value).toLowerCase());
}

/** Attributes a client sent that have no column of their own, kept and echoed as Keystone does. */
export function extraOf(obj: Record<string, unknown>, known: string[]): string {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k) && k !== 'links') extra[k] = v;
  return JSON.stringify(extra);
}

export const parseJson = (text: string | null | undefined): Record<string, unknown> =>
  text ? (JSON.parse(text) as Record<string, unknown>) : {};

/** Runs a write, turning a unique-constraint violation into Keystone's 409. */
export async function uniquely<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Conflict occurred attempting to store ${what}. Duplicate entry.`);
    throw err;
  }
}

export { HttpError };
