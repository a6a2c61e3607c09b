import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrText, containsCidr, contains, formatIp, type CidrLike, lastOf, mergeCidrs, normalizeCidr, normalizeIp, overlaps, parseCidr, parseIp, sizeOf,
} from './cidr.ts';
import { checkGatewayOutsidePools, defaultPools, parsePools, poolsSize, rangeText } from './pools.ts';
import { eui64Text, isAutoAddressSubnet } from './slaac.ts';
import { allocatePrefix, prefixAvailable } from './prefixes.ts';

const c = (text: string) => parseCidr(text)!;
const ip = (text: string) => parseIp(text)!.value;
const status = (fn: () => unknown) => {
  try { fn(); } catch (err) { return `${(err as { status?: number }).status} ${(err as { type?: string }).type}`; }
  return 'ok';
};

describe('addresses', () => {
  test('IPv4 parsing is strict', () => {
    assert.equal(parseIp('10.0.0.1')!.value, 0x0a000001n);
    for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.01', '1.2.3.4.5', '', ' 10.0.0.1', 'a.b.c.d']) assert.equal(parseIp(bad), null, bad);
  });

  test('IPv6 text is normalised to RFC 5952', () => {
    assert.equal(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(normalizeIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(normalizeIp('::'), '::');
    assert.equal(normalizeIp('::1'), '::1');
    assert.equal(normalizeIp('fe80::'), 'fe80::');
    assert.equal(normalizeIp('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2:3:4:5:6');
    assert.equal(normalizeIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(normalizeIp('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
    assert.equal(normalizeIp('64:ff9b::192.0.2.33'), '64:ff9b::c000:221');
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', ':::', 'g::1', '1:2:3:4:5:6:7']) assert.equal(parseIp(bad), null, bad);
    assert.equal(formatIp(6, (1n << 128n) - 1n), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  });

  test('CIDRs: host bits, sizes, containment, overlap', () => {
    assert.equal(c('10.0.0.1/24').hostBitsSet, true);
    assert.equal(c('10.0.0.0/24').hostBitsSet, false);
    assert.equal(normalizeCidr('10.0.0.77/24'), '10.0.0.0/24');
    assert.equal(normalizeCidr('2001:DB8::1/64'), '2001:db8::/64');
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/24/1', '::/129', 'x/24', '10.0.0.0/024']) assert.equal(parseCidr(bad), null, bad);
    assert.equal(sizeOf(c('10.0.0.0/24')), 256n);
    assert.equal(sizeOf(c('::/64')), 1n << 64n);
    assert.equal(formatIp(4, lastOf(c('10.0.0.0/24'))), '10.0.0.255');
    assert.ok(contains(c('10.0.0.0/24'), parseIp('10.0.0.200')!));
    assert.ok(!contains(c('10.0.0.0/24'), parseIp('10.0.1.0')!));
    assert.ok(!contains(c('10.0.0.0/24'), parseIp('::1')!));
    assert.ok(overlaps(c('10.0.0.0/24'), c('10.0.0.128/25')));
    assert.ok(overlaps(c('10.0.0.0/8'), c('10.200.0.0/16')));
    assert.ok(!overlaps(c('10.0.0.0/25'), c('10.0.0.128/25')));
    assert.ok(!overlaps(c('10.0.0.0/8'), c('::/0')));
    assert.ok(containsCidr(c('10.0.0.0/16'), c('10.0.5.0/24')));
    assert.ok(!containsCidr(c('10.0.5.0/24'), c('10.0.0.0/16')));
  });

  test('merging CIDRs compacts adjacent and nested blocks', () => {
    assert.deepEqual(mergeCidrs([c('10.0.0.0/25'), c('10.0.0.128/25'), c('10.0.0.64/26')]).map(cidrText), ['10.0.0.0/24']);
    assert.deepEqual(mergeCidrs([c('10.0.1.0/24'), c('10.0.2.0/24')]).map(cidrText), ['10.0.1.0/24', '10.0.2.0/24']);
    assert.deepEqual(mergeCidrs([c('2001:db8::/33'), c('2001:db8:8000::/33')]).map(cidrText), ['2001:db8::/32']);
  });
});

describe('allocation pools', () => {
  test('defaults: CIDR minus network, broadcast (v4) and gateway', () => {
    const text = (cidr: string, gw: string | null) => defaultPools(c(cidr), gw === null ? null : ip(gw)).map((r) => rangeText(c(cidr).version, r));
    assert.deepEqual(text('10.0.0.0/24', '10.0.0.1'), ['10.0.0.2-10.0.0.254']);
    assert.deepEqual(text('10.0.0.0/24', '10.0.0.254'), ['10.0.0.1-10.0.0.253']);
    assert.deepEqual(text('10.0.0.0/24', '10.0.0.100'), ['10.0.0.1-10.0.0.99', '10.0.0.101-10.0.0.254']);
    assert.deepEqual(text('10.0.0.0/24', null), ['10.0.0.1-10.0.0.254']);
    assert.deepEqual(text('10.0.0.0/30', '10.0.0.1'), ['10.0.0.2-10.0.0.2']);
    assert.deepEqual(text('10.0.0.0/31', null), []);
    assert.deepEqual(text('10.0.0.7/32', null), ['10.0.0.7-10.0.0.7']);
    assert.deepEqual(text('2001:db8::/64', '2001:db8::1'), ['2001:db8::2-2001:db8::ffff:ffff:ffff:ffff']);
    assert.equal(poolsSize(defaultPools(c('10.0.0.0/24'), ip('10.0.0.1'))), 253n);
  });

  test('explicit pools are validated as Neutron does', () => {
    const cidr = c('10.0.0.0/24');
    assert.equal(status(() => parsePools([{ start: '10.0.0.10', end: '10.0.0.20' }], cidr)), 'ok');
    assert.equal(status(() => parsePools([{ start: '10.0.0.20', end: '10.0.0.10' }], cidr)), '400 InvalidAllocationPool');
    assert.equal(status(() => parsePools([{ start: '10.0.0.0', end: '10.0.0.10' }], cidr)), '400 OutOfBoundsAllocationPool');
    assert.equal(status(() => parsePools([{ start: '10.0.0.250', end: '10.0.0.255' }], cidr)), '400 OutOfBoundsAllocationPool');
    assert.equal(status(() => parsePools([{ start: '10.0.1.1', end: '10.0.1.9' }], cidr)), '400 OutOfBoundsAllocationPool');
    assert.equal(status(() => parsePools([{ start: 'x', end: '10.0.0.9' }], cidr)), '400 HTTPBadRequest');
    assert.equal(status(() => parsePools([{ start: '10.0.0.2' }], cidr)), '400 HTTPBadRequest');
    assert.equal(status(() => parsePools([{ start: '10.0.0.2', end: '10.0.0.50' }, { start: '10.0.0.40', end: '10.0.0.60' }], cidr)), '409 OverlappingAllocationPools');
    const pools = parsePools([{ start: '10.0.0.1', end: '10.0.0.50' }], cidr);
    assert.equal(status(() => checkGatewayOutsidePools(4, ip('10.0.0.1'), pools)), '409 GatewayConflictWithAllocationPools');
    assert.equal(status(() => checkGatewayOutsidePools(4, ip('10.0.0.51'), pools)), 'ok');
    assert.equal(status(() => checkGatewayOutsidePools(4, null, pools)), 'ok');
  });
});

describe('SLAAC', () => {
  test('EUI-64 addresses from the MAC', () => {
    assert.equal(eui64Text(c('2001:db8::/64'), 'fa:16:3e:00:00:01'), '2001:db8::f816:3eff:fe00:1');
    assert.equal(eui64Text(c('2001:db8:1:2::/64'), '00:1A:2b:3c:4d:5e'), '2001:db8:1:2:21a:2bff:fe3c:4d5e');
  });

  test('which subnets are auto-address', () => {
    const s = (ra: string | null, addr: string | null) => isAutoAddressSubnet({ ip_version: 6, ipv6_ra_mode: ra, ipv6_address_mode: addr });
    assert.equal(s('slaac', 'slaac'), true);
    assert.equal(s(null, 'dhcpv6-stateless'), true);
    assert.equal(s('slaac', null), true);
    assert.equal(s('dhcpv6-stateful', 'dhcpv6-stateful'), false);
    assert.equal(s(null, null), false);
    assert.equal(isAutoAddressSubnet({ ip_version: 4, ipv6_ra_mode: null, ipv6_address_mode: 'slaac' }), false);
  });
});

describe('prefix allocation', () => {
  test('lowest free aligned block, skipping used ones', () => {
    const pool = [c('10.10.0.0/24')];
    const used: CidrLike[] = [];
    const got: string[] = [];
    for (;;) {
      const next = allocatePrefix(4, pool, used, 26);
      if (!next) break;
      got.push(cidrText(next));
      used.push(next);
    }
    assert.deepEqual(got, ['10.10.0.0/26', '10.10.0.64/26', '10.10.0.128/26', '10.10.0.192/26']);
    assert.equal(cidrText(allocatePrefix(4, [c('10.10.0.0/24')], [c('10.10.0.0/28')], 26)!), '10.10.0.64/26');
    assert.equal(cidrText(allocatePrefix(4, [c('10.10.0.0/24'), c('10.20.0.0/16')], [c('10.10.0.0/25')], 24)!), '10.20.0.0/24');
    assert.equal(allocatePrefix(4, [c('10.10.0.0/24')], [], 23), null);
    assert.ok(prefixAvailable(pool, [c('10.10.0.0/26')], c('10.10.0.64/26')));
    assert.ok(!prefixAvailable(pool, [c('10.10.0.0/26')], c('10.10.0.0/25')));
    assert.ok(!prefixAvailable(pool, [], c('10.11.0.0/26')));
  });
});
