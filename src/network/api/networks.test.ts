import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestCloud } from '../../testing/cloud.ts';
import { describeNetworkApi } from '../../testing/network-suite.ts';
import { newId, now } from './common.ts';


/** A port row written straight to the database (the ports API is another file's business). */
async function insertPort(cloud: TestCloud, networkId: string, projectId: string, deviceOwner: string): Promise<string> {
  const id = newId();
  const t = now();
  await cloud.networkService.deps.data.write(async (tx) => {
    await tx.insertInto('port').values({
      id, project_id: projectId, network_id: networkId, name: '', description: '', admin_state_up: 1, status: 'DOWN',
      mac_address: `fa:16:3e:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}`, device_id: '', device_owner: deviceOwner,
      binding_host_id: '', binding_vif_type: 'unbound', binding_vnic_type: 'normal', binding_vif_details: '{}', binding_profile: '{}',
      port_security_enabled: 1, allowed_address_pairs: '[]', extra_dhcp_opts: '[]', dns_name: '',
      created_at: t, updated_at: t, revision_number: 1,
    }).execute();
  });
  return id;
}

await describeNetworkApi('networks', (suite) => {
  test('create, show, update, delete with Neutron defaults', async () => {
    const created = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { name: 'net1' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const net = created.body.network;
    assert.equal(net.name, 'net1');
    assert.equal(net.admin_state_up, true);
    assert.equal(net.status, 'ACTIVE');
    assert.equal(net.shared, false);
    assert.equal(net['router:external'], false);
    assert.equal(net.port_security_enabled, true);
    assert.equal(net.mtu, 1450); // vxlan: 1500 - 50
    assert.deepEqual(net.subnets, []);
    assert.deepEqual(net.tags, []);
    assert.deepEqual(net.availability_zone_hints, []);
    assert.deepEqual(net.availability_zones, ['nova']);
    assert.equal(net.project_id, suite.alice.projectId);
    assert.equal(net.tenant_id, suite.alice.projectId);
    assert.equal(net.revision_number, 1);
    assert.match(net.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(!('provider:network_type' in net), 'non-admins do not see provider attributes');

    const shown = await suite.alice.network.send('GET', `/v2.0/networks/${net.id}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.network, net);
    const fields = await suite.alice.network.send('GET', `/v2.0/networks/${net.id}?fields=id&fields=name`);
    assert.deepEqual(fields.body.network, { id: net.id, name: 'net1' });

    const updated = await suite.alice.network.send('PUT', `/v2.0/networks/${net.id}`, { body: { network: { name: 'renamed', admin_state_up: false, mtu: 1400 } } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.network.name, 'renamed');
    assert.equal(updated.body.network.admin_state_up, false);
    assert.equal(updated.body.network.mtu, 1400);
    assert.equal(updated.body.network.revision_number, 2);
    const tooBig = await suite.alice.network.send('PUT', `/v2.0/networks/${net.id}`, { body: { network: { mtu: 9000 } } });
    assert.equal(tooBig.status, 400);
    const readOnly = await suite.alice.network.send('PUT', `/v2.0/networks/${net.id}`, { body: { network: { status: 'DOWN' } } });
    assert.equal(readOnly.status, 400);
    const unknown = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { bogus: 1 } } });
    assert.equal(unknown.status, 400);
    const badBool = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { admin_state_up: 'maybe' } } });
    assert.equal(badBool.status, 400);

    const deleted = await suite.alice.network.send('DELETE', `/v2.0/networks/${net.id}`);
    assert.equal(deleted.status, 204);
    const gone = await suite.alice.network.send('GET', `/v2.0/networks/${net.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.NeutronError.type, 'NetworkNotFound');
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/networks/${net.id}`)).status, 404);
  });

  test('bulk create', async () => {
    const res = await suite.alice.network.send('POST', '/v2.0/networks', { body: { networks: [{ name: 'b1' }, { name: 'b2' }] } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.networks.map((n: any) => n.name), ['b1', 'b2']);
    for (const n of res.body.networks) await suite.alice.network.send('DELETE', `/v2.0/networks/${n.id}`);
  });

  test('provider segments are allocated from the ranges, distinct under concurrency', async () => {
    const a = (await suite.cloud.network.send('POST', '/v2.0/networks', { body: { network: { name: 'pa' } } })).body.network;
    const b = (await suite.cloud.network.send('POST', '/v2.0/networks', { body: { network: { name: 'pb' } } })).body.network;
    assert.equal(a['provider:network_type'], 'vxlan');
    assert.equal(a['provider:physical_network'], null);
    assert.ok(Number.isInteger(a['provider:segmentation_id']));
    assert.notEqual(a['provider:segmentation_id'], b['provider:segmentation_id']);
    assert.ok(a['provider:segmentation_id'] >= 1 && a['provider:segmentation_id'] <= 65535);

    const parallel = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      suite.cloud.network.send('POST', '/v2.0/networks', { body: { network: { name: `par${i}` } } })));
    for (const r of parallel) assert.equal(r.status, 201, JSON.stringify(r.body));
    const ids = [a, b, ...parallel.map((r) => r.body.network)].map((n) => n['provider:segmentation_id']);
    assert.equal(new Set(ids).size, ids.length, `duplicate VNIs: ${ids}`);

    // explicit id: outside the ranges is fine for an admin, a duplicate is a 409
    const explicit = await suite.cloud.network.send('POST', '/v2.0/networks', {
      body: { network: { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 100000 } },
    });
    assert.equal(explicit.status, 201, JSON.stringify(explicit.body));
    assert.equal(explicit.body.network['provider:segmentation_id'], 100000);
    const duplicate = await suite.cloud.network.send('POST', '/v2.0/networks', {
      body: { network: { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 100000 } },
    });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.NeutronError.type, 'TunnelIdInUse');
    const outOfRange = await suite.cloud.network.send('POST', '/v2.0/networks', {
      body: { network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'public', 'provider:segmentation_id': 5000 } },
    });
    assert.equal(outOfRange.status, 400);
    assert.equal(outOfRange.body.NeutronError.type, 'InvalidInput');

    const vlan = await suite.cloud.network.send('POST', '/v2.0/networks', {
      body: { network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'public' } },
    });
    assert.equal(vlan.status, 201, JSON.stringify(vlan.body));
    assert.equal(vlan.body.network['provider:segmentation_id'], 100);
    assert.equal(vlan.body.network.mtu, 1500);

    const multi = await suite.cloud.network.send('POST', '/v2.0/networks', {
      body: { network: { segments: [
        { 'provider:network_type': 'vlan', 'provider:physical_network': 'public', 'provider:segmentation_id': 150 },
        { 'provider:network_type': 'vxlan' },
      ] } },
    });
    assert.equal(multi.status, 201, JSON.stringify(multi.body));
    assert.equal(multi.body.network.segments.length, 2);
    assert.equal(multi.body.network.segments[0]['provider:segmentation_id'], 150);
    assert.ok(!('provider:network_type' in multi.body.network));
    assert.equal(multi.body.network.mtu, 1450);

    const created = [a, b, ...parallel.map((r) => r.body.network), explicit.body.network, vlan.body.network, multi.body.network];
    for (const n of created) assert.equal((await suite.cloud.network.send('DELETE', `/v2.0/networks/${n.id}`)).status, 204);
    // a freed id is handed out again
    const again = (await suite.cloud.network.send('POST', '/v2.0/networks', { body: { network: { name: 'again' } } })).body.network;
    assert.equal(again['provider:segmentation_id'], Math.min(...ids));
    await suite.cloud.network.send('DELETE', `/v2.0/networks/${again.id}`);
  });

  test('one flat network per physical network', async () => {
    const body = { network: { name: 'public', 'provider:network_type': 'flat', 'provider:physical_network': 'public', 'router:external': true } };
    const first = await suite.cloud.network.send('POST', '/v2.0/networks', { body });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.network['provider:segmentation_id'], null);
    assert.equal(first.body.network.mtu, 1500);
    const second = await suite.cloud.network.send('POST', '/v2.0/networks', { body });
    assert.equal(second.status, 409);
    assert.equal(second.body.NeutronError.type, 'FlatNetworkInUse');
    const unknownPhysnet = await suite.cloud.network.send('POST', '/v2.0/networks', {
      body: { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'nowhere' } },
    });
    assert.equal(unknownPhysnet.status, 400);
    await suite.cloud.network.send('DELETE', `/v2.0/networks/${first.body.network.id}`);
  });

  test('non-admins cannot set shared, external or provider attributes', async () => {
    for (const attrs of [{ shared: true }, { 'router:external': true }, { 'provider:network_type': 'vxlan' }, { segments: [{ 'provider:network_type': 'vxlan' }] }]) {
      const res = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: attrs } });
      assert.equal(res.status, 403, JSON.stringify(attrs));
      assert.equal(res.body.NeutronError.type, 'PolicyNotAuthorized');
    }
    // defaults are not a change of policy-protected attributes
    const plain = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { shared: false } } });
    assert.equal(plain.status, 201);
    const update = await suite.alice.network.send('PUT', `/v2.0/networks/${plain.body.network.id}`, { body: { network: { shared: true } } });
    assert.equal(update.status, 403);
    const otherProject = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { project_id: suite.bob.projectId } } });
    assert.equal(otherProject.status, 400);
    await suite.alice.network.send('DELETE', `/v2.0/networks/${plain.body.network.id}`);
  });

  test('visibility: private networks are 404 to others, shared and external ones visible', async () => {
    const priv = (await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { name: 'private' } } })).body.network;
    const shared = (await suite.cloud.network.send('POST', '/v2.0/networks', { body: { network: { name: 'shared', shared: true } } })).body.network;
    const ext = (await suite.cloud.network.send('POST', '/v2.0/networks', { body: { network: { name: 'ext', 'router:external': true } } })).body.network;

    const hidden = await suite.bob.network.send('GET', `/v2.0/networks/${priv.id}`);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.NeutronError.type, 'NetworkNotFound');
    assert.equal((await suite.bob.network.send('PUT', `/v2.0/networks/${priv.id}`, { body: { network: { name: 'x' } } })).status, 404);
    assert.equal((await suite.bob.network.send('DELETE', `/v2.0/networks/${priv.id}`)).status, 404);

    const seen = await suite.bob.network.send('GET', `/v2.0/networks/${shared.id}`);
    assert.equal(seen.status, 200);
    assert.ok(!('provider:network_type' in seen.body.network));
    assert.equal((await suite.bob.network.send('GET', `/v2.0/networks/${ext.id}`)).status, 200);
    assert.equal((await suite.bob.network.send('PUT', `/v2.0/networks/${shared.id}`, { body: { network: { name: 'x' } } })).status, 403);
    assert.equal((await suite.bob.network.send('DELETE', `/v2.0/networks/${shared.id}`)).status, 403);

    const list = await suite.bob.network.send('GET', '/v2.0/networks');
    const names = list.body.networks.map((n: any) => n.id);
    assert.ok(names.includes(shared.id) && names.includes(ext.id) && !names.includes(priv.id));
    const external = await suite.bob.network.send('GET', '/v2.0/networks?router:external=True');
    assert.deepEqual(external.body.networks.map((n: any) => n.id), [ext.id]);
    const sharedOnly = await suite.bob.network.send('GET', '/v2.0/networks?shared=true');
    assert.deepEqual(sharedOnly.body.networks.map((n: any) => n.id), [shared.id]);

    const adminList = await suite.cloud.network.send('GET', `/v2.0/networks?project_id=${suite.alice.projectId}`);
    assert.deepEqual(adminList.body.networks.map((n: any) => n.id), [priv.id]);
    const byTenant = await suite.cloud.network.send('GET', `/v2.0/networks?tenant_id=${suite.alice.projectId}&name=private&fields=id&fields=provider:network_type`);
    assert.deepEqual(byTenant.body.networks, [{ id: priv.id, 'provider:network_type': 'vxlan' }]);
    const byType = await suite.cloud.network.send('GET', `/v2.0/networks?provider:segmentation_id=${ext['provider:segmentation_id']}`);
    assert.deepEqual(byType.body.networks.map((n: any) => n.id), [ext.id]);

    for (const n of [priv]) await suite.alice.network.send('DELETE', `/v2.0/networks/${n.id}`);
    for (const n of [shared, ext]) await suite.cloud.network.send('DELETE', `/v2.0/networks/${n.id}`);
  });

  test('paging links and sorting', async () => {
    const carol = await suite.cloud.projectUser('member');
    for (const name of ['n1', 'n2', 'n3']) await carol.network.send('POST', '/v2.0/networks', { body: { network: { name } } });
    const page1 = await carol.network.send('GET', '/v2.0/networks?limit=2&sort_key=name&sort_dir=asc');
    assert.deepEqual(page1.body.networks.map((n: any) => n.name), ['n1', 'n2']);
    const next = page1.body.networks_links.find((l: any) => l.rel === 'next');
    assert.ok(next);
    const url = new URL(next.href);
    const page2 = await carol.network.send('GET', `${url.pathname}${url.search}`);
    assert.deepEqual(page2.body.networks.map((n: any) => n.name), ['n3']);
    assert.ok(page2.body.networks_links.some((l: any) => l.rel === 'previous'));
  });

  test('deleting a network in use is a 409; DHCP ports, subnets and tags go with it', async () => {
    const net = (await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { name: 'busy', tags: ['a'] } } })).body.network;
    const port = await insertPort(suite.cloud, net.id, suite.alice.projectId, 'compute:nova');
    await insertPort(suite.cloud, net.id, suite.alice.projectId, 'network:dhcp');
    const busy = await suite.alice.network.send('DELETE', `/v2.0/networks/${net.id}`);
    assert.equal(busy.status, 409);
    assert.equal(busy.body.NeutronError.type, 'NetworkInUse');
    await suite.cloud.networkService.deps.data.write((tx) => tx.deleteFrom('port').where('id', '=', port).execute());
    assert.equal((await suite.alice.network.send('DELETE', `/v2.0/networks/${net.id}`)).status, 204);
    const db = suite.cloud.networkService.deps.data.db;
    assert.equal((await db.selectFrom('port').select('id').where('network_id', '=', net.id).execute()).length, 0);
    assert.equal((await db.selectFrom('tag').select('tag').where('resource_id', '=', net.id).execute()).length, 0);
    assert.equal((await db.selectFrom('network_segment').select('id').where('network_id', '=', net.id).execute()).length, 0);
  });

  test('quota exceeded is a 409 OverQuota', async () => {
    const dave = await suite.cloud.projectUser('member');
    await suite.cloud.networkService.deps.data.write((tx) =>
      tx.insertInto('quota').values({ project_id: dave.projectId, resource: 'network', hard_limit: 1 }).execute());
    assert.equal((await dave.network.send('POST', '/v2.0/networks', { body: { network: { name: 'one' } } })).status, 201);
    const over = await dave.network.send('POST', '/v2.0/networks', { body: { network: { name: 'two' } } });
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
    assert.equal(over.body.NeutronError.message, "Quota exceeded for resources: ['network'].");
  });

  test('tags API', async () => {
    const net = (await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { name: 'tagged' } } })).body.network;
    const base = `/v2.0/networks/${net.id}/tags`;
    const put = await suite.alice.network.send('PUT', base, { body: { tags: ['red', 'blue', 'red'] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.tags, ['blue', 'red']);
    assert.deepEqual((await suite.alice.network.send('GET', base)).body.tags, ['blue', 'red']);
    assert.equal((await suite.alice.network.send('PUT', `${base}/green`)).status, 201);
    assert.equal((await suite.alice.network.send('GET', `${base}/green`)).status, 204);
    const missing = await suite.alice.network.send('GET', `${base}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.NeutronError.type, 'TagNotFound');
    assert.equal((await suite.alice.network.send('DELETE', `${base}/green`)).status, 204);
    assert.equal((await suite.alice.network.send('DELETE', `${base}/green`)).status, 404);
    const shown = (await suite.alice.network.send('GET', `/v2.0/networks/${net.id}`)).body.network;
    assert.deepEqual(shown.tags, ['blue', 'red']);
    assert.equal(shown.revision_number, net.revision_number + 3);

    assert.deepEqual((await suite.alice.network.send('GET', '/v2.0/networks?tags=red')).body.networks.map((n: any) => n.id), [net.id]);
    assert.deepEqual((await suite.alice.network.send('GET', '/v2.0/networks?not-tags-any=red')).body.networks.map((n: any) => n.id).includes(net.id), false);

    assert.equal((await suite.bob.network.send('GET', base)).status, 404);
    assert.equal((await suite.bob.network.send('PUT', `${base}/x`)).status, 404);
    assert.equal((await suite.alice.network.send('GET', `/v2.0/routers/${newId()}/tags`)).status, 404);
    const shared = (await suite.cloud.network.send('POST', '/v2.0/networks', { body: { network: { shared: true } } })).body.network;
    assert.equal((await suite.bob.network.send('GET', `/v2.0/networks/${shared.id}/tags`)).status, 200);
    assert.equal((await suite.bob.network.send('PUT', `/v2.0/networks/${shared.id}/tags/x`)).status, 403);
    assert.equal((await suite.cloud.network.send('PUT', `/v2.0/networks/${net.id}/tags/admin`)).status, 201);

    assert.equal((await suite.alice.network.send('DELETE', base)).status, 204);
    assert.deepEqual((await suite.alice.network.send('GET', base)).body.tags, []);
    assert.equal((await suite.alice.network.send('PUT', base, { body: { wrong: [] } })).status, 400);
    await suite.alice.network.send('DELETE', `/v2.0/networks/${net.id}`);
    await suite.cloud.network.send('DELETE', `/v2.0/networks/${shared.id}`);
  });

  test('extensions and availability zones', async () => {
    const list = await suite.alice.network.send('GET', '/v2.0/extensions');
    assert.equal(list.status, 200);
    const aliases = list.body.extensions.map((e: any) => e.alias);
    for (const alias of ['external-net', 'router', 'provider', 'multi-provider', 'standard-attr-tag', 'net-mtu', 'quotas']) assert.ok(aliases.includes(alias), alias);
    assert.deepEqual(Object.keys(list.body.extensions[0]).sort(), ['alias', 'description', 'links', 'name', 'updated']);
    const one = await suite.alice.network.send('GET', '/v2.0/extensions/external-net');
    assert.equal(one.body.extension.alias, 'external-net');
    assert.equal((await suite.alice.network.send('GET', '/v2.0/extensions/no-such')).status, 404);

    const zones = await suite.alice.network.send('GET', '/v2.0/availability_zones');
    assert.equal(zones.status, 200);
    assert.deepEqual(zones.body.availability_zones, [
      { name: 'nova', resource: 'network', state: 'available' },
      { name: 'nova', resource: 'router', state: 'available' },
    ]);
    const routers = await suite.alice.network.send('GET', '/v2.0/availability_zones?resource=router');
    assert.equal(routers.body.availability_zones.length, 1);
    const hinted = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { availability_zone_hints: ['nova'] } } });
    assert.deepEqual(hinted.body.network.availability_zone_hints, ['nova']);
    const badZone = await suite.alice.network.send('POST', '/v2.0/networks', { body: { network: { availability_zone_hints: ['mars'] } } });
    assert.equal(badZone.status, 404);
    assert.equal(badZone.body.NeutronError.type, 'AvailabilityZoneNotFound');
    await suite.alice.network.send('DELETE', `/v2.0/networks/${hinted.body.network.id}`);
  });
});
