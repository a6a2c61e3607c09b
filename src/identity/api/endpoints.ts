// /v3/endpoints. As Keystone: a service_id or region_id that names nothing is a 400 (the
// request is wrong, not the URL); the legacy `region` attribute, used when region_id is not,
// creates its region when missing, for clients that still speak the v2 way.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dbBool, fromDbBool } from '../../core/db/index.ts';
import { badRequest, notFound } from '../../core/http/index.ts';
import type { EndpointTable } from '../db/schema.ts';
import type { IdentityTx } from '../db/store.ts';
import { unknownSubstitutions } from '../catalog/url-template.ts';
import { authorize, bodyObject, collection, extraOf, field, newId, parseJson, queryBool, selfLink, type IdentityDeps } from './common.ts';

const KNOWN = ['id', 'service_id', 'interface', 'url', 'region_id', 'region', 'enabled', 'legacy_endpoint_id'];
const INTERFACES = ['admin', 'internal', 'public'];

export function endpointView(req: FastifyRequest, deps: IdentityDeps, e: EndpointTable) {
  return {
    ...parseJson(e.extra),
    id: e.id,
    interface: e.interface,
    region_id: e.region_id,
    region: e.region_id,
    service_id: e.service_id,
    url: e.url,
    enabled: fromDbBool(e.enabled),
    links: selfLink(req, deps, `endpoints/${e.id}`),
  };
}

function checkUrl(url: string): void {
  if (!/^[a-zA-Z0-9+.-]+:.+/.test(url)) throw badRequest(`Invalid input for field 'url': '${url}' is not a URL.`);
  // As Keystone: stored as given, filled in per token (catalog/url-template.ts).
  const unknown = unknownSubstitutions(url);
  if (!unknown) throw badRequest(`The URL ${url} is not valid: a '%' or '$(' in it is not a substitution like $(project_id)s.`);
  if (unknown.length) throw badRequest(`The URL ${url} is not valid: $(${unknown[0]})s is not a known substitution.`);
}

interface EndpointFields {
  serviceId?: string;
  iface?: string;
  url?: string;
  enabled?: boolean;
  /** the region from region_id (must exist) */
  regionId?: string | null;
  /** the region from the legacy `region` (created when missing) */
  legacyRegion?: string;
}

function checkFields(body: Record<string, unknown>, required: boolean): EndpointFields {
  const serviceId = field<string>(body, 'service_id', 'string', { required });
  const iface = field<string>(body, 'interface', 'string', { required });
  if (iface !== undefined && !INTERFACES.includes(iface)) {
    throw badRequest(`Invalid input for field 'interface': '${iface}' is not one of ${INTERFACES.join(', ')}.`);
  }
  const url = field<string>(body, 'url', 'string', { required, maxLength: 225 });
  if (url !== undefined) checkUrl(url);
  const enabled = field<boolean>(body, 'enabled', 'boolean');
  const regionId = field<string | null>(body, 'region_id', 'nullable-string', { maxLength: 255 });
  const region = field<string | null>(body, 'region', 'nullable-string', { maxLength: 255 });
  const fields: EndpointFields = { serviceId, iface, url, enabled, regionId };
  if ((regionId === undefined || regionId === null) && region) fields.legacyRegion = region;
  return fields;
}

/** Checks what the endpoint refers to, inside the write, creating a legacy region when needed. */
async function resolveReferences(tx: IdentityTx, f: EndpointFields): Promise<string | null | undefined> {
  if (f.serviceId !== undefined) {
    const service = await tx.selectFrom('service').select('id').where('id', '=', f.serviceId).executeTakeFirst();
    if (!service) throw badRequest(`Expecting to find endpoint service_id in service table: service ${f.serviceId} does not exist.`);
  }
  if (f.legacyRegion) {
    const region = await tx.selectFrom('region').select('id').where('id', '=', f.legacyRegion).executeTakeFirst();
    if (!region) await tx.insertInto('region').values({ id: f.legacyRegion, description: '', parent_region_id: null, extra: '{}' }).execute();
    return f.legacyRegion;
  }
  if (f.regionId) {
    const region = await tx.selectFrom('region').select('id').where('id', '=', f.regionId).executeTakeFirst();
    if (!region) throw badRequest(`Expecting to find endpoint region_id in region table: region ${f.regionId} does not exist.`);
  }
  return f.regionId;
}

export function registerEndpoints(app: FastifyInstance, deps: IdentityDeps): void {
  const db = () => deps.store.db;
  const get = (id: string) => db().selectFrom('endpoint').selectAll().where('id', '=', id).executeTakeFirst();
  const load = async (id: string) => {
    const row = await get(id);
    if (!row) throw notFound(`Could not find endpoint: ${id}.`);
    return row;
  };

  app.get('/v3/endpoints', async (req) => {
    authorize(req, deps, 'identity:list_endpoints');
    const q = req.query as Record<string, string | undefined>;
    let query = db().selectFrom('endpoint').selectAll();
    if (q.interface !== undefined) query = query.where('interface', '=', q.interface);
    if (q.service_id !== undefined) query = query.where('service_id', '=', q.service_id);
    if (q.region_id !== undefined) query = query.where('region_id', '=', q.region_id);
    const enabled = queryBool(q.enabled);
    if (enabled !== undefined) query = query.where('enabled', '=', dbBool(enabled));
    const rows = await query.orderBy('service_id').orderBy('interface').orderBy('id').execute();
    return collection(req, deps, 'endpoints', rows.map((e) => endpointView(req, deps, e)));
  });

  app.get<{ Params: { id: string } }>('/v3/endpoints/:id', async (req) => {
    authorize(req, deps, 'identity:get_endpoint');
    return { endpoint: endpointView(req, deps, await load(req.params.id)) };
  });

  app.post('/v3/endpoints', async (req, reply) => {
    authorize(req, deps, 'identity:create_endpoint');
    const body = bodyObject(req.body, 'endpoint');
    const f = checkFields(body, true);
    const id = newId();
    await deps.store.write(async (tx) => {
      const regionId = await resolveReferences(tx, f);
      await tx.insertInto('endpoint').values({
        id, service_id: f.serviceId!, interface: f.iface!, url: f.url!, region_id: regionId ?? null,
        enabled: dbBool(f.enabled ?? true), extra: extraOf(body, KNOWN),
      }).execute();
    });
    reply.status(201);
    return { endpoint: endpointView(req, deps, (await get(id))!) };
  });

  app.patch<{ Params: { id: string } }>('/v3/endpoints/:id', async (req) => {
    authorize(req, deps, 'identity:update_endpoint');
    const body = bodyObject(req.body, 'endpoint');
    if (Object.keys(body).length === 0) throw badRequest("Invalid input for field 'endpoint': it must name at least one attribute.");
    const row = await load(req.params.id);
    if (body.id !== undefined && body.id !== row.id) throw badRequest('Cannot change the ID of an endpoint.');
    const f = checkFields(body, false);
    await deps.store.write(async (tx) => {
      const regionId = await resolveReferences(tx, f);
      const extra = { ...parseJson(row.extra), ...JSON.parse(extraOf(body, KNOWN)) };
      await tx.updateTable('endpoint').set({
        service_id: f.serviceId ?? row.service_id,
        interface: f.iface ?? row.interface,
        url: f.url ?? row.url,
        region_id: regionId === undefined ? row.region_id : regionId,
        enabled: f.enabled === undefined ? row.enabled : dbBool(f.enabled),
        extra: JSON.stringify(extra),
      }).where('id', '=', row.id).execute();
    });
    return { endpoint: endpointView(req, deps, (await get(row.id))!) };
  });

  app.delete<{ Params: { id: string } }>('/v3/endpoints/:id', async (req, reply) => {
    authorize(req, deps, 'identity:delete_endpoint');
    const row = await load(req.params.id);
    await deps.store.write((tx) => tx.deleteFrom('endpoint').where('id', '=', row.id).execute());
    reply.status(204).send();
  });
}
