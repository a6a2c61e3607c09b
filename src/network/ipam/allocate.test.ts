// IPAM under concurrency, on every database: parallel transactions allocating on one subnet
// never share an address, and a full subnet is a clean 409 IpAddressGenerationFailure.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createScratchDatabase, type ScratchDatabase } from '../../core/db/index.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { openNetworkData } from '../db/database.ts';
import type { NetworkData, NetTx } from '../db/database.ts';
import type { SubnetTable } from '../db/schema.ts';
import { allocateAddresses, releaseAddresses, type AddressRequest } from './allocate.ts';
import { defaultPools, poolText } from './pools.ts';
import { formatIp, parseCidr } from './cidr.ts';
import { eui64Text } from './slaac.ts';

const at = '2024-01-01T00:00:00Z';
const std = { created_at: at, updated_at: at, revision_number: 0 };

async function makeNetwork(data: NetworkData): Promise<string> {
  const id = randomUUID();
  await data.write((tx) => tx.insertInto('network').values({
    id, project_id: 'p', name: 'n', description: '', admin_state_up: 1, status: 'ACTIVE', shared: 0, router_external: 0,
    mtu: 1500, port_security_enabled: 1, availability_zone_hints: '[]', is_default: 0, ...std,
  }).execute());
  return id;
}

let made = 0;

async function makeSubnet(data: NetworkData, networkId: string, cidrText: string, extra: Partial<SubnetTable> = {}): Promise<string> {
  const id = randomUUID();
  const cidr = parseCidr(cidrText)!;
  const gateway = cidr.network + 1n;
  await data.write((tx) => tx.insertInto('subnet').values({
    id, project_id: 'p', network_id: networkId, segment_id: null, subnetpool_id: null, name: '', description: '',
    ip_version: cidr.version, cidr: cidrText, gateway_ip: formatIp(cidr.version, gateway), enable_dhcp: 1, ipv6_ra_mode: null, ipv6_address_mode: null,
    allocation_pools: JSON.stringify(defaultPools(cidr, gateway).map((p) => poolText(cidr.version, p))),
    dns_nameservers: '[]', host_routes: '[]', ...std, created_at: new Date(Date.UTC(2024, 0, 1) + ++made * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...extra,
  }).execute());
  return id;
}

const mac = () => `fa:16:3e:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

async function insertPort(tx: NetTx, networkId: string, deviceOwner = ''): Promise<{ id: string; mac: string }> {
  const port = { id: randomUUID(), mac: mac() };
  await tx.insertInto('port').values({
    id: port.id, project_id: 'p', network_id: networkId, name: '', description: '', admin_state_up: 1, status: 'DOWN',
    mac_address: port.mac, device_id: '', device_owner: deviceOwner, binding_host_id: '', binding_vif_type: 'unbound',
    binding_vnic_type: 'normal', binding_vif_details: '{}', binding_profile: '{}', port_security_enabled: 1,
    allowed_address_pairs: '[]', extra_dhcp_opts: '[]', dns_name: '', ...std,
  }).execute();
  return port;
}

/** One port creation: the port row and its addresses in one transaction. */
function createPort(data: NetworkData, networkId: string, requests?: AddressRequest[], deviceOwner = '') {
  return data.write(async (tx) => {
    const port = await insertPort(tx, networkId, deviceOwner);
    return { port: port.id, mac: port.mac, ips: await allocateAddresses(tx, { id: networkId }, port.id, port.mac, requests) };
  });
}

async function errorOf(promise: Promise<unknown>): Promise<{ status?: number; type?: string; message?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { status?: number; type?: string; message?: string };
  }
  assert.fail('expected an error');
}

for (const backend of await cloudBackends()) {
  describe(`IPAM on ${backend.name}`, { skip: backend.skip }, () => {
    let scratch: ScratchDatabase;
    let data: NetworkData;
    let close: () => Promise<void>;
    before(async () => {
      scratch = await createScratchDatabase(backend.url);
      ({ data, close } = await openNetworkData(scratch.url));
    });
    after(async () => {
      await close?.();
      await scratch?.drop();
    });

    test('200 parallel allocations on a /24 get 200 distinct addresses; a full subnet is a 409', async () => {
      const net = await makeNetwork(data);
      const subnet = await makeSubnet(data, net, '10.20.0.0/24');
      const results = await Promise.all(Array.from({ length: 200 }, () => createPort(data, net)));
      const addresses = results.map((r) => r.ips[0]!.ip_address);
      assert.ok(results.every((r) => r.ips.length === 1 && r.ips[0]!.subnet_id === subnet));
      assert.equal(new Set(addresses).size, 200);
      assert.ok(!addresses.includes('10.20.0.1'), 'the gateway is never handed out');
      // the rest of the 253 usable addresses (.2 … .254)
      const rest = await Promise.all(Array.from({ length: 53 }, () => createPort(data, net)));
      const all = new Set([...addresses, ...rest.map((r) => r.ips[0]!.ip_address)]);
      assert.equal(all.size, 253);
      const full = await errorOf(createPort(data, net));
      assert.equal(full.status, 409);
      assert.equal(full.type, 'IpAddressGenerationFailure');
      assert.equal(full.message, `No more IP addresses available on network ${net}.`);
      // the failed transaction left no port behind
      const ports = await data.db.selectFrom('port').select('id').where('network_id', '=', net).execute();
      assert.equal(ports.length, 253);
      // a deleted port frees its address, and the next port gets exactly that one
      const freed = results[17]!;
      await data.write(async (tx) => {
        await releaseAddresses(tx, freed.port);
        await tx.deleteFrom('port').where('id', '=', freed.port).execute();
      });
      const again = await createPort(data, net);
      assert.equal(again.ips[0]!.ip_address, freed.ips[0]!.ip_address);
    });

    test('an address inserted by a transaction still open is skipped once it commits (savepoint retry)', { skip: backend.name === 'sqlite' && 'SQLite serializes write transactions' }, async () => {
      const net = await makeNetwork(data);
      const subnet = await makeSubnet(data, net, '10.25.0.0/24');
      let open!: () => void;
      const gate = new Promise<void>((resolve) => { open = resolve; });
      let inserted!: () => void;
      const holding = new Promise<void>((resolve) => { inserted = resolve; });
      const blocker = data.write(async (tx) => {
        const port = await insertPort(tx, net);
        await tx.insertInto('ip_allocation').values({ subnet_id: subnet, ip_address: '10.25.0.2', port_id: port.id, network_id: net }).execute();
        inserted();
        await gate;
      });
      await holding;
      const allocating = createPort(data, net);
      // wait until the allocation is blocked on the open transaction's row
      const waiting = backend.name === 'postgresql'
        ? sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`
        : sql<{ n: number }>`select count(*) as n from information_schema.innodb_trx where trx_state = 'LOCK WAIT'`;
      // (InnoDB refreshes innodb_trx only when it was not read for 0.1 s, hence the pause between polls)
      while (Number((await waiting.execute(data.db)).rows[0]!.n) === 0) await new Promise((r) => setTimeout(r, 150));
      open();
      await blocker;
      const got = await allocating;
      assert.deepEqual(got.ips, [{ subnet_id: subnet, ip_address: '10.25.0.3' }]);
    });

    test('requested addresses and subnets', async () => {
      const net = await makeNetwork(data);
      const s1 = await makeSubnet(data, net, '10.30.0.0/24');
      const s2 = await makeSubnet(data, net, '10.31.0.0/24');
      const other = await makeSubnet(data, await makeNetwork(data), '10.32.0.0/24');
      const auto = await createPort(data, net);
      assert.deepEqual(auto.ips, [{ subnet_id: s1, ip_address: '10.30.0.2' }], 'one address from the first IPv4 subnet');
      const bySubnet = await createPort(data, net, [{ subnet_id: s2 }]);
      assert.deepEqual(bySubnet.ips, [{ subnet_id: s2, ip_address: '10.31.0.2' }]);
      const byAddress = await createPort(data, net, [{ ip_address: '10.31.0.77' }]);
      assert.deepEqual(byAddress.ips, [{ subnet_id: s2, ip_address: '10.31.0.77' }]);
      const two = await createPort(data, net, [{ subnet_id: s1, ip_address: '10.30.0.200' }, { subnet_id: s2 }]);
      assert.deepEqual(two.ips, [{ subnet_id: s1, ip_address: '10.30.0.200' }, { subnet_id: s2, ip_address: '10.31.0.3' }]);
      const outsidePool = await createPort(data, net, [{ ip_address: '10.30.0.1' }]);
      assert.equal(outsidePool.ips[0]!.ip_address, '10.30.0.1', 'any address of the subnet may be requested, the gateway too');

      const taken = await errorOf(createPort(data, net, [{ ip_address: '10.31.0.77' }]));
      assert.equal(`${taken.status} ${taken.type}`, '409 IpAddressAlreadyAllocated');
      const wrongSubnet = await errorOf(createPort(data, net, [{ subnet_id: s1, ip_address: '10.31.0.9' }]));
      assert.equal(`${wrongSubnet.status} ${wrongSubnet.type}`, '400 InvalidIpForSubnet');
      const broadcast = await errorOf(createPort(data, net, [{ subnet_id: s1, ip_address: '10.30.0.255' }]));
      assert.equal(`${broadcast.status} ${broadcast.type}`, '400 InvalidIpForSubnet');
      const nowhere = await errorOf(createPort(data, net, [{ ip_address: '192.168.9.9' }]));
      assert.equal(`${nowhere.status} ${nowhere.type}`, '400 InvalidIpForNetwork');
      const missing = await errorOf(createPort(data, net, [{ subnet_id: randomUUID() }]));
      assert.equal(`${missing.status} ${missing.type}`, '404 SubnetNotFound');
      const foreign = await errorOf(createPort(data, net, [{ subnet_id: other }]));
      assert.equal(`${foreign.status} ${foreign.type}`, '400 InvalidInput');
      const bad = await errorOf(createPort(data, net, [{ ip_address: 'nonsense' }]));
      assert.equal(bad.status, 400);
      // a network without subnets gives ports no address
      assert.deepEqual((await createPort(data, await makeNetwork(data))).ips, []);
    });

    test('IPv6: SLAAC addresses from the MAC, stateful from the pools, spelling-independent uniqueness', async () => {
      const net = await makeNetwork(data);
      const v4 = await makeSubnet(data, net, '10.40.0.0/24');
      const slaac = await makeSubnet(data, net, '2001:db8:40::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
      const port = await createPort(data, net);
      assert.equal(port.ips.length, 2);
      assert.equal(port.ips[0]!.subnet_id, v4);
      assert.deepEqual(port.ips[1], { subnet_id: slaac, ip_address: eui64Text(parseCidr('2001:db8:40::/64')!, port.mac) });
      const direct = await errorOf(createPort(data, net, [{ subnet_id: slaac, ip_address: '2001:db8:40::5' }]));
      assert.equal(`${direct.status} ${direct.type}`, '400 InvalidInput');
      // router interfaces take a pool address on SLAAC subnets and no implicit EUI-64 one
      const router = await createPort(data, net, [{ subnet_id: slaac, ip_address: '2001:db8:40::1' }], 'network:router_interface');
      assert.deepEqual(router.ips, [{ subnet_id: slaac, ip_address: '2001:db8:40::1' }]);

      const net6 = await makeNetwork(data);
      const stateful = await makeSubnet(data, net6, '2001:db8:41::/64', { ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' });
      assert.deepEqual((await createPort(data, net6)).ips, [{ subnet_id: stateful, ip_address: '2001:db8:41::2' }]);
      const spelled = await createPort(data, net6, [{ ip_address: '2001:0DB8:0041:0000::00ff' }]);
      assert.equal(spelled.ips[0]!.ip_address, '2001:db8:41::ff');
      const same = await errorOf(createPort(data, net6, [{ ip_address: '2001:db8:41:0:0:0:0:ff' }]));
      assert.equal(`${same.status} ${same.type}`, '409 IpAddressAlreadyAllocated');
    });
  });
}
