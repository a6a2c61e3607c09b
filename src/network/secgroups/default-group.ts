// Security groups as rows: creating one with Neutron's template rules, and a project's
// `default` group, made on first use. The default_security_group table has the project as its
// primary key, so when several requests of a new project race, exactly one mapping row (and so
// one default group) survives; the losers roll back to a savepoint and use the winner's.
import type { NetTx } from '../db/database.ts';
import type { SecurityGroupRuleTable } from '../db/schema.ts';
import { newId, now } from '../api/common.ts';
import { latestCommitted, ruleFingerprint, withUniqueSavepoint, type RuleFields } from './rules.ts';

export const DEFAULT_SG_NAME = 'default';
export const DEFAULT_SG_DESCRIPTION = 'Default security group';

type TemplateRule = Pick<RuleFields, 'direction' | 'ethertype'> & { remoteIsSelf: boolean };

/** Neutron's default rule templates: every group may send anything; the default group also accepts from its own members. */
const TEMPLATE: (TemplateRule & { inDefault: boolean; inOthers: boolean })[] = [
  { direction: 'egress', ethertype: 'IPv4', remoteIsSelf: false, inDefault: true, inOthers: true },
  { direction: 'egress', ethertype: 'IPv6', remoteIsSelf: false, inDefault: true, inOthers: true },
  { direction: 'ingress', ethertype: 'IPv4', remoteIsSelf: true, inDefault: true, inOthers: false },
  { direction: 'ingress', ethertype: 'IPv6', remoteIsSelf: true, inDefault: true, inOthers: false },
];

/** How many rules a new group starts with (what its creation adds to the rule quota). */
export const templateRuleCount = (isDefault: boolean) => TEMPLATE.filter((t) => (isDefault ? t.inDefault : t.inOthers)).length;

export interface NewSecurityGroup {
  projectId: string;
  name: string;
  description: string;
  stateful: boolean;
}

function templateRows(groupId: string, projectId: string, isDefault: boolean, at: string): SecurityGroupRuleTable[] {
  return TEMPLATE.filter((t) => (isDefault ? t.inDefault : t.inOthers)).map((t) => {
    const fields = {
      direction: t.direction, ethertype: t.ethertype, protocol: null, port_range_min: null, port_range_max: null,
      remote_ip_prefix: null, remote_group_id: t.remoteIsSelf ? groupId : null, remote_address_group_id: null,
    };
    return {
      id: newId(), project_id: projectId, security_group_id: groupId, ...fields, description: '',
      fingerprint: ruleFingerprint(fields), created_at: at, updated_at: at, revision_number: 0,
    };
  });
}

/** Inserts a group and its template rules (no quota check, no default-group mapping); returns its id. */
export async function insertSecurityGroup(tx: NetTx, group: NewSecurityGroup, isDefault = false, id = newId()): Promise<string> {
  const at = now();
  await tx.insertInto('security_group').values({
    id, project_id: group.projectId, name: group.name, description: group.description, stateful: group.stateful ? 1 : 0,
    created_at: at, updated_at: at, revision_number: 0,
  }).execute();
  if (isDefault) {
    // The mapping right after the group: a losing racer stops here, before writing any rules.
    await tx.insertInto('default_security_group').values({ project_id: group.projectId, security_group_id: id }).execute();
  }
  const rules = templateRows(id, group.projectId, isDefault, at);
  if (rules.length) await tx.insertInto('security_group_rule').values(rules).execute();
  return id;
}

/** The id of a project's default group, if it has one yet. */
export async function defaultSecurityGroupId(tx: NetTx, projectId: string, latest = false): Promise<string | undefined> {
  let q = tx.selectFrom('default_security_group').select('security_group_id').where('project_id', '=', projectId);
  if (latest) q = latestCommitted(tx, q);
  return (await q.executeTakeFirst())?.security_group_id;
}

/**
 * The project's `default` security group, created on first use with Neutron's default rules
 * (egress IPv4 and IPv6 to anywhere; ingress IPv4 and IPv6 from members of the group itself).
 * Safe under concurrency on every database: exactly one default group per project.
 */
export async function ensureDefaultSecurityGroup(tx: NetTx, projectId: string): Promise<string> {
  const existing = await defaultSecurityGroupId(tx, projectId);
  if (existing) return existing;
  return withUniqueSavepoint(
    tx,
    'sg',
    () => insertSecurityGroup(tx, { projectId, name: DEFAULT_SG_NAME, description: DEFAULT_SG_DESCRIPTION, stateful: true }, true),
    async () => {
      const winner = await defaultSecurityGroupId(tx, projectId, true);
      if (!winner) throw new Error(`default security group of project ${projectId} vanished while being created`);
      return winner;
    },
  );
}
