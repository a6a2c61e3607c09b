import type { Credentials } from './types.ts';

export type TokenScope = 'system' | 'domain' | 'project';

/**
 * oslo.policy sets `creds.system` from `system_scope` before checking (older rules test
 * `system:all`). We copy rather than change the caller's object.
 */
export function withSystemAlias(creds: Credentials): Credentials {
  return creds.system_scope ? { ...creds, system: creds.system_scope } : creds;
}

/** The token's scope as oslo.policy infers it; anything not system or domain scoped is 'project'. */
export function tokenScope(creds: Credentials): TokenScope {
  if (creds.system) return 'system';
  if (creds.domain_id) return 'domain';
  return 'project';
}
