// Security group rules as Neutron reads them: the attribute conversions of the API
// (protocol by name or number, ports, ethertype, remote_ip_prefix as a CIDR), the checks of the
// rule as a whole (port ranges per protocol, ICMP type/code, prefix vs ethertype, one remote),
// Neutron's canonical forms (IPv6 ICMP is ipv6-icmp; 1-65535 is no range) and the fingerprint
// that makes a duplicate rule a 409 even when two requests race: it is unique per group in the
// database, and two rules Neutron considers equal get the same fingerprint.
import { createHash } from 'node:crypto';
import { MysqlAdapter, SqliteAdapter, sql } from 'kysely';
import { isUniqueViolation } from '../../core/db/index.ts';
import { typedError } from '../../core/http/index.ts';
import type { NetTx } from '../db/database.ts';

// ---- protocols (neutron-lib IP_PROTOCOL_MAP, in its order) ----

export const IP_PROTOCOLS: [string, number][] = [
  ['ah', 51], ['dccp', 33], ['egp', 8], ['esp', 50], ['gre', 47], ['hopopt', 0], ['icmp', 1], ['igmp', 2],
  ['ip', 0], ['ipip', 4], ['ipv6-encap', 41], ['ipv6-frag', 44], ['ipv6-icmp', 58], ['icmpv6', 58],
  ['ipv6-nonxt', 59], ['ipv6-opts', 60], ['ipv6-route', 43], ['ospf', 89], ['pgm', 113], ['rsvp', 46],
  ['sctp', 132], ['tcp', 6], ['udp', 17], ['udplite', 136], ['vrrp', 112],
];
const PROTOCOL_NUMBER = new Map(IP_PROTOCOLS);
/** Protocols that have ports: DCCP, SCTP, TCP, UDP, UDPLITE. */
const PORT_PROTOCOLS = new Set([33, 132, 6, 17, 136]);
const ICMP_PROTOCOLS = new Set([1, 58]);
/** Protocols only IPv6 carries (by name and number); an IPv4 rule for them is a 400. */
const IPV6_ONLY = new Set(['ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '41', '44', '58', '59', '60', '43']);
const SUPPORTED_TEXT = `(None, 'any', ${IP_PROTOCOLS.map(([n]) => `'${n}'`).join(', ')})`;

export const ETHERTYPES = ['IPv4', 'IPv6'] as const;
export const DIRECTIONS = ['ingress', 'egress'] as const;

// ---- Neutron's fault types of the security group extension ----

const invalidInput = (type: string, message: string) => typedError(400, type, message);
const attributeError = (attr: string, reason: string) => typedError(400, 'InvalidInput', `Invalid input for ${attr}. Reason: ${reason}.`);
const pyRepr = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : v === null || v === undefined ? 'None' : typeof v === 'boolean' ? (v ? 'True' : 'False') : typeof v === 'object' ? JSON.stringify(v) : String(v));

export const securityGroupNotFound = (id: string) => typedError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
export const securityGroupRuleNotFound = (id: string) => typedError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);
export const securityGroupRuleExists = (ruleId: string) =>
  typedError(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${ruleId}.`);
export const duplicateRuleInPost = () => typedError(409, 'DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.');

// ---- addresses ----

export interface IpPrefix {
  version: 4 | 6;
  /** 4 or 16 bytes */
  bytes: number[];
  prefixlen: number;
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function parseIpv6(text: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  let head = text;
  let tail4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return null;
    tail4 = v4;
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const wanted = 8 - tail4.length / 2;
  for (const g of [...left, ...right]) if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
  let words: number[];
  if (halves.length === 2) {
    const missing = wanted - left.length - right.length;
    if (missing < 1) return null;
    words = [...left.map((g) => parseInt(g, 16)), ...Array(missing).fill(0), ...right.map((g) => parseInt(g, 16))];
  } else {
    if (left.length !== wanted) return null;
    words = left.map((g) => parseInt(g, 16));
  }
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  return [...bytes, ...tail4];
}

export function formatIp(version: 4 | 6, bytes: number[]): string {
  if (version === 4) return bytes.join('.');
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${bytes.slice(12).join('.')}`;
  // RFC 5952: the longest run of two or more zero words becomes '::' (the first, on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** An address or CIDR as netaddr.IPNetwork reads it ('10.0.0.1' is 10.0.0.1/32); null when it is not one. */
export function parsePrefix(text: string): IpPrefix | null {
  const [addr, len, ...rest] = text.trim().split('/');
  if (rest.length || addr === undefined) return null;
  const v4 = parseIpv4(addr);
  const bytes = v4 ?? parseIpv6(addr);
  if (!bytes) return null;
  const version = v4 ? 4 : 6;
  const max = version === 4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return null;
  const prefixlen = len === undefined ? max : Number(len);
  if (prefixlen > max) return null;
  return { version, bytes, prefixlen };
}

export const prefixText = (p: IpPrefix) => `${formatIp(p.version, p.bytes)}/${p.prefixlen}`;

/** The network a prefix lies in: host bits cleared (Neutron's normalized_cidr). */
export function networkOf(p: IpPrefix): IpPrefix {
  const bytes = p.bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, p.prefixlen - 8 * i));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
  return { ...p, bytes };
}

export function normalizedCidr(prefix: string | null): string | null {
  if (!prefix) return null;
  const p = parsePrefix(prefix);
  return p ? prefixText(networkOf(p)) : null;
}

// ---- conversions ----

/** Neutron's convert_protocol: null/'any' is any protocol; a known name, lower-cased; a number 0-255 as text. */
export function convertProtocol(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const bad = () => invalidInput('SecurityGroupRuleInvalidProtocol',
    `Security group rule protocol ${typeof value === 'string' ? value : pyRepr(value)} not supported. Only protocol values ${SUPPORTED_TEXT} and integer representations [0 to 255] are supported.`);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 255) throw bad();
    return String(value);
  }
  if (typeof value !== 'string') throw bad();
  const text = value.trim();
  if (/^[+-]?\d+$/.test(text)) {
    const n = Number(text);
    if (n < 0 || n > 255) throw bad();
    return String(n);
  }
  const lower = value.toLowerCase();
  if (lower === 'any') return null;
  if (PROTOCOL_NUMBER.has(lower)) return lower;
  throw bad();
}

/** The IP protocol number of a stored protocol (name or number text); null for any. */
export function protocolNumber(protocol: string | null): number | null {
  if (protocol === null) return null;
  return PROTOCOL_NUMBER.get(protocol) ?? Number(protocol);
}

function convertPort(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw invalidInput('SecurityGroupInvalidPortValue', `Invalid value for port ${typeof value === 'string' ? value : pyRepr(value)}`);
  }
  return n;
}

function convertEthertype(value: unknown): 'IPv4' | 'IPv6' {
  if (value === undefined) return 'IPv4';
  if (typeof value === 'string') {
    const found = ETHERTYPES.find((e) => e.toLowerCase() === value.toLowerCase());
    if (found) return found;
  }
  throw invalidInput('SecurityGroupRuleInvalidEtherType',
    `Security group rule for ethertype '${typeof value === 'string' ? value : pyRepr(value)}' not supported. Allowed values are ['IPv4', 'IPv6'].`);
}

function convertPrefix(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  const p = typeof value === 'string' ? parsePrefix(value) : null;
  if (!p) throw invalidInput('InvalidCIDR', `Invalid CIDR ${typeof value === 'string' ? value : pyRepr(value)} given as IP prefix.`);
  return prefixText(p);
}

/** A string attribute of at most `max` characters (Neutron's type:string). */
export function stringAttribute(body: Record<string, unknown>, key: string, fallback: string, max = 255): string {
  const value = body[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw attributeError(key, `${pyRepr(value)} is not a valid string`);
  if (value.length > max) throw attributeError(key, `'${value}' exceeds maximum length of ${max}`);
  return value;
}

/** Neutron's convert_to_boolean. */
export function booleanAttribute(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) return true;
    if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) return false;
  }
  throw typedError(400, 'InvalidInput', `Invalid input for operation: ${pyRepr(value)} cannot be converted to boolean.`);
}

/** 400 "Unrecognized attribute(s) 'x'" for keys a resource does not have. */
export function rejectUnknown(body: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length) throw typedError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
}

// ---- the rule ----

export interface RuleFields {
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id: string | null;
  description: string;
}

export const RULE_POST_ATTRIBUTES = [
  'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max',
  'remote_ip_prefix', 'remote_group_id', 'description', 'project_id', 'tenant_id',
] as const;

/**
 * A rule body ({"security_group_rule": {...}}'s object) converted and checked as Neutron does,
 * in Neutron's canonical form. Throws Neutron's 400s; existence of the groups is the caller's.
 */
export function normalizeRule(body: Record<string, unknown>): RuleFields {
  rejectUnknown(body, RULE_POST_ATTRIBUTES);
  for (const key of ['security_group_id', 'direction'] as const) {
    if (body[key] === undefined) throw typedError(400, 'HTTPBadRequest', `Failed to parse request. Required attribute '${key}' not specified`);
  }
  if (typeof body.security_group_id !== 'string') throw attributeError('security_group_id', `${pyRepr(body.security_group_id)} is not a valid string`);
  if (!DIRECTIONS.includes(body.direction as 'ingress')) {
    throw attributeError('direction', `${pyRepr(body.direction)} is not in ['ingress', 'egress']`);
  }
  const remoteGroup = body.remote_group_id ?? null;
  if (remoteGroup !== null && typeof remoteGroup !== 'string') throw attributeError('remote_group_id', `${pyRepr(remoteGroup)} is not a valid string`);
  const rule: RuleFields = {
    security_group_id: body.security_group_id,
    direction: body.direction as 'ingress' | 'egress',
    ethertype: convertEthertype(body.ethertype),
    protocol: convertProtocol(body.protocol),
    port_range_min: convertPort(body.port_range_min),
    port_range_max: convertPort(body.port_range_max),
    remote_ip_prefix: convertPrefix(body.remote_ip_prefix),
    remote_group_id: remoteGroup || null,
    remote_address_group_id: null,
    description: stringAttribute(body, 'description', ''),
  };
  validateRule(rule);
  return rule;
}

/** Neutron's _validate_base_security_group_rule_attributes, canonicalising on the way. */
export function validateRule(rule: RuleFields): void {
  // IPv6 ICMP has one canonical name (and number).
  if (rule.ethertype === 'IPv6') {
    if (rule.protocol === 'icmp' || rule.protocol === 'icmpv6') rule.protocol = 'ipv6-icmp';
    else if (rule.protocol === '1') rule.protocol = '58';
  }
  // The whole port range is no range at all.
  if (rule.port_range_min === 1 && rule.port_range_max === 65535) rule.port_range_min = rule.port_range_max = null;

  const { port_range_min: min, port_range_max: max } = rule;
  if (min !== null || max !== null) {
    if (rule.protocol === null) throw invalidInput('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
    const proto = protocolNumber(rule.protocol)!;
    if (PORT_PROTOCOLS.has(proto)) {
      if (min === 0 || max === 0) throw invalidInput('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
      if (min === null || max === null || min > max) {
        throw invalidInput('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
      }
    } else if (ICMP_PROTOCOLS.has(proto)) {
      for (const [attr, field, value] of [['port_range_min', 'type', min], ['port_range_max', 'code', max]] as const) {
        if (value !== null && (value < 0 || value > 255)) {
          throw invalidInput('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`);
        }
      }
      if (min === null && max !== null) {
        throw invalidInput('SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
      }
    } else {
      throw invalidInput('SecurityGroupInvalidProtocolForPort',
        `Ports cannot be specified for protocol ${proto}. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.`);
    }
  }

  if (rule.remote_ip_prefix !== null) {
    const p = parsePrefix(rule.remote_ip_prefix)!;
    if (rule.ethertype !== `IPv${p.version}`) {
      throw invalidInput('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${rule.ethertype} for CIDR ${rule.remote_ip_prefix}`);
    }
  }

  if (rule.protocol !== null && IPV6_ONLY.has(rule.protocol) && rule.ethertype === 'IPv4') {
    throw invalidInput('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${rule.ethertype} for protocol ${rule.protocol}.`);
  }

  const remotes = [rule.remote_ip_prefix, rule.remote_group_id, rule.remote_address_group_id].filter((r) => r);
  if (remotes.length > 1) {
    throw invalidInput('SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
  }
}

/**
 * What makes two rules of a group the same rule (Neutron's _rule_to_key): a protocol by
 * name equals it by number, and 0.0.0.0/0 or ::/0 equals no prefix.
 */
export function ruleKey(rule: Omit<RuleFields, 'security_group_id' | 'description'>): string {
  const none = '+';
  const prefix = rule.remote_ip_prefix === null || rule.remote_ip_prefix === '0.0.0.0/0' || rule.remote_ip_prefix === '::/0' ? none : rule.remote_ip_prefix;
  const proto = protocolNumber(rule.protocol);
  return [
    rule.direction, rule.ethertype, rule.port_range_max ?? none, rule.port_range_min ?? none,
    proto === null ? none : String(proto), rule.remote_group_id ?? none, rule.remote_address_group_id ?? none, prefix,
  ].join('_');
}

/** The stored fingerprint: a digest of the key, so it fits the column whatever the rule. */
export const ruleFingerprint = (rule: Omit<RuleFields, 'security_group_id' | 'description'>): string =>
  createHash('sha256').update(ruleKey(rule)).digest('hex');

// ---- racing inserts ----

/**
 * Runs `attempt` inside a SAVEPOINT; when it hits a unique violation the savepoint is rolled
 * back (PostgreSQL's transaction survives) and `onConflict` answers instead.
 */
export async function withUniqueSavepoint<T>(tx: NetTx, name: string, attempt: () => Promise<T>, onConflict: () => Promise<T>): Promise<T> {
  await sql`savepoint ${sql.raw(name)}`.execute(tx);
  let result: T;
  try {
    result = await attempt();
  } catch (err) {
    await sql`rollback to savepoint ${sql.raw(name)}`.execute(tx);
    await sql`release savepoint ${sql.raw(name)}`.execute(tx);
    if (isUniqueViolation(err)) return onConflict();
    throw err;
  }
  await sql`release savepoint ${sql.raw(name)}`.execute(tx);
  return result;
}

/**
 * After losing a race, reads must see the winner's committed row: InnoDB's plain reads keep
 * the transaction's first snapshot, a locking read sees the latest version.
 */
export const needsLockingRead = (tx: NetTx): boolean => tx.getExecutor().adapter instanceof MysqlAdapter;

/**
 * A shared-lock read on MySQL/MariaDB (the losers of a duplicate-key race already hold shared
 * locks on the winner's row; asking for an exclusive one would deadlock them with each other).
 * `LOCK IN SHARE MODE` is the spelling both MySQL and MariaDB accept.
 */
export function latestCommitted<Q extends { modifyEnd(modifier: ReturnType<typeof sql.raw>): Q }>(tx: NetTx, query: Q): Q {
  return needsLockingRead(tx) ? query.modifyEnd(sql.raw('lock in share mode')) : query;
}

/** SQLite has no SELECT ... FOR UPDATE (its writers are serialised anyway). */
export const hasRowLocks = (tx: NetTx): boolean => !(tx.getExecutor().adapter instanceof SqliteAdapter);

/**
 * The id of the group's rule with this fingerprint, if any. `latest` after losing a race:
 * a locking read of the winner's row. (Never a locking read of a row that may be absent:
 * InnoDB's gap locks would make racing inserters deadlock.)
 */
export async function ruleWithFingerprint(tx: NetTx, securityGroupId: string, fingerprint: string, latest = false): Promise<string | undefined> {
  let q = tx.selectFrom('security_group_rule').select('id')
    .where('security_group_id', '=', securityGroupId).where('fingerprint', '=', fingerprint);
  if (latest) q = latestCommitted(tx, q);
  return (await q.executeTakeFirst())?.id;
}
