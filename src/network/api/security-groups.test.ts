// Security groups and rules end to end, on SQLite, PostgreSQL and MySQL: the per-project
// default group (exactly one, even when a new project's first requests race), its upstream
// rules, CRUD, Neutron's 409s for the default group and duplicate rules (also when racing),
// and the 400s of malformed rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RestClient } from '../../clients/http.ts';
import { describeNetworkApi } from '../../testing/network-suite.ts';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function createGroup(client: RestClient, name: string, extra: Record<string, unknown> = {}) {
  const res = await client.send('POST', '/v2.0/security-groups', { body: { security_group: { name, ...extra } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.security_group;
}

async function defaultGroup(client: RestClient) {
  const res = await client.send('GET', '/v2.0/security-groups?name=default');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.security_groups.length, 1);
  return res.body.security_groups[0];
}

const rule = (groupId: string, extra: Record<string, unknown>) => ({ security_group_rule: { security_group_id: groupId, direction: 'ingress', ...extra } });

await describeNetworkApi('security groups', (suite) => {
  test('a new project racing 20 first listings gets exactly one default group', async () => {
    const fresh = await suite.cloud.projectUser('member');
    const lists = await Promise.all(Array.from({ length: 20 }, () => fresh.network.send('GET', '/v2.0/security-groups')));
    const ids = new Set<string>();
    for (const res of lists) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const defaults = res.body.security_groups.filter((g: { name: string }) => g.name === 'default');
      assert.equal(defaults.length, 1);
      ids.add(defaults[0].id);
    }
    assert.equal(ids.size, 1);
    const db = suite.cloud.networkService.deps.data.db;
    const groups = await db.selectFrom('security_group').select('id').where('project_id', '=', fresh.projectId).execute();
    assert.deepEqual(groups.map((g) => g.id), [...ids]);
    const rules = await db.selectFrom('security_group_rule').select('id').where('project_id', '=', fresh.projectId).execute();
    assert.equal(rules.length, 4);
  });

  test('the default group carries the upstream default rules', async () => {
    const group = await defaultGroup(suite.alice.network);
    assert.equal(group.description, 'Default security group');
    assert.equal(group.project_id, suite.alice.projectId);
    assert.equal(group.tenant_id, suite.alice.projectId);
    assert.equal(group.stateful, true);
    assert.equal(group.shared, false);
    assert.match(group.created_at, TIME);
    assert.deepEqual(group.tags, []);
    const shape = group.security_group_rules.map((r: Record<string, unknown>) =>
      `${r.direction} ${r.ethertype} ${r.protocol} ${r.remote_ip_prefix} ${r.remote_group_id === group.id ? 'self' : r.remote_group_id}`).sort();
    assert.deepEqual(shape, [
      'egress IPv4 null null null', 'egress IPv6 null null null', 'ingress IPv4 null null self', 'ingress IPv6 null null self',
    ]);
    for (const r of group.security_group_rules) {
      assert.equal(r.belongs_to_default_sg, true);
      assert.equal(r.security_group_id, group.id);
      assert.equal(r.project_id, suite.alice.projectId);
      assert.equal(r.tenant_id, suite.alice.projectId);
      assert.equal(r.port_range_min, null);
    }
    // listing rules shows them too, and only the caller's
    const rules = await suite.alice.network.send('GET', `/v2.0/security-group-rules?security_group_id=${group.id}`);
    assert.equal(rules.status, 200);
    assert.equal(rules.body.security_group_rules.length, 4);
    const bobsView = await suite.bob.network.send('GET', `/v2.0/security-group-rules?security_group_id=${group.id}`);
    assert.equal(bobsView.body.security_group_rules.length, 0);
  });

  test('create, show, update, list and delete a group', async () => {
    const group = await createGroup(suite.alice.network, 'web', { description: 'web servers' });
    assert.equal(group.name, 'web');
    assert.equal(group.description, 'web servers');
    assert.equal(group.stateful, true);
    assert.equal(group.revision_number, 0);
    // a new group may send anything, and accepts nothing
    assert.deepEqual(group.security_group_rules.map((r: Record<string, unknown>) => `${r.direction} ${r.ethertype}`).sort(), ['egress IPv4', 'egress IPv6']);
    assert.ok(group.security_group_rules.every((r: Record<string, unknown>) => r.belongs_to_default_sg === false));

    const shown = await suite.alice.network.send('GET', `/v2.0/security-groups/${group.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.security_group.id, group.id);
    const fields = await suite.alice.network.send('GET', `/v2.0/security-groups/${group.id}?fields=id&fields=name`);
    assert.deepEqual(fields.body.security_group, { id: group.id, name: 'web' });

    const updated = await suite.alice.network.send('PUT', `/v2.0/security-groups/${group.id}`, { body: { security_group: { name: 'www', description: 'd2' } } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.security_group.name, 'www');
    assert.equal(updated.body.security_group.revision_number, 1);

    const listed = await suite.alice.network.send('GET', '/v2.0/security-groups');
    assert.deepEqual(listed.body.security_groups.map((g: { name: string }) => g.name).sort(), ['default', 'www']);
    const adminList = await suite.cloud.network.send('GET', `/v2.0/security-groups?project_id=${suite.alice.projectId}`);
    assert.deepEqual(adminList.body.security_groups.map((g: { name: string }) => g.name).sort(), ['default', 'www']);

    // another project neither sees nor touches it
    assert.equal((await suite.bob.network.send('GET', `/v2.0/security-groups/${group.id}`)).body.NeutronError.type, 'SecurityGroupNotFound');
    assert.equal((await suite.bob.network.send('PUT', `/v2.0/security-groups/${group.id}`, { body: { security_group: { name: 'x' } } })).status, 404);
    assert.equal((await suite.bob.network.send('DELETE', `/v2.0/security-groups/${group.id}`)).status, 404);
    assert.ok(!(await suite.bob.network.send('GET', '/v2.0/security-groups')).body.security_groups.some((g: { id: string }) => g.id === group.id));

    const bad = await suite.alice.network.send('POST', '/v2.0/security-groups', { body: { security_group: { name: 'x', colour: 'red' } } });
    assert.equal(bad.status, 400);
    const foreign = await suite.alice.network.send('POST', '/v2.0/security-groups', { body: { security_group: { name: 'x', project_id: suite.bob.projectId } } });
    assert.equal(foreign.status, 400);

    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/security-groups/${group.id}`)).status, 204);
    const gone = await suite.alice.network.send('GET', `/v2.0/security-groups/${group.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.NeutronError.type, 'SecurityGroupNotFound');
    assert.equal(gone.body.NeutronError.message, `Security group ${group.id} does not exist`);
  });

  test('the default group is protected as upstream', async () => {
    const group = await defaultGroup(suite.alice.network);
    const another = await suite.alice.network.send('POST', '/v2.0/security-groups', { body: { security_group: { name: 'default' } } });
    assert.equal(another.status, 409);
    assert.equal(another.body.NeutronError.type, 'SecurityGroupDefaultAlreadyExists');
    const renamed = await suite.alice.network.send('PUT', `/v2.0/security-groups/${group.id}`, { body: { security_group: { name: 'mine' } } });
    assert.equal(renamed.status, 409);
    assert.equal(renamed.body.NeutronError.type, 'SecurityGroupCannotUpdateDefault');
    const described = await suite.alice.network.send('PUT', `/v2.0/security-groups/${group.id}`, { body: { security_group: { description: 'ok' } } });
    assert.equal(described.status, 200);
    const removed = await suite.alice.network.send('DELETE', `/v2.0/security-groups/${group.id}`);
    assert.equal(removed.status, 409);
    assert.equal(removed.body.NeutronError.type, 'SecurityGroupCannotRemoveDefault');
    const other = await createGroup(suite.alice.network, 'other');
    const toDefault = await suite.alice.network.send('PUT', `/v2.0/security-groups/${other.id}`, { body: { security_group: { name: 'Default' } } });
    assert.equal(toDefault.status, 409);
    assert.equal(toDefault.body.NeutronError.type, 'SecurityGroupDefaultAlreadyExists');
  });

  test('rules: create, duplicate 409 naming the rule, canonical forms, delete', async () => {
    const group = await createGroup(suite.alice.network, 'ssh');
    const before = group.revision_number;
    const created = await suite.alice.network.send('POST', '/v2.0/security-group-rules', {
      body: rule(group.id, { protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', description: 'ssh' }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const r = created.body.security_group_rule;
    assert.equal(r.protocol, 'tcp');
    assert.equal(r.ethertype, 'IPv4');
    assert.equal(r.port_range_min, 22);
    assert.equal(r.port_range_max, 22);
    assert.equal(r.remote_ip_prefix, '0.0.0.0/0');
    assert.equal(r.normalized_cidr, '0.0.0.0/0');
    assert.equal(r.description, 'ssh');
    assert.equal(r.project_id, suite.alice.projectId);
    assert.equal(r.revision_number, 0);

    // the same rule again: by number, with no prefix (which means any) → 409 naming the rule
    const duplicate = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { protocol: '6', port_range_min: '22', port_range_max: 22 }) });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.NeutronError.type, 'SecurityGroupRuleExists');
    assert.equal(duplicate.body.NeutronError.message, `Security group rule already exists. Rule id is ${r.id}.`);

    const shownGroup = await suite.alice.network.send('GET', `/v2.0/security-groups/${group.id}`);
    assert.equal(shownGroup.body.security_group.revision_number, before + 1);
    assert.ok(shownGroup.body.security_group.security_group_rules.some((x: { id: string }) => x.id === r.id));

    // canonical forms: IPv6 ICMP is ipv6-icmp; the whole port range is none; the prefix keeps its host bits
    const icmp6 = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { ethertype: 'ipv6', protocol: 'icmp', port_range_min: 128, port_range_max: 0 }) });
    assert.equal(icmp6.status, 201, JSON.stringify(icmp6.body));
    assert.equal(icmp6.body.security_group_rule.protocol, 'ipv6-icmp');
    assert.equal(icmp6.body.security_group_rule.ethertype, 'IPv6');
    const all = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { protocol: 'udp', port_range_min: 1, port_range_max: 65535, remote_ip_prefix: '10.0.0.7/24' }) });
    assert.equal(all.status, 201, JSON.stringify(all.body));
    assert.equal(all.body.security_group_rule.port_range_min, null);
    assert.equal(all.body.security_group_rule.remote_ip_prefix, '10.0.0.7/24');
    assert.equal(all.body.security_group_rule.normalized_cidr, '10.0.0.0/24');
    const host6 = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { ethertype: 'IPv6', protocol: 132, remote_ip_prefix: '2001:DB8:0:0::1' }) });
    assert.equal(host6.status, 201, JSON.stringify(host6.body));
    assert.equal(host6.body.security_group_rule.protocol, '132');
    assert.equal(host6.body.security_group_rule.remote_ip_prefix, '2001:db8::1/128');
    const anyProto = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { protocol: 'any', remote_group_id: group.id }) });
    assert.equal(anyProto.status, 201, JSON.stringify(anyProto.body));
    assert.equal(anyProto.body.security_group_rule.protocol, null);
    assert.equal(anyProto.body.security_group_rule.remote_group_id, group.id);

    const shown = await suite.alice.network.send('GET', `/v2.0/security-group-rules/${r.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.security_group_rule.id, r.id);
    assert.equal((await suite.bob.network.send('GET', `/v2.0/security-group-rules/${r.id}`)).status, 404);
    assert.equal((await suite.bob.network.send('DELETE', `/v2.0/security-group-rules/${r.id}`)).status, 404);

    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/security-group-rules/${r.id}`)).status, 204);
    const gone = await suite.alice.network.send('GET', `/v2.0/security-group-rules/${r.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.NeutronError.type, 'SecurityGroupRuleNotFound');
    // gone, it can be made again
    const again = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { protocol: 'tcp', port_range_min: 22, port_range_max: 22 }) });
    assert.equal(again.status, 201);
  });

  test('bulk rules and racing duplicates', async () => {
    const group = await createGroup(suite.alice.network, 'bulk');
    const bulk = await suite.alice.network.send('POST', '/v2.0/security-group-rules', {
      body: { security_group_rules: [80, 443].map((port) => rule(group.id, { protocol: 'tcp', port_range_min: port, port_range_max: port }).security_group_rule) },
    });
    assert.equal(bulk.status, 201, JSON.stringify(bulk.body));
    assert.equal(bulk.body.security_group_rules.length, 2);
    const twice = await suite.alice.network.send('POST', '/v2.0/security-group-rules', {
      body: { security_group_rules: [rule(group.id, { protocol: 'udp' }).security_group_rule, rule(group.id, { protocol: '17' }).security_group_rule] },
    });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.NeutronError.type, 'DuplicateSecurityGroupRuleInPost');

    const racing = await Promise.all(Array.from({ length: 10 }, () =>
      suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { protocol: 'tcp', port_range_min: 8080, port_range_max: 8080 }) })));
    const won = racing.filter((res) => res.status === 201);
    assert.equal(won.length, 1, JSON.stringify(racing.map((x) => x.status)));
    for (const lost of racing.filter((res) => res.status !== 201)) {
      assert.equal(lost.status, 409, JSON.stringify(lost.body));
      assert.equal(lost.body.NeutronError.message, `Security group rule already exists. Rule id is ${won[0]!.body.security_group_rule.id}.`);
    }
  });

  test('malformed rules are 400s and unknown groups 404s', async () => {
    const group = await createGroup(suite.alice.network, 'strict');
    const cases: [Record<string, unknown>, string][] = [
      [{ protocol: 'foo' }, 'SecurityGroupRuleInvalidProtocol'],
      [{ protocol: 256 }, 'SecurityGroupRuleInvalidProtocol'],
      [{ protocol: 'tcp', port_range_min: 90, port_range_max: 80 }, 'SecurityGroupInvalidPortRange'],
      [{ protocol: 'tcp', port_range_min: 80 }, 'SecurityGroupInvalidPortRange'],
      [{ protocol: 'tcp', port_range_min: 70000, port_range_max: 70000 }, 'SecurityGroupInvalidPortValue'],
      [{ port_range_min: 80, port_range_max: 80 }, 'SecurityGroupProtocolRequiredWithPorts'],
      [{ protocol: 'gre', port_range_min: 80, port_range_max: 80 }, 'SecurityGroupInvalidProtocolForPort'],
      [{ protocol: 'icmp', port_range_min: 256 }, 'SecurityGroupInvalidIcmpValue'],
      [{ protocol: 'icmp', port_range_max: 3 }, 'SecurityGroupMissingIcmpType'],
      [{ protocol: 'ipv6-icmp' }, 'SecurityGroupEthertypeConflictWithProtocol'],
      [{ remote_ip_prefix: 'not-a-cidr' }, 'InvalidCIDR'],
      [{ remote_ip_prefix: '10.0.0.0/33' }, 'InvalidCIDR'],
      [{ remote_ip_prefix: '2001:db8::/64' }, 'SecurityGroupRuleParameterConflict'],
      [{ remote_ip_prefix: '10.0.0.0/8', remote_group_id: group.id }, 'SecurityGroupMultipleRemoteEntites'],
      [{ ethertype: 'IPv5' }, 'SecurityGroupRuleInvalidEtherType'],
      [{ direction: 'sideways' }, 'InvalidInput'],
    ];
    for (const [extra, type] of cases) {
      const res = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, extra) });
      assert.equal(res.status, 400, `${JSON.stringify(extra)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.NeutronError.type, type, JSON.stringify(extra));
    }
    const missing = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule('00000000-0000-0000-0000-000000000000', {}) });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.NeutronError.type, 'SecurityGroupNotFound');
    const remote = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { remote_group_id: '00000000-0000-0000-0000-000000000001' }) });
    assert.equal(remote.status, 404);
    const bobs = await defaultGroup(suite.bob.network);
    const foreign = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(bobs.id, { protocol: 'tcp' }) });
    assert.equal(foreign.status, 404);
    const foreignRemote = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(group.id, { remote_group_id: bobs.id }) });
    assert.equal(foreignRemote.status, 404);
  });

  test('deleting a group removes the rules that name it as their remote', async () => {
    const target = await createGroup(suite.alice.network, 'target');
    const user = await createGroup(suite.alice.network, 'user');
    const res = await suite.alice.network.send('POST', '/v2.0/security-group-rules', { body: rule(user.id, { remote_group_id: target.id }) });
    assert.equal(res.status, 201);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/security-groups/${target.id}`)).status, 204);
    assert.equal((await suite.alice.network.send('GET', `/v2.0/security-group-rules/${res.body.security_group_rule.id}`)).status, 404);
  });

  test('a group ports use cannot be deleted', async () => {
    const group = await createGroup(suite.alice.network, 'used');
    const network = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { name: 'sg-net' } } });
    if (network.status !== 201) return; // the networks API is not there yet
    const port = await suite.alice.network.send('POST', '/v2.0/ports', { body: { port: { network_id: network.body.network.id, security_groups: [group.id] } } });
    assert.equal(port.status, 201, JSON.stringify(port.body));
    const res = await suite.alice.network.send('DELETE', `/v2.0/security-groups/${group.id}`);
    assert.equal(res.status, 409);
    assert.equal(res.body.NeutronError.type, 'SecurityGroupInUse');
    assert.equal(res.body.NeutronError.message, `Security Group ${group.id} in use.`);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/ports/${port.body.port.id}`)).status, 204);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/security-groups/${group.id}`)).status, 204);
  });
});
