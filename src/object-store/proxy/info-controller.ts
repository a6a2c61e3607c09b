// GET /info: what this cluster can do, for clients to discover before they try (Swift's
// InfoController). Public: no token needed.
import type { Capabilities } from '../capabilities.ts';
import { PUBLISHED_CONSTRAINTS } from '../constraints.ts';
import type { SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { methodNotAllowed } from './responses.ts';
import { DEFAULT_POLICY } from './storage-policy.ts';

/** The Swift release whose API this proxy speaks. */
export const SWIFT_VERSION = '2.35.0';

const INFO_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/** Registers the proxy's own section. */
export function registerSwiftInfo(capabilities: Capabilities, opts: { accountAutocreate: boolean }): void {
  capabilities.register('swift', {
    version: SWIFT_VERSION,
    ...PUBLISHED_CONSTRAINTS,
    strict_cors_mode: true,
    allow_account_management: false,
    account_autocreate: opts.accountAutocreate,
    allow_open_expired: false,
    policies: [{ name: DEFAULT_POLICY.name, aliases: DEFAULT_POLICY.name, default: true }],
  });
}

export function handleInfo(capabilities: Capabilities, req: SwiftRequest): SwiftResponse {
  if (req.method === 'OPTIONS') return { status: 200, headers: { allow: INFO_METHODS.join(', '), 'content-length': '0' }, body: '' };
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(INFO_METHODS);
  const body = JSON.stringify(capabilities.toJSON());
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(body)) };
  if (req.headers['origin']) {
    headers['access-control-allow-origin'] = req.headers['origin'];
    headers['access-control-expose-headers'] = 'x-trans-id';
  }
  return { status: 200, headers, body };
}
