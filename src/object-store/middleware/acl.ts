// Swift's container ACLs (X-Container-Read, X-Container-Write), version 1: a comma-separated
// list of grantees. An item is either a referrer designation `.r:<host>` (`.r:*` anyone,
// `.r:.example.com` a domain, `.r:-host` a refusal, applied in order), the listing switch
// `.rlistings`, or a group that the auth middleware matches against the caller
// (`<project>:<user>` with ids, names or `*`, or a role name).
import { tryDecodeURIComponent } from './quote.ts';

export class AclError extends Error {}

const REFERRER_DESIGNATORS = new Set(['.r', '.ref', '.referer', '.referrer']);

/**
 * The ACL header value tidied to its canonical form (`bob , sue` → `bob,sue`,
 * `.referrer:*.example.com` → `.r:.example.com`), or an AclError saying what is wrong: an
 * unknown `.designator`, a referrer without a host, a referrer in a write ACL.
 */
export function cleanAcl(headerName: string, value: string): string {
  const isWrite = headerName.toLowerCase().includes('write');
  const items: string[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const colon = item.indexOf(':');
    if (colon < 0) {
      items.push(item);
      continue;
    }
    const designator = item.slice(0, colon).trim();
    let host = item.slice(colon + 1).trim();
    if (!designator.startsWith('.')) {
      items.push(item); // project:user
      continue;
    }
    if (!REFERRER_DESIGNATORS.has(designator)) throw new AclError(`Unknown designator '${designator}' in ACL: '${item}'`);
    if (isWrite) throw new AclError(`Referrers not allowed in write ACL: '${item}'`);
    const negate = host.startsWith('-');
    if (negate) host = host.slice(1).trim();
    // `*.example.com` means the same as `.example.com`
    if (host !== '*' && host.startsWith('*')) host = host.slice(1).trim();
    if (!host || host === '.') throw new AclError(`No host/domain value after referrer designation in ACL: '${item}'`);
    items.push(`.r:${negate ? '-' : ''}${host}`);
  }
  return items.join(',');
}

export interface ParsedAcl {
  /** referrer designations without their `.r:` (`*`, `.example.com`, `-bad.example.com`) */
  referrers: string[];
  /** everything else, %-decoded: `.rlistings`, `project:user`, role names */
  groups: string[];
}

/** Splits a cleaned ACL; an absent or empty one grants nothing. */
export function parseAcl(acl: string | undefined): ParsedAcl {
  const parsed: ParsedAcl = { referrers: [], groups: [] };
  if (!acl) return parsed;
  for (const item of acl.split(',')) {
    if (item.startsWith('.r:')) parsed.referrers.push(item.slice(3));
    else parsed.groups.push(tryDecodeURIComponent(item));
  }
  return parsed;
}

/** The host a Referer header names, lower case; 'unknown' when it names none. */
function refererHost(referer: string | undefined): string {
  if (!referer) return 'unknown';
  try {
    const host = new URL(referer.startsWith('//') ? `http:${referer}` : referer).hostname;
    return host.replace(/^\[(.*)\]$/, '$1') || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Whether the request's Referer is let in by the designations, the last that matches deciding. */
export function referrerAllowed(referer: string | undefined, referrers: readonly string[]): boolean {
  if (referrers.length === 0) return false;
  const host = refererHost(referer);
  const matches = (pattern: string) => pattern === host || (pattern.startsWith('.') && host.endsWith(pattern));
  let allowed = false;
  for (const designation of referrers) {
    if (designation.startsWith('-')) {
      if (matches(designation.slice(1))) allowed = false;
    } else if (designation === '*' || matches(designation)) {
      allowed = true;
    }
  }
  return allowed;
}
