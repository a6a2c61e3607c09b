// GET /v2/images: the images a caller may see, filtered, sorted and paged as Glance does.
//
// Which images (Glance's image_get_all):
//   - a non-admin sees public and community images, its project's own, and shared images its
//     project is a member of with `member_status` (default accepted; pending, rejected, all);
//     an admin sees every image;
//   - then, without `visibility`, community images of other projects are left out; with
//     `visibility=<v>` only those of that visibility (all: no such filter);
//   - os_hidden images only with os_hidden=true; killed images never.
// Filters: name, id, status, container_format, disk_format (value, eq:value or
// in:a,"b,c"), created_at/updated_at (eq|neq|gt|gte|lt|lte:<ISO 8601>, to the second),
// size_min/size_max (and virtual_size, min_disk, min_ram), owner, checksum, os_hash_value,
// protected, tag (repeatable, all must match), and any other key=value is a custom property.
// Sorting: sort_key/sort_dir (repeatable) or sort=key[:dir],...; keys name, status,
// container_format, disk_format, size, id, created_at, updated_at; default created_at desc,
// and created_at, id are always added so the order is total. Paging: limit (default 25, at
// most 1000) and marker (an image the caller can see, else a 400); the page is found by the
// marker's sort values (keyset), so an image deleted or added meanwhile shifts nothing.
// Nulls sort first ascending and last descending, on all three databases alike.
import type { FastifyInstance } from 'fastify';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { badRequest } from '../../core/http/index.ts';
import { policyCredentials, type RequestContext } from '../../core/auth/index.ts';
import { canSee, loadImage, type FullImage } from '../db/images.ts';
import type { ImageDatabase, ImageTable, MemberStatus } from '../db/schema.ts';
import { contextOf, isAdmin, type ImageDeps } from './common.ts';
import { imageView } from './image-view.ts';
import { MAX_DB_INT, enforceRule, hasNul, imageTarget } from './image-rules.ts';

export const LIMIT_DEFAULT = 25;
export const LIMIT_MAX = 1000;
export const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
type SortKey = (typeof SORT_KEYS)[number];
type Dir = 'asc' | 'desc';
const NULLABLE_SORT_KEYS: readonly SortKey[] = ['name', 'container_format', 'disk_format', 'size'];
const VISIBILITIES = ['community', 'public', 'private', 'shared', 'all'];
const MEMBER_STATUSES = ['pending', 'accepted', 'rejected', 'all'];

type Eb = ExpressionBuilder<ImageDatabase, 'image'>;
type Condition = (eb: Eb) => Expression<SqlBool>;
const FALSE: Condition = () => sql<SqlBool>`1 = 0`;

export interface ListQuery {
  limit: number;
  marker?: string;
  memberStatus: MemberStatus | 'all';
  visibility?: string;
  tags: string[];
  sortKeys: SortKey[];
  sortDirs: Dir[];
  osHidden: boolean;
  protected?: boolean;
  /** every other parameter: a filter, last value wins */
  filters: Map<string, string>;
}

/** Python's int() on a query value, or undefined. */
function parseInteger(text: string): number | undefined {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) return undefined;
  return Number(text.trim());
}

function sortKey(key: string): SortKey {
  if (!(SORT_KEYS as readonly string[]).includes(key)) {
    throw badRequest(`Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  }
  return key as SortKey;
}

function sortDir(dir: string): Dir {
  if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
  return dir;
}

/** The query string read as Glance's deserializer and controller read it; 400 for anything malformed. */
export function parseListQuery(params: [string, string][]): ListQuery {
  for (const [k, v] of params) if (hasNul(k) || hasNul(v)) throw badRequest('Query parameters must not contain NUL characters.');
  const first = (key: string) => params.find(([k]) => k === key)?.[1];
  const every = (key: string) => params.filter(([k]) => k === key).map(([, v]) => v);
  const has = (key: string) => params.some(([k]) => k === key);

  const filters = new Map<string, string>();
  const own = new Set(['limit', 'marker', 'member_status', 'tag', 'sort', 'sort_key', 'sort_dir']);
  for (const [k, v] of params) if (!own.has(k)) filters.set(k, v);

  const memberStatus = first('member_status') ?? 'accepted';
  const visibility = filters.get('visibility');
  if (visibility && !VISIBILITIES.includes(visibility)) throw badRequest(`Invalid visibility value: ${visibility}`);
  if (filters.get('changes-since')) throw badRequest('The "changes-since" filter is no longer available on v2.');
  if (!MEMBER_STATUSES.includes(memberStatus)) throw badRequest(`Invalid status: ${memberStatus}`);

  let limit = LIMIT_DEFAULT;
  const limitText = first('limit');
  if (limitText !== undefined) {
    const n = parseInteger(limitText);
    if (n === undefined) throw badRequest('limit param must be an integer');
    if (n < 0) throw badRequest('limit param must be positive');
    limit = n;
  }
  limit = Math.min(LIMIT_MAX, limit);

  let sortKeys: SortKey[] = [];
  let sortDirs: Dir[] = [];
  if (has('sort')) {
    if (has('sort_key') || has('sort_dir')) throw badRequest('Old and new sorting syntax cannot be combined');
    for (const part of first('sort')!.trim().split(',')) {
      const at = part.indexOf(':');
      const key = at < 0 ? part : part.slice(0, at);
      const dir = at < 0 || part.slice(at + 1) === '' ? 'desc' : part.slice(at + 1);
      sortKeys.push(sortKey(key.trim()));
      sortDirs.push(sortDir(dir.trim()));
    }
  } else {
    sortKeys = every('sort_key').map((k) => sortKey(k.trim()));
    sortDirs = every('sort_dir').map((d) => sortDir(d.trim()));
    if (sortDirs.length > 1 && sortDirs.length !== sortKeys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
  }
  if (sortKeys.length === 0) sortKeys = ['created_at'];
  if (sortDirs.length === 0) sortDirs = ['desc'];
  // one direction applies to every key; the tie-breakers take it too (else desc)
  const defaultDir: Dir = sortDirs.length === 1 ? sortDirs[0]! : 'desc';
  if (sortDirs.length === 1) sortDirs = sortKeys.map(() => defaultDir);
  for (const key of ['created_at', 'id'] as const) {
    if (!sortKeys.includes(key)) {
      sortKeys.push(key);
      sortDirs.push(defaultDir);
    }
  }

  const hidden = (filters.get('os_hidden') ?? 'false').toLowerCase();
  if (hidden !== 'true' && hidden !== 'false') throw badRequest(`Invalid value '${filters.get('os_hidden')}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`);
  const prot = filters.get('protected');
  if (prot !== undefined && prot !== 'true' && prot !== 'false') {
    throw badRequest(`Invalid value '${prot}' for 'protected' filter. Valid values are 'true' or 'false'.`);
  }
  for (const k of ['visibility', 'changes-since', 'os_hidden', 'protected', 'deleted']) filters.delete(k);

  return {
    limit,
    marker: first('marker'),
    memberStatus: memberStatus as MemberStatus | 'all',
    visibility,
    tags: every('tag').map((t) => t.trim()),
    sortKeys,
    sortDirs,
    osHidden: hidden === 'true',
    protected: prot === undefined ? undefined : prot === 'true',
    filters,
  };
}

// ---- filter values ----

/** Glance's split_filter_op: "op:value", or a bare value (eq); a whole ISO time is a bare value too. */
function splitOp(expression: string): [string, string] {
  const at = expression.indexOf(':');
  if (at < 0) return ['eq', expression];
  if (parseIsoTime(expression) !== undefined) return ['eq', expression];
  return [expression.slice(0, at), expression.slice(at + 1)];
}

/** The values of an in: list, commas separating, double quotes protecting commas (Glance's split_filter_value_for_quotes). */
export function splitInValues(value: string): string[] {
  let open = true;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"') continue;
    if (i > 0 && value[i - 1] === '\\') continue;
    if (open) {
      if (i > 0 && value[i - 1] !== ',') throw badRequest(`Invalid filter value ${value}. There is no comma before opening quotation mark.`);
    } else if (i + 1 !== value.length && value[i + 1] !== ',') {
      throw badRequest(`Invalid filter value ${value}. There is no comma after closing quotation mark.`);
    }
    open = !open;
  }
  if (!open) throw badRequest(`Invalid filter value ${value}. The quote is not closed.`);
  const out: string[] = [];
  for (const m of value.matchAll(/"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,/g)) out.push(m[1] || m[2] || '');
  return out;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** An ISO 8601 time (date, optional time and zone; UTC when none) as epoch ms, or undefined. */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return undefined;
  const nums = m.slice(1, 7).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const ms = Date.UTC(nums[0], nums[1] - 1, nums[2], nums[3], nums[4], nums[5]);
  const back = new Date(ms);
  if (back.getUTCMonth() !== nums[1] - 1 || back.getUTCDate() !== nums[2] || nums[3] > 23 || nums[4] > 59 || nums[5] > 59) return undefined;
  let offset = 0;
  const zone = m[7];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const sign = digits[0] === '-' ? -1 : 1;
    const hours = Number(digits.slice(1, 3));
    const minutes = digits.length > 3 ? Number(digits.slice(3, 5)) : 0;
    if (hours > 23 || minutes > 59) return undefined;
    offset = sign * (hours * 60 + minutes) * 60_000;
  }
  return ms - offset;
}

const COMPARATORS: Record<string, '=' | '!=' | '>' | '>=' | '<' | '<='> = { eq: '=', neq: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

function timeCondition(column: 'created_at' | 'updated_at', expression: string): Condition {
  const [op, text] = splitOp(expression);
  const at = parseIsoTime(text);
  if (at === undefined) throw badRequest(`Bad "${column}" query filter format. Use ISO 8601 DateTime notation.`);
  const cmp = COMPARATORS[op];
  if (!cmp) throw badRequest('Unable to filter on a unknown operator.');
  // Timestamps are kept to the millisecond; Glance compares them to the second.
  const second = new Date(at).toISOString().slice(0, 19);
  return () => sql<SqlBool>`substr(${sql.ref(`image.${column}`)}, 1, 19) ${sql.raw(cmp)} ${second}`;
}

function listCondition(column: 'name' | 'id' | 'status' | 'container_format' | 'disk_format', expression: string): Condition {
  const [op, value] = splitOp(expression);
  if (op === 'in') {
    const values = splitInValues(value);
    if (values.length === 0) return FALSE;
    return (eb) => eb(`image.${column}`, 'in', values);
  }
  if (op === 'eq') return (eb) => eb(`image.${column}`, '=', value);
  throw badRequest(`Unable to filter by unknown operator '${op}'.`);
}

/** Bounds of each numeric column, so no value handed to the database overflows it. */
const NUMERIC: Record<string, [number, number]> = {
  size: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  virtual_size: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  min_disk: [-MAX_DB_INT - 1, MAX_DB_INT],
  min_ram: [-MAX_DB_INT - 1, MAX_DB_INT],
};
type NumericColumn = 'size' | 'virtual_size' | 'min_disk' | 'min_ram';

function rangeCondition(column: NumericColumn, bound: 'min' | 'max', text: string): Condition | undefined {
  const v = parseInteger(text);
  if (v === undefined) throw badRequest('Unable to filter on a range with a non-numeric value.');
  const [lo, hi] = NUMERIC[column]!;
  if (bound === 'min') {
    if (v > hi) return FALSE;
    if (v <= lo) return undefined;
    return (eb) => eb(`image.${column}`, '>=', v);
  }
  if (v < lo) return FALSE;
  if (v >= hi) return undefined;
  return (eb) => eb(`image.${column}`, '<=', v);
}

function exactNumber(column: NumericColumn, text: string): Condition {
  const v = parseInteger(text);
  if (v === undefined) throw badRequest(`Invalid value '${text}' for '${column}' filter: it must be an integer.`);
  const [lo, hi] = NUMERIC[column]!;
  if (v < lo || v > hi) return FALSE;
  return (eb) => eb(`image.${column}`, '=', v);
}

/** One filter parameter as a condition (undefined: no restriction). */
function filterCondition(key: string, value: string): Condition | undefined {
  const range = /^(size|virtual_size|min_disk|min_ram)_(min|max)$/.exec(key);
  if (range) return rangeCondition(range[1] as NumericColumn, range[2] as 'min' | 'max', value);
  switch (key) {
    case 'created_at':
    case 'updated_at':
      return timeCondition(key, value);
    case 'name':
    case 'id':
    case 'status':
    case 'container_format':
    case 'disk_format':
      return listCondition(key, value);
    case 'owner':
    case 'checksum':
    case 'os_hash_value':
    case 'os_hash_algo':
      return (eb) => eb(`image.${key}`, '=', value);
    case 'size':
    case 'virtual_size':
    case 'min_disk':
    case 'min_ram':
      return exactNumber(key, value);
    default:
      return (eb) =>
        eb.exists(
          eb
            .selectFrom('image_property')
            .select('image_property.image_id')
            .whereRef('image_property.image_id', '=', 'image.id')
            .where('image_property.name', '=', key)
            .where('image_property.value', '=', value),
        );
  }
}

// ---- sorting and the marker ----

function sortRef(key: SortKey) {
  return sql.ref(`image.${key}`);
}

/** Rows that come after the marker in this key's order (nulls first ascending, last descending). */
function after(eb: Eb, key: SortKey, dir: Dir, mv: unknown): Expression<SqlBool> {
  const col = `image.${key}` as const;
  const nullable = NULLABLE_SORT_KEYS.includes(key);
  if (mv === null || mv === undefined) {
    if (!nullable) return sql<SqlBool>`1 = 0`;
    return dir === 'asc' ? eb(col, 'is not', null) : sql<SqlBool>`1 = 0`;
  }
  if (dir === 'asc') return eb(col, '>', mv as never);
  return nullable ? eb.or([eb(col, '<', mv as never), eb(col, 'is', null)]) : eb(col, '<', mv as never);
}

function same(eb: Eb, key: SortKey, mv: unknown): Expression<SqlBool> {
  const col = `image.${key}` as const;
  return mv === null || mv === undefined ? eb(col, 'is', null) : eb(col, '=', mv as never);
}

/** The keyset condition: after the marker in the first key, or equal in it and after in the next, ... */
function afterMarker(q: ListQuery, marker: ImageTable): Condition {
  return (eb) =>
    eb.or(
      q.sortKeys.map((key, i) =>
        eb.and([...q.sortKeys.slice(0, i).map((k) => same(eb, k, marker[k])), after(eb, key, q.sortDirs[i]!, marker[key])]),
      ),
    );
}

// ---- the query ----

async function listImages(deps: ImageDeps, ctx: RequestContext, q: ListQuery): Promise<{ images: FullImage[]; full: boolean }> {
  const conditions: Condition[] = [];
  for (const [key, value] of q.filters) {
    const c = filterCondition(key, value);
    if (c) conditions.push(c);
  }
  let markerRow: ImageTable | undefined;
  if (q.marker !== undefined) {
    const m = await loadImage(deps.data.db, q.marker, ctx.projectId);
    if (!m || !canSee(ctx, m)) throw badRequest(`No image found with ID ${q.marker}`);
    markerRow = m.row;
  }

  const project = ctx.projectId;
  let query = deps.data.db.selectFrom('image').selectAll('image');
  if (!isAdmin(ctx)) {
    query = query.where((eb) => {
      const visible: Expression<SqlBool>[] = [eb('image.visibility', 'in', ['public', 'community'])];
      if (project) {
        visible.push(eb('image.owner', '=', project));
        let member = eb
          .selectFrom('image_member')
          .select('image_member.image_id')
          .whereRef('image_member.image_id', '=', 'image.id')
          .where('image_member.member', '=', project);
        if (q.memberStatus !== 'all') member = member.where('image_member.status', '=', q.memberStatus);
        visible.push(eb.and([eb('image.visibility', '=', 'shared'), eb.exists(member)]));
      }
      return eb.or(visible);
    });
  }
  if (q.visibility !== undefined) {
    if (q.visibility !== 'all') query = query.where('image.visibility', '=', q.visibility as never);
  } else if (!project) {
    query = query.where('image.visibility', '!=', 'community');
  } else {
    query = query.where((eb) => eb.or([eb('image.owner', '=', project), eb('image.visibility', '!=', 'community')]));
  }
  query = query.where('image.status', '!=', 'killed').where('image.os_hidden', '=', q.osHidden ? 1 : 0);
  if (q.protected !== undefined) query = query.where('image.protected', '=', q.protected ? 1 : 0);
  for (const tag of q.tags) {
    query = query.where((eb) =>
      eb.exists(eb.selectFrom('image_tag').select('image_tag.image_id').whereRef('image_tag.image_id', '=', 'image.id').where('image_tag.value', '=', tag)),
    );
  }
  for (const c of conditions) query = query.where(c);
  if (markerRow) query = query.where(afterMarker(q, markerRow));
  q.sortKeys.forEach((key, i) => {
    const dir = q.sortDirs[i]!;
    if (NULLABLE_SORT_KEYS.includes(key)) query = query.orderBy(sql`case when ${sortRef(key)} is null then 0 else 1 end`, dir);
    query = query.orderBy(sortRef(key), dir);
  });
  const rows = await query.limit(q.limit).execute();

  const ids = rows.map((r) => r.id);
  const [tags, props, locations, members] = ids.length
    ? await Promise.all([
        deps.data.db.selectFrom('image_tag').select(['image_id', 'value']).where('image_id', 'in', ids).orderBy('value').execute(),
        deps.data.db.selectFrom('image_property').select(['image_id', 'name', 'value']).where('image_id', 'in', ids).execute(),
        deps.data.db.selectFrom('image_location').selectAll().where('image_id', 'in', ids).execute(),
        project
          ? deps.data.db.selectFrom('image_member').select(['image_id', 'status']).where('image_id', 'in', ids).where('member', '=', project).execute()
          : Promise.resolve([]),
      ])
    : [[], [], [], []];
  const images: FullImage[] = rows.map((row) => ({
    row,
    tags: tags.filter((t) => t.image_id === row.id).map((t) => t.value),
    properties: Object.fromEntries(props.filter((p) => p.image_id === row.id).map((p) => [p.name, p.value])),
    locations: locations.filter((l) => l.image_id === row.id),
    membership: members.find((m) => m.image_id === row.id)?.status,
  }));
  // Each image is also checked against get_image, as Glance does after its query.
  const creds = policyCredentials(ctx);
  const allowed = images.filter((image) => deps.policy.check('get_image', imageTarget(ctx, image), creds));
  return { images: allowed, full: allowed.length > 0 && rows.length === q.limit };
}

/** The request's query string as ordered pairs (repeats kept). */
function queryPairs(url: string): [string, string][] {
  const at = url.indexOf('?');
  return at < 0 ? [] : [...new URLSearchParams(url.slice(at + 1))];
}

export function registerImageList(app: FastifyInstance, deps: ImageDeps): void {
  app.get('/v2/images', async (req) => {
    const ctx = contextOf(req);
    const pairs = queryPairs(req.url);
    const q = parseListQuery(pairs);
    enforceRule(ctx, deps, 'get_images', { project_id: ctx.projectId });
    const { images, full } = await listImages(deps, ctx, q);

    const rest = pairs.filter(([k]) => k !== 'marker');
    const query = new URLSearchParams(rest).toString();
    const body: Record<string, unknown> = {
      images: images.map((image) => imageView(image)),
      first: query ? `/v2/images?${query}` : '/v2/images',
      schema: '/v2/schemas/images',
    };
    if (full) body.next = `/v2/images?${new URLSearchParams([...rest, ['marker', images[images.length - 1]!.row.id]]).toString()}`;
    return body;
  });
}
