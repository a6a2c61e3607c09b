// Request-body checks shared by the router and floating IP APIs, worded as Neutron's attribute
// validators word them (webob HTTPBadRequest).
import { typedError } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import { isAdmin } from '../api/common.ts';
import { parseAddress, parseCidr } from './addresses.ts';

export const httpBadRequest = (message: string) => typedError(400, 'HTTPBadRequest', message);
const invalid = (attr: string, reason: string) => httpBadRequest(`Invalid input for ${attr}. Reason: ${reason}.`);

/** 400 for attributes the resource does not have, or cannot take in this request. */
export function checkAttributes(body: Record<string, unknown>, allowed: string[], readOnly: string[], method: 'POST' | 'PUT'): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k) && !readOnly.includes(k));
  if (unknown.length) throw httpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const fixed = Object.keys(body).find((k) => readOnly.includes(k) && !allowed.includes(k));
  if (fixed) {
    throw httpBadRequest(method === 'PUT' ? `Cannot update read-only attribute ${fixed}` : `Attribute '${fixed}' not allowed in POST`);
  }
}

export function stringAttr(body: Record<string, unknown>, key: string, max = 255): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(key, `'${JSON.stringify(v)}' is not a valid string`);
  if (v.length > max) throw invalid(key, `'${v}' exceeds maximum length of ${max}`);
  return v;
}

export function boolAttr(value: unknown, key: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string' && ['true', 'false', '0', '1'].includes(value.toLowerCase())) {
    return value.toLowerCase() === 'true' || value === '1';
  }
  throw invalid(key, `'${String(value)}' cannot be converted to boolean`);
}

export function idAttr(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 36) throw invalid(key, `'${String(value)}' is not a valid UUID`);
  return value;
}

export function addressAttr(value: unknown, key: string): string {
  if (!parseAddress(value)) throw invalid(key, `'${String(value)}' is not a valid IP address`);
  return value as string;
}

export function cidrAttr(value: unknown, key: string): string {
  if (!parseCidr(value)) throw invalid(key, `'${String(value)}' is not a valid IP subnet`);
  return value as string;
}

export function listAttr(value: unknown, key: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(key, `'${JSON.stringify(value)}' is not a list`);
  return value;
}

export function dictAttr(value: unknown, key: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(key, `'${JSON.stringify(value)}' is not a dictionary`);
  return value as Record<string, unknown>;
}

/** The project a new resource belongs to: the caller's, or (admins only) the one named in the body. */
export function owningProject(ctx: RequestContext, body: Record<string, unknown>): string {
  const named = (body.project_id ?? body.tenant_id) as unknown;
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) {
    throw httpBadRequest("'project_id' and 'tenant_id' do not match");
  }
  if (named === undefined) return ctx.projectId ?? '';
  if (typeof named !== 'string' || named.length > 255) throw invalid('project_id', `'${String(named)}' is not a valid string`);
  if (named !== ctx.projectId && !isAdmin(ctx)) {
    throw httpBadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }
  return named;
}

export function tagsAttr(value: unknown): string[] {
  const list = listAttr(value, 'tags');
  for (const t of list) {
    if (typeof t !== 'string' || t.length === 0 || t.length > 255 || t.includes(',')) throw invalid('tags', `'${String(t)}' is not a valid tag`);
  }
  return [...new Set(list as string[])];
}
