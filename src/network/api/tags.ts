// The tags API (standard-attr-tag) of every resource with standard attributes:
//   GET    /v2.0/{resources}/{id}/tags          → 200 {"tags": [...]}
//   PUT    /v2.0/{resources}/{id}/tags          {"tags": [...]} replaces them → 200 {"tags": [...]}
//   DELETE /v2.0/{resources}/{id}/tags          → 204
//   GET    /v2.0/{resources}/{id}/tags/{tag}    → 204, or 404 TagNotFound
//   PUT    /v2.0/{resources}/{id}/tags/{tag}    → 201
//   DELETE /v2.0/{resources}/{id}/tags/{tag}    → 204, or 404 TagNotFound
// The resource must be visible to the caller (else its <Kind>NotFound) and changing tags
// needs its owner or an admin (403). A change bumps the resource's revision_number, as in Neutron.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromDbBool, isUniqueViolation } from '../../core/db/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import type { NetTx } from '../db/database.ts';
import { tagsFor } from '../db/tags.ts';
import { contextOf, isAdmin, notFoundError, now, type NetworkDeps } from './common.ts';

type TaggedTable = 'network' | 'subnet' | 'port' | 'router' | 'floatingip' | 'security_group' | 'subnetpool';

interface TaggedResource {
  /** URL collection */
  collection: string;
  /** table, and resource_type in the tag table */
  table: TaggedTable;
  /** for <Kind>NotFound */
  kind: string;
  label: string;
}

export const TAGGED_RESOURCES: TaggedResource[] = [
  { collection: 'networks', table: 'network', kind: 'Network', label: 'network' },
  { collection: 'subnets', table: 'subnet', kind: 'Subnet', label: 'subnet' },
  { collection: 'ports', table: 'port', kind: 'Port', label: 'port' },
  { collection: 'routers', table: 'router', kind: 'Router', label: 'router' },
  { collection: 'floatingips', table: 'floatingip', kind: 'FloatingIP', label: 'floating IP' },
  { collection: 'security-groups', table: 'security_group', kind: 'SecurityGroup', label: 'security group' },
  { collection: 'subnetpools', table: 'subnetpool', kind: 'SubnetPool', label: 'subnet pool' },
];

const MAX_TAG_LENGTH = 255;

/** Whether the caller may see the resource at all (others' private resources are a 404). */
async function visible(tx: NetTx, ctx: RequestContext, r: TaggedResource, row: Record<string, unknown>): Promise<boolean> {
  if (isAdmin(ctx) || row.project_id === ctx.projectId) return true;
  const networkOpen = async (networkId: unknown) => {
    const net = await tx.selectFrom('network').select(['project_id', 'shared', 'router_external']).where('id', '=', String(networkId)).executeTakeFirst();
    return net ? { open: fromDbBool(net.shared) || fromDbBool(net.router_external), owner: net.project_id === ctx.projectId } : { open: false, owner: false };
  };
  switch (r.table) {
    case 'network':
      return fromDbBool(row.shared) || fromDbBool(row.router_external);
    case 'subnetpool':
      return fromDbBool(row.shared);
    case 'subnet':
      return (await networkOpen(row.network_id)).open;
    case 'port':
      return (await networkOpen(row.network_id)).owner;
    default:
      return false;
  }
}

/** The resource's row, checked: 404 when absent or hidden, 403 on a change by a non-owner. */
async function resourceFor(tx: NetTx, ctx: RequestContext, r: TaggedResource, id: string, change: boolean) {
  const row = await (tx as NetTx).selectFrom(r.table as 'network').selectAll().where('id', '=', id).executeTakeFirst() as Record<string, unknown> | undefined;
  if (!row || !(await visible(tx, ctx, r, row))) throw notFoundError(r.kind, id, r.label);
  if (change && !isAdmin(ctx) && row.project_id !== ctx.projectId) {
    throw typedError(403, 'PolicyNotAuthorized', `(rule:update_${r.table}:tags) is disallowed by policy`);
  }
  return row;
}

async function bumpRevision(tx: NetTx, r: TaggedResource, id: string): Promise<void> {
  await tx.updateTable(r.table as 'network')
    .set((eb) => ({ revision_number: eb('revision_number', '+', 1), updated_at: now() }))
    .where('id', '=', id).execute();
}

function checkTag(tag: unknown): string {
  if (typeof tag !== 'string' || !tag) throw typedError(400, 'HTTPBadRequest', `Invalid input for tags. Reason: '${String(tag)}' is not a valid string.`);
  if (tag.length > MAX_TAG_LENGTH) {
    throw typedError(400, 'HTTPBadRequest', `Invalid input for tags. Reason: '${tag}' exceeds maximum length of ${MAX_TAG_LENGTH}.`);
  }
  return tag;
}

function tagsBody(body: unknown): string[] {
  const tags = (body as Record<string, unknown> | undefined)?.tags;
  if (!Array.isArray(tags)) throw typedError(400, 'HTTPBadRequest', "Invalid input for tags. Reason: Invalid data format for tag: the body must be {\"tags\": [...]}.");
  return [...new Set(tags.map(checkTag))].sort();
}

const tagNotFound = (r: TaggedResource, id: string, tag: string) =>
  typedError(404, 'TagNotFound', `Tag ${tag} could not be found for ${r.table} ${id}.`);

async function currentTags(tx: NetTx, r: TaggedResource, id: string): Promise<string[]> {
  return (await tagsFor(tx, r.table, [id])).get(id) ?? [];
}

function register(app: FastifyInstance, deps: NetworkDeps, r: TaggedResource): void {
  type One = { Params: { id: string } };
  type OneTag = { Params: { id: string; tag: string } };
  const base = `/v2.0/${r.collection}/:id/tags`;
  // reads go through a transaction too, so that they see the resource and its tags at one time
  const run = <T>(fn: (tx: NetTx) => Promise<T>) => deps.data.write(fn);

  app.get<One>(base, async (req: FastifyRequest<One>) => run(async (tx) => {
    await resourceFor(tx, contextOf(req), r, req.params.id, false);
    return { tags: await currentTags(tx, r, req.params.id) };
  }));

  app.put<One>(base, async (req: FastifyRequest<One>) => {
    const tags = tagsBody(req.body);
    const replace = () => run(async (tx) => {
      await resourceFor(tx, contextOf(req), r, req.params.id, true);
      const before = await currentTags(tx, r, req.params.id);
      await tx.deleteFrom('tag').where('resource_type', '=', r.table).where('resource_id', '=', req.params.id).execute();
      if (tags.length) {
        await tx.insertInto('tag').values(tags.map((tag) => ({ resource_type: r.table, resource_id: req.params.id, tag }))).execute();
      }
      if (before.join('\n') !== tags.join('\n')) await bumpRevision(tx, r, req.params.id);
      return { tags };
    });
    try {
      return await replace();
    } catch (err) {
      // a concurrent change inserted one of these tags first: run the replacement again
      if (!isUniqueViolation(err)) throw err;
      return replace();
    }
  });

  app.delete<One>(base, async (req: FastifyRequest<One>, reply) => {
    await run(async (tx) => {
      await resourceFor(tx, contextOf(req), r, req.params.id, true);
      const removed = await tx.deleteFrom('tag').where('resource_type', '=', r.table).where('resource_id', '=', req.params.id).executeTakeFirst();
      if (Number(removed.numDeletedRows) > 0) await bumpRevision(tx, r, req.params.id);
    });
    reply.code(204);
    return null;
  });

  app.get<OneTag>(`${base}/:tag`, async (req: FastifyRequest<OneTag>, reply) => {
    await run(async (tx) => {
      await resourceFor(tx, contextOf(req), r, req.params.id, false);
      if (!(await currentTags(tx, r, req.params.id)).includes(req.params.tag)) throw tagNotFound(r, req.params.id, req.params.tag);
    });
    reply.code(204);
    return null;
  });

  app.put<OneTag>(`${base}/:tag`, async (req: FastifyRequest<OneTag>, reply) => {
    const tag = checkTag(req.params.tag);
    try {
      await run(async (tx) => {
        await resourceFor(tx, contextOf(req), r, req.params.id, true);
        if ((await currentTags(tx, r, req.params.id)).includes(tag)) return;
        await tx.insertInto('tag').values({ resource_type: r.table, resource_id: req.params.id, tag }).execute();
        await bumpRevision(tx, r, req.params.id);
      });
    } catch (err) {
      // a concurrent request added the same tag: the outcome is the one asked for
      if (!isUniqueViolation(err)) throw err;
    }
    reply.code(201);
    return null;
  });

  app.delete<OneTag>(`${base}/:tag`, async (req: FastifyRequest<OneTag>, reply) => {
    await run(async (tx) => {
      await resourceFor(tx, contextOf(req), r, req.params.id, true);
      const removed = await tx.deleteFrom('tag').where('resource_type', '=', r.table).where('resource_id', '=', req.params.id)
        .where('tag', '=', req.params.tag).executeTakeFirst();
      if (Number(removed.numDeletedRows) === 0) throw tagNotFound(r, req.params.id, req.params.tag);
      await bumpRevision(tx, r, req.params.id);
    });
    reply.code(204);
    return null;
  });
}

export function registerTags(app: FastifyInstance, deps: NetworkDeps): void {
  for (const r of TAGGED_RESOURCES) register(app, deps, r);
}
