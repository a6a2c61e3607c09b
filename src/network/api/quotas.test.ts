// Quotas end to end, on SQLite, PostgreSQL and MySQL: an admin sets a project's limits through
// /v2.0/quotas, the project reads them (and nobody else's), checkQuota enforces them with
// Neutron's 409 OverQuota, /details counts what is used, and DELETE goes back to the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeNetworkApi } from '../../testing/network-suite.ts';
import { newId, now } from './common.ts';
import { checkQuota, quotaUsage } from '../quota/enforce.ts';
import { HttpError } from '../../core/http/index.ts';

const RESOURCES = ['network', 'subnet', 'subnetpool', 'port', 'router', 'floatingip', 'security_group', 'security_group_rule'];

await describeNetworkApi('network quotas', (suite) => {
  /** A network row of the project, as the networks API would leave it. */
  const addNetwork = (projectId: string) => suite.cloud.networkService.deps.data.write(async (tx) => {
    await checkQuota(tx, suite.cloud.networkService.deps, projectId, 'network');
    const at = now();
    await tx.insertInto('network').values({
      id: newId(), project_id: projectId, name: 'n', description: '', admin_state_up: 1, status: 'ACTIVE', shared: 0,
      router_external: 0, mtu: 1450, port_security_enabled: 1, availability_zone_hints: '[]', is_default: 0,
      created_at: at, updated_at: at, revision_number: 0,
    }).execute();
  });

  test('defaults, and a project sees its own quota only', async () => {
    const own = await suite.alice.network.send('GET', `/v2.0/quotas/${suite.alice.projectId}`);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.deepEqual(Object.keys(own.body.quota).sort(), [...RESOURCES].sort());
    assert.equal(own.body.quota.network, 100);
    assert.equal(own.body.quota.port, 500);
    assert.equal(own.body.quota.subnetpool, -1);
    const defaults = await suite.alice.network.send('GET', `/v2.0/quotas/${suite.alice.projectId}/default`);
    assert.deepEqual(defaults.body.quota, own.body.quota);
    const project = await suite.alice.network.send('GET', '/v2.0/quotas/project');
    assert.deepEqual(project.body, { project: { project_id: suite.alice.projectId } });

    const others = await suite.alice.network.send('GET', `/v2.0/quotas/${suite.bob.projectId}`);
    assert.equal(others.status, 403);
    assert.equal(others.body.NeutronError.type, 'PolicyNotAuthorized');
    const othersDetails = await suite.alice.network.send('GET', `/v2.0/quotas/${suite.bob.projectId}/details`);
    assert.equal(othersDetails.status, 403);
    assert.equal(othersDetails.body.NeutronError.type, 'AdminRequired');
    assert.equal((await suite.alice.network.send('GET', '/v2.0/quotas')).status, 403);
    const set = await suite.alice.network.send('PUT', `/v2.0/quotas/${suite.alice.projectId}`, { body: { quota: { network: 1000 } } });
    assert.equal(set.status, 403);
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/quotas/${suite.alice.projectId}`)).status, 403);
  });

  test('a network quota of 1 set through the API stops the second network with OverQuota', async () => {
    const set = await suite.cloud.network.send('PUT', `/v2.0/quotas/${suite.alice.projectId}`, { body: { quota: { network: 1, router: '3' } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.quota.network, 1);
    assert.equal(set.body.quota.router, 3);
    assert.equal(set.body.quota.subnet, 100);
    assert.equal((await suite.alice.network.send('GET', `/v2.0/quotas/${suite.alice.projectId}`)).body.quota.network, 1);

    await addNetwork(suite.alice.projectId);
    await assert.rejects(addNetwork(suite.alice.projectId), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 409);
      assert.equal(err.type, 'OverQuota');
      assert.equal(err.message, "Quota exceeded for resources: ['network'].");
      return true;
    });
    assert.equal((await quotaUsage(suite.cloud.networkService.deps.data.db, suite.alice.projectId)).network, 1);
    // another project is not limited by it
    await addNetwork(suite.bob.projectId);
    await addNetwork(suite.bob.projectId);

    const listed = await suite.cloud.network.send('GET', '/v2.0/quotas');
    assert.equal(listed.status, 200);
    const entry = listed.body.quotas.find((q: { project_id: string }) => q.project_id === suite.alice.projectId);
    assert.equal(entry.network, 1);
    assert.equal(entry.tenant_id, suite.alice.projectId);
    assert.equal(entry.port, 500);
    assert.ok(!listed.body.quotas.some((q: { project_id: string }) => q.project_id === suite.bob.projectId));
  });

  test('details count what the project uses', async () => {
    await suite.alice.network.send('GET', '/v2.0/security-groups'); // makes the default group (4 rules)
    const created = await suite.alice.network.send('POST', '/v2.0/security-groups', { body: { security_group: { name: 'counted' } } });
    assert.equal(created.status, 201);
    const details = await suite.alice.network.send('GET', `/v2.0/quotas/${suite.alice.projectId}/details`);
    assert.equal(details.status, 200, JSON.stringify(details.body));
    assert.deepEqual(details.body.quota.network, { limit: 1, used: 1, reserved: 0 });
    assert.deepEqual(details.body.quota.security_group, { limit: 10, used: 2, reserved: 0 });
    assert.deepEqual(details.body.quota.security_group_rule, { limit: 100, used: 6, reserved: 0 });
    assert.deepEqual(details.body.quota.port, { limit: 500, used: 0, reserved: 0 });
    const asAdmin = await suite.cloud.network.send('GET', `/v2.0/quotas/${suite.alice.projectId}/details`);
    assert.deepEqual(asAdmin.body, details.body);
  });

  test('the security group quota holds through the API', async () => {
    const user = await suite.cloud.projectUser('member');
    await user.network.send('GET', '/v2.0/security-groups');
    assert.equal((await suite.cloud.network.send('PUT', `/v2.0/quotas/${user.projectId}`, { body: { quota: { security_group: 2 } } })).status, 200);
    assert.equal((await user.network.send('POST', '/v2.0/security-groups', { body: { security_group: { name: 'one' } } })).status, 201);
    const over = await user.network.send('POST', '/v2.0/security-groups', { body: { security_group: { name: 'two' } } });
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
    assert.equal(over.body.NeutronError.message, "Quota exceeded for resources: ['security_group'].");
  });

  test('bad limits are 400s; a limit below usage needs force', async () => {
    for (const quota of [{ network: -2 }, { network: 'lots' }, { network: 1.5 }, { bananas: 3 }]) {
      const res = await suite.cloud.network.send('PUT', `/v2.0/quotas/${suite.alice.projectId}`, { body: { quota } });
      assert.equal(res.status, 400, `${JSON.stringify(quota)} → ${JSON.stringify(res.body)}`);
    }
    assert.equal((await suite.cloud.network.send('PUT', `/v2.0/quotas/${suite.alice.projectId}`, { body: {} })).status, 400);
    const below = await suite.cloud.network.send('PUT', `/v2.0/quotas/${suite.alice.projectId}`, { body: { quota: { security_group: 1 } } });
    assert.equal(below.status, 400);
    assert.match(below.body.NeutronError.message, /Quota limit 1 for security_group must be greater than or equal to already used 2/);
    const forced = await suite.cloud.network.send('PUT', `/v2.0/quotas/${suite.alice.projectId}`, { body: { quota: { security_group: 1, force: true } } });
    assert.equal(forced.status, 200);
    assert.equal(forced.body.quota.security_group, 1);
    const unlimited = await suite.cloud.network.send('PUT', `/v2.0/quotas/${suite.alice.projectId}`, { body: { quota: { network: -1 } } });
    assert.equal(unlimited.body.quota.network, -1);
    await addNetwork(suite.alice.projectId);
  });

  test('DELETE goes back to the defaults', async () => {
    assert.equal((await suite.cloud.network.send('DELETE', `/v2.0/quotas/${suite.alice.projectId}`)).status, 204);
    const shown = await suite.alice.network.send('GET', `/v2.0/quotas/${suite.alice.projectId}`);
    assert.equal(shown.body.quota.network, 100);
    assert.equal(shown.body.quota.security_group, 10);
    const again = await suite.cloud.network.send('DELETE', `/v2.0/quotas/${suite.alice.projectId}`);
    assert.equal(again.status, 404);
    assert.equal(again.body.NeutronError.type, 'TenantQuotaNotFound');
  });
});
