// Tasks: the asynchronous jobs on images (every import is one, see ../upload/import.ts).
//
//   GET /v2/images/{image_id}/tasks  (Image API 2.12) the image's tasks, newest first, each in
//       full as Glance's database layer formats it (request_id, user_id, input, result,
//       message, deleted/deleted_at, timestamps like 2024-01-02T03:04:05.123000). Whoever may
//       see the image (get_image) may ask; an invisible or refused image is a 404. A non-admin
//       sees only its own project's tasks among them (Glance's task visibility).
//   GET /v2/tasks/{task_id}, GET /v2/tasks  (API 2.2) the task document and the paged list of
//       task stubs; tasks_api_access and get_task / get_tasks, admin-only by default. Listing:
//       limit (default 25, at most 1000), marker, sort_key (created_at, updated_at, expires_at,
//       status, type, id; created_at and id always follow), sort_dir, and equality filters
//       status, type, owner, image_id, user_id, request_id.
//
// A task past its expires_at is gone (Glance soft-deletes it when tasks are read; the import
// purges such rows). POST /v2/tasks (the old 'import' task, deprecated in Glance) is not offered.
import type { FastifyInstance } from 'fastify';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { badRequest, notFound } from '../../core/http/index.ts';
import { nowIso } from '../../core/db/index.ts';
import { policyCredentials, type RequestContext } from '../../core/auth/index.ts';
import type { ImageDatabase, TaskTable } from '../db/schema.ts';
import { imageTarget, visibleImage } from './image-data.ts';
import { glanceTime } from './image-view.ts';
import { authorize, contextOf, isAdmin, type ImageDeps } from './common.ts';

const LIMIT_DEFAULT = 25;
const LIMIT_MAX = 1000;
const SORT_KEYS = ['created_at', 'updated_at', 'expires_at', 'status', 'type', 'id'] as const;
type SortKey = (typeof SORT_KEYS)[number];
const STATUSES = ['pending', 'processing', 'success', 'failure'];
/** Glance's task types (its list filter takes only 'import'; we take every type it has). */
const TYPES = ['import', 'api_image_import', 'location_import'];
const FILTERS = ['status', 'type', 'owner', 'image_id', 'user_id', 'request_id'] as const;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

type Eb = ExpressionBuilder<ImageDatabase, 'task'>;

const parseJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** Python's datetime rendered by oslo's to_primitive: microseconds, no zone. */
const perfectTime = (iso: string) => {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}` : iso;
};

/** A task as GET /v2/images/{id}/tasks shows it. */
export function imageTaskView(t: TaskTable): Record<string, unknown> {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    owner: t.owner,
    expires_at: t.expires_at === null ? null : perfectTime(t.expires_at),
    created_at: perfectTime(t.created_at),
    updated_at: perfectTime(t.updated_at),
    deleted_at: null,
    deleted: false,
    image_id: t.image_id,
    request_id: t.request_id,
    user_id: t.user_id,
    input: parseJson(t.input),
    result: parseJson(t.result),
    message: t.message,
  };
}

/** The task document of GET /v2/tasks/{id}. */
export function taskView(t: TaskTable): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: t.id,
    input: parseJson(t.input),
    type: t.type,
    status: t.status,
    owner: t.owner,
    message: t.message,
    result: parseJson(t.result),
    created_at: glanceTime(t.created_at),
    updated_at: glanceTime(t.updated_at),
    self: `/v2/tasks/${t.id}`,
    schema: '/v2/schemas/task',
  };
  if (t.image_id) view.image_id = t.image_id;
  if (t.request_id) view.request_id = t.request_id;
  if (t.user_id) view.user_id = t.user_id;
  if (t.expires_at) view.expires_at = glanceTime(t.expires_at);
  return view;
}

/** A task in GET /v2/tasks. */
function taskStub(t: TaskTable): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: t.id,
    type: t.type,
    status: t.status,
    owner: t.owner,
    created_at: glanceTime(t.created_at),
    updated_at: glanceTime(t.updated_at),
    self: `/v2/tasks/${t.id}`,
    schema: '/v2/schemas/task',
  };
  if (t.expires_at) view.expires_at = glanceTime(t.expires_at);
  return view;
}

const unexpired = (eb: Eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>=', nowIso())]);

/** Glance's task visibility: admins see every task, others their project's (and ownerless) ones. */
function visibleTo(ctx: RequestContext) {
  return (eb: Eb) => (isAdmin(ctx) ? sql<SqlBool>`1 = 1` : eb.or([eb('owner', 'is', null), eb('owner', '=', ctx.projectId ?? '')]));
}

/** Tasks ordered by `key` may have no expires_at yet: those sort as the smallest value. */
const column = (key: SortKey) => (key === 'expires_at' ? sql<string>`coalesce(expires_at, '')` : sql.ref<string>(key));
const valueOf = (t: TaskTable, key: SortKey) => (key === 'expires_at' ? (t.expires_at ?? '') : t[key]);

interface TaskListQuery {
  limit: number;
  marker?: string;
  keys: SortKey[];
  dir: 'asc' | 'desc';
  filters: [string, string][];
}

function parseTaskListQuery(query: Record<string, unknown>): TaskListQuery {
  const one = (key: string): string | undefined => {
    const v = query[key];
    return v === undefined ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v);
  };
  const dir = one('sort_dir') ?? 'desc';
  if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
  const key = one('sort_key') ?? 'created_at';
  if (!(SORT_KEYS as readonly string[]).includes(key)) throw badRequest(`Invalid sort key: ${key}.`);
  const keys = [...new Set([key as SortKey, 'created_at' as const, 'id' as const])];

  const status = one('status');
  if (status && !STATUSES.includes(status)) throw badRequest(`Invalid status value: ${status}`);
  const type = one('type');
  if (type && !TYPES.includes(type)) throw badRequest(`Invalid type value: ${type}`);

  const marker = one('marker');
  if (marker && !UUID.test(marker)) throw badRequest('Invalid marker format');

  let limit = LIMIT_DEFAULT;
  const limitText = one('limit');
  if (limitText !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(limitText)) throw badRequest('limit param must be an integer');
    const n = Number(limitText.trim());
    if (n < 0) throw badRequest('limit param must be positive');
    limit = Math.min(n, LIMIT_MAX);
  }
  const filters: [string, string][] = [];
  for (const f of FILTERS) {
    const v = one(f);
    if (v) filters.push([f, v]);
  }
  return { limit, marker: marker || undefined, keys, dir, filters };
}

/** Rows after `marker` in the order of `keys` (all in one direction). */
function afterMarker(keys: SortKey[], dir: 'asc' | 'desc', marker: TaskTable) {
  const op = dir === 'asc' ? '>' : '<';
  return (eb: Eb): Expression<SqlBool> =>
    eb.or(
      keys.map((key, i) =>
        eb.and([
          ...keys.slice(0, i).map((k) => eb(column(k), '=', valueOf(marker, k))),
          eb(column(key), op, valueOf(marker, key)),
        ]),
      ),
    );
}

export function registerTasks(app: FastifyInstance, deps: ImageDeps): void {
  app.get<{ Params: { image_id: string } }>('/v2/images/:image_id/tasks', async (req) => {
    const ctx = contextOf(req);
    const image = await visibleImage(deps, ctx, req.params.image_id);
    // Glance answers a refused get_image here with a 404 too.
    if (!deps.policy.check('get_image', { project_id: ctx.projectId, ...imageTarget(ctx, image) }, policyCredentials(ctx))) {
      throw notFound(`No image found with ID ${req.params.image_id}`);
    }
    const rows = await deps.data.db
      .selectFrom('task')
      .selectAll()
      .where('image_id', '=', image.row.id)
      .where(unexpired)
      .where(visibleTo(ctx))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return { tasks: rows.map(imageTaskView) };
  });

  app.get<{ Params: { task_id: string } }>('/v2/tasks/:task_id', async (req) => {
    authorize(req, deps, 'tasks_api_access');
    const ctx = authorize(req, deps, 'get_task');
    const row = await deps.data.db
      .selectFrom('task')
      .selectAll()
      .where('id', '=', req.params.task_id)
      .where(unexpired)
      .where(visibleTo(ctx))
      .executeTakeFirst();
    if (!row) throw notFound(`Task with the given id ${req.params.task_id} was not found`);
    return taskView(row);
  });

  app.get<{ Querystring: Record<string, unknown> }>('/v2/tasks', async (req) => {
    authorize(req, deps, 'tasks_api_access');
    const ctx = authorize(req, deps, 'get_tasks');
    const q = parseTaskListQuery(req.query ?? {});

    let query = deps.data.db.selectFrom('task').selectAll().where(unexpired).where(visibleTo(ctx));
    for (const [name, value] of q.filters) query = query.where(name as (typeof FILTERS)[number], '=', value);
    if (q.marker) {
      const marker = await deps.data.db.selectFrom('task').selectAll().where('id', '=', q.marker).where(unexpired).where(visibleTo(ctx)).executeTakeFirst();
      if (!marker) throw badRequest(`Task with the given id ${q.marker} was not found`);
      query = query.where(afterMarker(q.keys, q.dir, marker));
    }
    for (const key of q.keys) query = query.orderBy(column(key), q.dir);
    const rows = q.limit === 0 ? [] : await query.limit(q.limit).execute();

    const params = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    params.delete('marker');
    const rest = params.toString();
    const body: Record<string, unknown> = {
      tasks: rows.map(taskStub),
      first: rest ? `/v2/tasks?${rest}` : '/v2/tasks',
      schema: '/v2/schemas/tasks',
    };
    if (rows.length > 0 && rows.length === q.limit) {
      params.set('marker', rows[rows.length - 1]!.id);
      body.next = `/v2/tasks?${params.toString()}`;
    }
    return body;
  });
}
