// Ports: POST/GET/PUT/DELETE /v2.0/ports[/{id}] (and bulk POST {"ports": [...]}), with the
// binding, port-security, allowed-address-pairs, extra_dhcp_opt, dns-integration (dns_name),
// security-group and standard-attr extensions' attributes.
//
// Who sees what, as Neutron: admins every port; others their own ports and the ports on their
// networks (anything else is a 404 PortNotFound). binding:host_id/profile are admin-only to set
// (403), and binding:host_id/profile/vif_type/vif_details admin-only to see (absent for others).
// Creating a port on another project's network that is not shared is a 404 NetworkNotFound.
//
// The business rules live in ports/create-port.ts and ports/update-port.ts; this file validates,
// authorizes, runs them in a transaction and, once committed, tells the agents (agent/events.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typedError } from '../../core/http/index.ts';
import type { RequestContext } from '../../core/auth/index.ts';
import type { NetworkTable } from '../db/schema.ts';
import { checkQuota } from '../quota/enforce.ts';
import { normalizeIp, parseCidr } from '../ipam/cidr.ts';
import {
  allowed, authorize, contextOf, isAdmin, listResponse, notFoundError,
  parseListQuery, resourceBody, selectFields, type NetworkDeps,
} from './common.ts';
import { toBoolean } from './networks.ts';
import {
  createPort, deletePort, writeRetrying, type AddressPair, type AddressRequest, type DhcpOption, type PortAttrs,
} from '../ports/create-port.ts';
import { updatePort, type PortChanges } from '../ports/update-port.ts';
import { ADMIN_BINDING_KEYS, loadPortView, loadPortViews, type PortFilter, type PortView } from '../ports/port-view.ts';
import { isMac, isUnicastMac, normalizeMac } from '../ports/mac.ts';
import { publishPortBound, publishPortUnbound, publishPortUpdated, publishSecurityGroupUpdated } from '../agent/events.ts';

const COMMON_KEYS = [
  'name', 'description', 'admin_state_up', 'mac_address', 'fixed_ips', 'device_id', 'device_owner',
  'binding:host_id', 'binding:profile', 'binding:vnic_type', 'allowed_address_pairs', 'security_groups',
  'port_security_enabled', 'extra_dhcp_opts', 'dns_name',
];
const CREATE_KEYS = new Set([...COMMON_KEYS, 'network_id', 'project_id', 'tenant_id', 'tags']);
const UPDATE_KEYS = new Set(COMMON_KEYS);
const READ_ONLY = ['id', 'status', 'network_id', 'project_id', 'tenant_id', 'binding:vif_type', 'binding:vif_details',
  'created_at', 'updated_at', 'revision_number', 'tags'];
const VNIC_TYPES = ['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'remote-managed'];
const MAX_ADDRESS_PAIRS = 10;
const MAX_FIXED_IPS = 5;
/** Owners whose ports the ports API does not delete: the router or floating IP owns them. */
const SERVICE_OWNERS = ['network:router_interface', 'network:router_gateway', 'network:ha_router_replicated_interface',
  'network:router_interface_distributed', 'network:floatingip'];

// ---- attribute validation (Neutron's messages: "Invalid input for <attr>. Reason: ...") ----

const attributeError = (attr: string, reason: string) => typedError(400, 'HTTPBadRequest', `Invalid input for ${attr}. Reason: ${reason}`);

function toText(attr: string, value: unknown, max = 255): string {
  if (typeof value !== 'string') throw attributeError(attr, `'${String(value)}' is not a valid string.`);
  if (value.length > max) throw attributeError(attr, `'${value}' exceeds maximum length of ${max}.`);
  return value;
}

function toMac(attr: string, value: unknown): string {
  if (!isMac(value) || !isUnicastMac(value)) throw attributeError(attr, `'${String(value)}' is not a valid MAC address.`);
  return normalizeMac(value);
}

function toList(attr: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw attributeError(attr, `'${JSON.stringify(value)}' is not a list.`);
  return value;
}

function toObject(attr: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw attributeError(attr, `'${JSON.stringify(value)}' is not a dictionary.`);
  return value as Record<string, unknown>;
}

function onlyKeys(attr: string, item: Record<string, unknown>, keys: string[]): void {
  const extra = Object.keys(item).filter((k) => !keys.includes(k));
  if (extra.length) throw attributeError(attr, `Unrecognized attribute(s) '${extra.join(', ')}'`);
}

function fixedIps(value: unknown): AddressRequest[] {
  const list = toList('fixed_ips', value);
  if (list.length > MAX_FIXED_IPS) throw attributeError('fixed_ips', `Exceeded maximum amount of fixed ips per port.`);
  const out: AddressRequest[] = [];
  for (const raw of list) {
    const item = toObject('fixed_ips', raw);
    onlyKeys('fixed_ips', item, ['subnet_id', 'ip_address']);
    const request: AddressRequest = {};
    if (item.subnet_id !== undefined) request.subnet_id = toText('fixed_ips', item.subnet_id, 36);
    if (item.ip_address !== undefined) {
      const ip = normalizeIp(item.ip_address);
      if (!ip) throw attributeError('fixed_ips', `'${String(item.ip_address)}' is not a valid IP address.`);
      request.ip_address = ip;
    }
    if (out.some((o) => o.ip_address && o.ip_address === request.ip_address)) {
      throw attributeError('fixed_ips', `Duplicate IP address '${request.ip_address}'`);
    }
    out.push(request);
  }
  return out;
}

function addressPairs(value: unknown): AddressPair[] {
  if (value === null) return [];
  const list = toList('allowed_address_pairs', value);
  if (list.length > MAX_ADDRESS_PAIRS) {
    throw typedError(400, 'AllowedAddressPairExhausted', `The number of allowed address pair exceeds the maximum ${MAX_ADDRESS_PAIRS}.`);
  }
  const out: AddressPair[] = [];
  for (const raw of list) {
    const item = toObject('allowed_address_pairs', raw);
    onlyKeys('allowed_address_pairs', item, ['ip_address', 'mac_address']);
    if (item.ip_address === undefined) throw typedError(400, 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const ip = normalizeIp(item.ip_address);
    const cidr = ip ? null : parseCidr(item.ip_address);
    if (!ip && !cidr) throw attributeError('allowed_address_pairs', `'${String(item.ip_address)}' is not a valid IP address.`);
    const pair: AddressPair = { ip_address: ip ?? String(item.ip_address) };
    if (item.mac_address !== undefined && item.mac_address !== null) pair.mac_address = toMac('allowed_address_pairs', item.mac_address);
    if (out.some((o) => o.ip_address === pair.ip_address && o.mac_address === pair.mac_address)) {
      throw typedError(400, 'DuplicateAddressPairInRequest', `Request contains duplicate address pair: mac_address ${pair.mac_address ?? 'None'} ip_address ${pair.ip_address}.`);
    }
    out.push(pair);
  }
  return out;
}

function dhcpOptions(value: unknown): DhcpOption[] {
  if (value === null) return [];
  return toList('extra_dhcp_opts', value).map((raw) => {
    const item = toObject('extra_dhcp_opts', raw);
    onlyKeys('extra_dhcp_opts', item, ['opt_name', 'opt_value', 'ip_version']);
    const opt: DhcpOption = {
      opt_name: toText('extra_dhcp_opts', item.opt_name),
      opt_value: item.opt_value === null || item.opt_value === undefined ? null : toText('extra_dhcp_opts', String(item.opt_value)),
    };
    if (!opt.opt_name) throw attributeError('extra_dhcp_opts', 'opt_name must not be empty.');
    if (item.ip_version !== undefined) {
      const v = Number(item.ip_version);
      if (v !== 4 && v !== 6) throw attributeError('extra_dhcp_opts', `'${String(item.ip_version)}' is not in [4, 6]`);
      opt.ip_version = v;
    }
    return opt;
  });
}

function securityGroupIds(value: unknown): string[] {
  if (value === null) return [];
  return toList('security_groups', value).map((g) => toText('security_groups', g, 36));
}

function dnsName(value: unknown): string {
  const name = toText('dns_name', value);
  if (name && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(name)) {
    throw attributeError('dns_name', `'${name}' not a valid PQDN or FQDN.`);
  }
  return name.toLowerCase();
}

function rejectUnknown(body: Record<string, unknown>, known: Set<string>, method: 'POST' | 'PUT'): void {
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (!unknown.length) return;
  const readOnly = unknown.filter((k) => READ_ONLY.includes(k));
  if (readOnly.length) {
    throw typedError(400, 'HTTPBadRequest', method === 'PUT' ? `Cannot update read-only attribute ${readOnly[0]}` : `Attribute '${readOnly[0]}' not allowed in POST`);
  }
  throw typedError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
}

/** The attributes common to create and update, validated; only those present in the body. */
function parseCommon(body: Record<string, unknown>): PortChanges & { tags?: string[] } {
  const out: PortChanges = {};
  if (body.name !== undefined) out.name = toText('name', body.name ?? '');
  if (body.description !== undefined) out.description = toText('description', body.description ?? '');
  if (body.admin_state_up !== undefined) out.admin_state_up = toBoolean('admin_state_up', body.admin_state_up);
  if (body.mac_address !== undefined) out.mac_address = toMac('mac_address', body.mac_address);
  if (body.fixed_ips !== undefined) out.fixed_ips = fixedIps(body.fixed_ips);
  if (body.device_id !== undefined) out.device_id = toText('device_id', body.device_id ?? '');
  if (body.device_owner !== undefined) out.device_owner = toText('device_owner', body.device_owner ?? '');
  if (body['binding:host_id'] !== undefined) out['binding:host_id'] = toText('binding:host_id', body['binding:host_id'] ?? '');
  if (body['binding:profile'] !== undefined) out['binding:profile'] = body['binding:profile'] === null ? {} : toObject('binding:profile', body['binding:profile']);
  if (body['binding:vnic_type'] !== undefined) {
    const vnic = toText('binding:vnic_type', body['binding:vnic_type']);
    if (!VNIC_TYPES.includes(vnic)) throw attributeError('binding:vnic_type', `'${vnic}' is not in ${JSON.stringify(VNIC_TYPES)}`);
    out['binding:vnic_type'] = vnic;
  }
  if (body.allowed_address_pairs !== undefined) out.allowed_address_pairs = addressPairs(body.allowed_address_pairs);
  if (body.security_groups !== undefined) out.security_groups = securityGroupIds(body.security_groups);
  if (body.port_security_enabled !== undefined) out.port_security_enabled = toBoolean('port_security_enabled', body.port_security_enabled);
  if (body.extra_dhcp_opts !== undefined) out.extra_dhcp_opts = dhcpOptions(body.extra_dhcp_opts);
  if (body.dns_name !== undefined) out.dns_name = dnsName(body.dns_name ?? '');
  return out;
}

// ---- policy ----

function portTarget(port: { project_id: string; network_id: string; device_owner?: string }, network?: Pick<NetworkTable, 'project_id' | 'shared'>) {
  const owner = port.device_owner ?? '';
  return {
    project_id: port.project_id,
    network_id: port.network_id,
    'network:project_id': network?.project_id ?? '',
    'network:tenant_id': network?.project_id ?? '',
    device_owner: owner,
    device_owner_prefix: owner.includes(':') ? owner.split(':')[0] : '',
    shared: Boolean(Number(network?.shared ?? 0)),
  };
}

/** Checks `<action>:<attr>` for every attribute the body sets that has such a rule. */
function authorizeAttributes(req: FastifyRequest, deps: NetworkDeps, action: string, body: Record<string, unknown>, target: Record<string, unknown>): void {
  const rules = deps.policy.rules();
  for (const key of Object.keys(body)) {
    const rule = `${action}:${key}`;
    if (Object.hasOwn(rules, rule)) authorize(req, deps, rule, target);
  }
}

/** The view as this caller may see it: binding details only for those the policy lets. */
function visibleView(req: FastifyRequest, deps: NetworkDeps, view: PortView, network?: Pick<NetworkTable, 'project_id' | 'shared'>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...view };
  const target = portTarget(view, network);
  for (const key of ADMIN_BINDING_KEYS) if (!allowed(req, deps, `get_port:${key}`, target)) delete out[key];
  return out;
}

async function networksOf(deps: NetworkDeps, ids: string[]): Promise<Map<string, Pick<NetworkTable, 'id' | 'project_id' | 'shared' | 'router_external'>>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const q = deps.data.db.selectFrom('network').select(['id', 'project_id', 'shared', 'router_external']);
  const rows = await (unique.length <= 500 ? q.where('id', 'in', unique) : q).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** A port the caller may see (get_port), else 404 PortNotFound. */
async function visiblePort(req: FastifyRequest, deps: NetworkDeps, id: string) {
  const view = await loadPortView(deps.data.db, id);
  if (!view) throw notFoundError('Port', id);
  const network = (await networksOf(deps, [view.network_id])).get(view.network_id);
  if (!allowed(req, deps, 'get_port', portTarget(view, network))) throw notFoundError('Port', id);
  return { view, network };
}

// ---- after the commit: the agents ----

async function announceGroups(deps: NetworkDeps, groups: Iterable<string>): Promise<void> {
  for (const g of new Set(groups)) await publishSecurityGroupUpdated(deps, g);
}

async function announceUpdate(deps: NetworkDeps, before: PortView, after: PortView): Promise<void> {
  const [hostBefore, hostAfter] = [before['binding:host_id'], after['binding:host_id']];
  if (hostBefore !== hostAfter) {
    if (hostBefore) await publishPortUnbound(deps, before, hostBefore);
    if (hostAfter) await publishPortBound(deps, after);
  } else if (hostAfter) {
    await publishPortUpdated(deps, after);
  }
  const addressesChanged = JSON.stringify(before.fixed_ips) !== JSON.stringify(after.fixed_ips);
  const groupsChanged = JSON.stringify(before.security_groups) !== JSON.stringify(after.security_groups);
  if (addressesChanged || groupsChanged) await announceGroups(deps, [...before.security_groups, ...after.security_groups]);
}

// ---- handlers ----

interface CreateItem {
  attrs: PortAttrs;
  body: Record<string, unknown>;
}

function parseCreate(ctx: RequestContext, body: Record<string, unknown>): CreateItem {
  rejectUnknown(body, CREATE_KEYS, 'POST');
  if (body.network_id === undefined || body.network_id === null) {
    throw typedError(400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'network_id' not specified");
  }
  const networkId = toText('network_id', body.network_id, 36);
  const projectId = (body.project_id ?? body.tenant_id ?? ctx.projectId ?? '') as string;
  if (typeof projectId !== 'string') throw attributeError('project_id', `'${String(projectId)}' is not a valid string.`);
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) {
    throw typedError(400, 'HTTPBadRequest', "'project_id' and 'tenant_id' do not match");
  }
  if (!isAdmin(ctx) && projectId !== ctx.projectId) {
    throw typedError(400, 'HTTPBadRequest', "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }
  let tags: string[] | undefined;
  if (body.tags !== undefined) {
    if (!Array.isArray(body.tags) || body.tags.some((t) => typeof t !== 'string' || !t || t.length > 255)) {
      throw attributeError('tags', `'${JSON.stringify(body.tags)}' is not a valid list of tags.`);
    }
    tags = body.tags as string[];
  }
  const common = parseCommon(body);
  const attrs: PortAttrs = {
    ...common,
    project_id: projectId,
    network_id: networkId,
    allowed_address_pairs: common.allowed_address_pairs ?? undefined,
    extra_dhcp_opts: common.extra_dhcp_opts ?? undefined,
    'binding:profile': common['binding:profile'] ?? undefined,
    tags,
  };
  return { attrs, body };
}

export function registerPorts(app: FastifyInstance, deps: NetworkDeps): void {
  app.post('/v2.0/ports', async (req, reply) => {
    const ctx = contextOf(req);
    const body = req.body as Record<string, unknown> | undefined;
    const bulk = Array.isArray(body?.ports);
    const requests = bulk ? (body!.ports as unknown[]) : [resourceBody(body, 'port')];
    if (bulk && !requests.length) throw typedError(400, 'HTTPBadRequest', 'Resources required');
    const items = requests.map((r) => {
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw typedError(400, 'HTTPBadRequest', 'Resource body required');
      return parseCreate(ctx, r as Record<string, unknown>);
    });
    const networks = await networksOf(deps, items.map((i) => i.attrs.network_id));
    for (const { attrs, body: item } of items) {
      const network = networks.get(attrs.network_id);
      // invisible, or another project's network that is not shared: Neutron hides it (404)
      const usable = network && (isAdmin(ctx) || network.project_id === attrs.project_id || Boolean(Number(network.shared)));
      if (!network || !usable) throw notFoundError('Network', attrs.network_id);
      const target = portTarget(attrs, network);
      authorize(req, deps, 'create_port', target);
      authorizeAttributes(req, deps, 'create_port', item, target);
    }
    const perProject = new Map<string, number>();
    for (const { attrs } of items) perProject.set(attrs.project_id, (perProject.get(attrs.project_id) ?? 0) + 1);
    const ids = await writeRetrying(deps, async (tx) => {
      for (const [project, n] of perProject) await checkQuota(tx, deps, project, 'port', n);
      const out: string[] = [];
      for (const { attrs } of items) out.push(await createPort(tx, deps, attrs, { admin: isAdmin(ctx) }));
      return out;
    });
    const views = await loadPortViews(deps.data.db, { ids });
    const byId = new Map(views.map((v) => [v.id, v]));
    const ordered = ids.map((id) => byId.get(id)!).filter(Boolean);
    for (const view of ordered) {
      await publishPortBound(deps, view);
      if (view.fixed_ips.length) await announceGroups(deps, view.security_groups);
    }
    const shown = ordered.map((v) => visibleView(req, deps, v, networks.get(v.network_id)));
    reply.code(201);
    return bulk ? { ports: shown } : { port: shown[0] };
  });

  app.get('/v2.0/ports', async (req) => {
    const ctx = contextOf(req);
    const q = parseListQuery(req.query as Record<string, unknown>);
    const filter: PortFilter = {};
    for (const key of ['network_id', 'device_id', 'device_owner'] as const) {
      if (q.filters[key]?.length === 1) filter[key] = q.filters[key]![0];
    }
    if (q.filters.id?.length) filter.ids = q.filters.id;
    if (!isAdmin(ctx)) filter.visibleTo = ctx.projectId ?? '';
    // fixed_ips=ip_address=X / subnet_id=Y / ip_address_substr=Z, as Nova asks
    const ipFilters = (q.filters.fixed_ips ?? []).map((f) => {
      const at = f.indexOf('=');
      return at < 0 ? { key: 'ip_address', value: f } : { key: f.slice(0, at), value: f.slice(at + 1) };
    });
    delete q.filters.fixed_ips;
    let views = await loadPortViews(deps.data.db, filter);
    if (ipFilters.length) {
      views = views.filter((v) => ipFilters.every(({ key, value }) => v.fixed_ips.some((ip) =>
        key === 'subnet_id' ? ip.subnet_id === value
          : key === 'ip_address_substr' ? ip.ip_address.includes(value)
            : ip.ip_address === value)));
    }
    const networks = await networksOf(deps, views.length <= 500 ? views.map((v) => v.network_id) : []);
    const allNetworks = views.length > 500 ? await networksOfAll(deps) : networks;
    const shown = views
      .filter((v) => isAdmin(ctx) || allowed(req, deps, 'get_port', portTarget(v, allNetworks.get(v.network_id))))
      .map((v) => visibleView(req, deps, v, allNetworks.get(v.network_id)));
    return listResponse(req, deps, 'ports', shown, q);
  });

  app.get<{ Params: { id: string } }>('/v2.0/ports/:id', async (req) => {
    const { view, network } = await visiblePort(req, deps, req.params.id);
    return { port: selectFields(visibleView(req, deps, view, network), parseListQuery(req.query as Record<string, unknown>).fields) };
  });

  app.put<{ Params: { id: string } }>('/v2.0/ports/:id', async (req) => {
    const ctx = contextOf(req);
    const body = resourceBody(req.body, 'port');
    rejectUnknown(body, UPDATE_KEYS, 'PUT');
    const changes = parseCommon(body);
    const { view, network } = await visiblePort(req, deps, req.params.id);
    const target = portTarget({ ...view, device_owner: changes.device_owner ?? view.device_owner }, network);
    authorize(req, deps, 'update_port', target);
    authorizeAttributes(req, deps, 'update_port', body, target);
    const { before, after } = await writeRetrying(deps, (tx) => updatePort(tx, deps, view.id, changes, { admin: isAdmin(ctx) }));
    await announceUpdate(deps, before, after);
    return { port: visibleView(req, deps, after, network) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/ports/:id', async (req, reply) => {
    const { view, network } = await visiblePort(req, deps, req.params.id);
    authorize(req, deps, 'delete_port', portTarget(view, network));
    const deleted = await writeRetrying(deps, async (tx) => {
      if (SERVICE_OWNERS.includes(view.device_owner) && await ownerStillExists(tx, view)) {
        throw typedError(409, 'ServicePortInUse',
          `Port ${view.id} cannot be deleted directly via the port API: has device owner ${view.device_owner}.`);
      }
      return deletePort(tx, deps, view.id);
    });
    if (deleted) {
      if (deleted['binding:host_id']) await publishPortUnbound(deps, deleted, deleted['binding:host_id'], true);
      if (deleted.fixed_ips.length) await announceGroups(deps, deleted.security_groups);
    }
    reply.code(204);
    return null;
  });
}

async function networksOfAll(deps: NetworkDeps) {
  const rows = await deps.data.db.selectFrom('network').select(['id', 'project_id', 'shared', 'router_external']).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Whether the router or floating IP a service port belongs to is still there. */
async function ownerStillExists(tx: Parameters<Parameters<NetworkDeps['data']['write']>[0]>[0], port: PortView): Promise<boolean> {
  if (port.device_owner === 'network:floatingip') {
    return !!(await tx.selectFrom('floatingip').select('id').where('floating_port_id', '=', port.id).executeTakeFirst());
  }
  const owned = await tx.selectFrom('router_port').select('router_id').where('port_id', '=', port.id).executeTakeFirst();
  if (owned) return true;
  return !!port.device_id && !!(await tx.selectFrom('router').select('id').where('id', '=', port.device_id).executeTakeFirst());
}
