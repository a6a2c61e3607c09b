// What every networking API file shares: dependencies, authorization, Neutron's error types,
// standard attributes, and the list semantics every collection has (fields=, filters on any
// attribute, sort_key/sort_dir, limit/marker with <resource>_links).
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { HttpError, typedError, publicBaseUrl } from '../../core/http/index.ts';
import { policyCredentials, type RequestContext } from '../../core/auth/index.ts';
import type { Enforcer } from '../../core/policy/index.ts';
import type { Bus } from '../../core/bus/index.ts';
import type { NetworkData } from '../db/database.ts';
import type { NetworkSettings } from '../network-settings.ts';

export interface NetworkDeps {
  data: NetworkData;
  policy: Enforcer;
  settings: NetworkSettings;
  /** events to the per-host agents (see agent/events.ts) */
  bus: Bus;
  logger: Logger;
}

export const newId = (): string => randomUUID();
export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The caller's context (the token hook ran before every handler). */
export function contextOf(req: FastifyRequest): RequestContext {
  if (!req.context) throw typedError(401, 'NotAuthorized', 'The request you have made requires authentication.');
  return req.context;
}

export const isAdmin = (ctx: RequestContext) => ctx.roles.includes('admin');

/** Neutron policy targets carry both project_id and tenant_id. */
export function policyTarget(target: Record<string, unknown>): Record<string, unknown> {
  const projectId = target.project_id ?? target.tenant_id;
  return { ...target, project_id: projectId, tenant_id: projectId };
}

export function allowed(req: FastifyRequest, deps: NetworkDeps, rule: string, target: Record<string, unknown>): boolean {
  return deps.policy.check(rule, policyTarget(target), policyCredentials(contextOf(req)));
}

/** Checks `rule`; 403 PolicyNotAuthorized when denied, as Neutron words it. */
export function authorize(req: FastifyRequest, deps: NetworkDeps, rule: string, target: Record<string, unknown> = {}): RequestContext {
  const ctx = contextOf(req);
  if (!allowed(req, deps, rule, target)) {
    throw typedError(403, 'PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`);
  }
  return ctx;
}

/** Neutron's not-found faults: NetworkNotFound, PortNotFound, ... */
export const notFoundError = (kind: string, id: string, label = kind.toLowerCase()) =>
  typedError(404, `${kind}NotFound`, `${kind === 'Network' || kind === 'Port' || kind === 'Subnet' || kind === 'Router' ? kind : label[0]!.toUpperCase() + label.slice(1)} ${id} could not be found.`);

export const badRequest = (message: string) => typedError(400, 'BadRequest', message);
export const invalidInput = (message: string) => typedError(400, 'InvalidInput', `Invalid input for operation: ${message}`);
export const inUse = (type: string, message: string) => typedError(409, type, message);

/** Standard attributes of a row, as every resource shows them. */
export function standardView(row: { created_at: string; updated_at: string; revision_number: number }, tags: string[]) {
  return { created_at: row.created_at, updated_at: row.updated_at, revision_number: Number(row.revision_number), tags };
}

/** The object under `key` of a request body (400 when absent), e.g. {"network": {...}}. */
export function resourceBody(body: unknown, key: string): Record<string, unknown> {
  const value = (body as Record<string, unknown> | undefined)?.[key];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`Resource body required: the request body must contain an object '${key}'.`);
  }
  return value as Record<string, unknown>;
}

// ---- list semantics ----

export interface ListQuery {
  fields?: string[];
  filters: Record<string, string[]>;
  sort: { key: string; dir: 'asc' | 'desc' }[];
  limit?: number;
  marker?: string;
  pageReverse: boolean;
}

const CONTROL = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);

export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const all = (k: string): string[] => {
    const v = query[k];
    return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
  };
  const filters: Record<string, string[]> = {};
  for (const key of Object.keys(query)) if (!CONTROL.has(key)) filters[key] = all(key);
  const keys = all('sort_key');
  const dirs = all('sort_dir');
  if (dirs.length && dirs.length !== keys.length) throw badRequest('The number of sort_keys and sort_dirs must be same');
  const sort = keys.map((key, i) => {
    const dir = (dirs[i] ?? 'asc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`${dir} is invalid attribute for sort_dir`);
    return { key, dir: dir as 'asc' | 'desc' };
  });
  let limit: number | undefined;
  if (query.limit !== undefined) {
    const text = String(query.limit);
    if (!/^-?\d+$/.test(text)) throw badRequest(`Bad limit request: limit must be an integer, got '${text}'.`);
    limit = Number(text);
    if (limit < 0) throw badRequest('Bad limit request: limit must be a positive integer.');
    if (limit === 0) limit = undefined;
  }
  const fields = all('fields').flatMap((f) => f.split(',')).filter(Boolean);
  return {
    fields: fields.length ? fields : undefined,
    filters,
    sort,
    limit,
    marker: query.marker === undefined ? undefined : String(query.marker),
    pageReverse: String(query.page_reverse ?? 'false').toLowerCase() === 'true',
  };
}

/** A view's value as a query string compares to it: booleans as True/False, as Neutron's filters. */
function asFilterText(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(asFilterText);
  if (typeof value === 'boolean') return [value ? 'true' : 'false'];
  if (value === null || value === undefined) return [''];
  return [String(value)];
}

function matches(view: Record<string, unknown>, key: string, wanted: string[]): boolean {
  if (!(key in view)) return true; // Neutron ignores filters on attributes a resource does not have
  const have = asFilterText(view[key]).map((v) => v.toLowerCase() === 'true' || v.toLowerCase() === 'false' ? v.toLowerCase() : v);
  return wanted.some((w) => have.includes(['true', 'false'].includes(w.toLowerCase()) ? w.toLowerCase() : w));
}

function tagFilter(view: Record<string, unknown>, query: Record<string, unknown>): boolean {
  const tags = (view.tags as string[] | undefined) ?? [];
  const list = (k: string) => (query[k] === undefined ? undefined : String(query[k]).split(',').filter(Boolean));
  const [all, any, notAll, notAny] = [list('tags'), list('tags-any'), list('not-tags'), list('not-tags-any')];
  if (all && !all.every((t) => tags.includes(t))) return false;
  if (any && !any.some((t) => tags.includes(t))) return false;
  if (notAll && notAll.every((t) => tags.includes(t))) return false;
  if (notAny && notAny.some((t) => tags.includes(t))) return false;
  return true;
}

const compare = (a: unknown, b: unknown): number => {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
};

/** Keeps only the requested fields (Neutron always keeps none it was not asked for). */
export function selectFields(view: Record<string, unknown>, fields?: string[]): Record<string, unknown> {
  if (!fields) return view;
  return Object.fromEntries(fields.filter((f) => f in view).map((f) => [f, view[f]]));
}

/**
 * Applies filters, sorting, paging and fields to the views of a collection and builds the
 * response body {<plural>: [...], <plural>_links?: [...]}.
 */
export function listResponse(
  req: FastifyRequest,
  deps: NetworkDeps,
  plural: string,
  views: Record<string, unknown>[],
  q: ListQuery = parseListQuery(req.query as Record<string, unknown>),
): Record<string, unknown> {
  const query = req.query as Record<string, unknown>;
  let items = views.filter((v) => Object.entries(q.filters).every(([k, w]) => matches(v, k, w)) && tagFilter(v, query));
  for (const { key } of q.sort) {
    if (items.length && !(key in items[0]!)) throw badRequest(`${key} is invalid attribute for sort_key`);
  }
  const order = q.sort.length ? q.sort : [{ key: 'id', dir: 'asc' as const }];
  items = [...items].sort((a, b) => {
    for (const { key, dir } of order) {
      const c = compare(a[key], b[key]);
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return compare(a.id, b.id);
  });
  let links: { rel: string; href: string }[] | undefined;
  if (q.limit !== undefined || q.marker !== undefined) {
    let start = 0;
    if (q.marker !== undefined) {
      const at = items.findIndex((i) => i.id === q.marker);
      if (at < 0) throw notFoundError(plural.slice(0, -1), q.marker);
      start = at + 1;
    }
    const page = q.limit === undefined ? items.slice(start) : items.slice(start, start + q.limit);
    links = [];
    const base = `${baseUrl(req, deps)}${req.url.split('?')[0]}`;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (k !== 'marker' && k !== 'page_reverse') for (const x of [v].flat()) params.append(k, String(x));
    if (q.limit !== undefined && page.length === q.limit && start + page.length < items.length) {
      const next = new URLSearchParams(params);
      next.set('marker', String(page[page.length - 1]!.id));
      links.push({ rel: 'next', href: `${base}?${next}` });
    }
    if (q.marker !== undefined && page.length) {
      const previous = new URLSearchParams(params);
      previous.set('marker', String(page[0]!.id));
      previous.set('page_reverse', 'True');
      links.push({ rel: 'previous', href: `${base}?${previous}` });
    }
    items = page;
  }
  const body: Record<string, unknown> = { [plural]: items.map((i) => selectFields(i, q.fields)) };
  if (links?.length) body[`${plural}_links`] = links;
  return body;
}

export function baseUrl(req: FastifyRequest, deps: NetworkDeps): string {
  return publicBaseUrl(req, deps.settings.publicEndpoint, 'localhost:9696');
}

export { HttpError };
