// tenrec object-store ring: swift-ring-builder's workflow, output and exit codes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRingFile } from '../../object-store/ring/file.ts';
import { tenrecInProcess } from '../testing.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-ring-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** Runs `tenrec object-store ring <kind> ...args` against a fresh (or given) ring dir. */
function ringCli(dir: string) {
  return (kind: string, ...args: string[]) => tenrecInProcess(['object-store', 'ring', kind, ...args, '--ring-dir', dir]);
}
const newDir = () => join(root, `r${++dirs}`);

async function threeZoneRing(dir: string, minPartHours = '0') {
  const ring = ringCli(dir);
  assert.equal((await ring('object', 'create', '8', '3', minPartHours)).code, 0);
  const add = await ring('object', 'add', 'r1z1-127.0.0.1:6201/d1', '100', 'r1z2-127.0.0.1:6202/d2', '100', 'r1z3-127.0.0.1:6203/d3_ssd', '100');
  assert.equal(add.code, 0, add.stderr);
  return ring;
}

describe('tenrec object-store ring', () => {
  test('create, add, rebalance: the ring file holds every device; show lists them with their partitions', async () => {
    const dir = newDir();
    const ring = ringCli(dir);
    const created = await ring('object', 'create', '8', '3', '1');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /object\.builder\.json: 256 partitions, 3 replicas, min_part_hours 1/);

    const add = await ring('object', 'add', 'r1z1-127.0.0.1:6201/d1', '100', 'z2-127.0.0.1:6202/d2', '100', 'r1z3-[::1]:6203/d3_ssd', '100');
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /^Device d0r1z1-127\.0\.0\.1:6201\/d1_"" with 100 weight got id 0$/m);
    assert.match(add.stdout, /^Device d2r1z3-\[::1\]:6203\/d3_"ssd" with 100 weight got id 2$/m);
    assert.match(add.stderr, /WARNING: No region specified for z2-127\.0\.0\.1:6202\/d2\. Defaulting to region 1\./);
    assert.ok(!existsSync(join(dir, 'object.ring.json')), 'no ring before a rebalance');

    const rebalance = await ring('object', 'rebalance', '--seed', '3');
    assert.equal(rebalance.code, 0, rebalance.stdout + rebalance.stderr);
    assert.equal(rebalance.stdout, 'Reassigned 768 (300.00%) partitions. Balance is now 0.00.  Dispersion is now 0.00\n');
    const data = readRingFile(join(dir, 'object.ring.json'));
    assert.deepEqual(data.devices.map((d) => d!.device), ['d1', 'd2', 'd3']);
    assert.ok(readdirSync(join(dir, 'backups')).some((f) => f.endsWith('.object.ring.json')), 'a backup, as swift-ring-builder keeps');

    const show = await ring('object');
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^256 partitions, 3\.000000 replicas, 1 regions, 3 zones, 3 devices, 0\.00 balance, 0\.00 dispersion$/m);
    assert.match(show.stdout, /can be reassigned is 1 \(\d:\d\d:\d\d remaining\)$/m);
    assert.match(show.stdout, /^Ring file .*object\.ring\.json is up-to-date$/m);
    assert.match(show.stdout, /^Devices: id region zone ip address:port name weight partitions balance flags meta$/m);
    assert.match(show.stdout, /^ +0 +1 +1 +127\.0\.0\.1:6201 +d1 +100\.00 +256 +0\.00$/m);
    assert.match(show.stdout, /^ +2 +1 +3 +\[::1\]:6203 +d3 +100\.00 +256 +0\.00 +ssd$/m);
  });

  test('nothing to rebalance within min_part_hours: exit 1, the files unchanged', async () => {
    const dir = newDir();
    const ring = await threeZoneRing(dir, '1');
    assert.equal((await ring('object', 'rebalance')).code, 0);
    const before = readFileSync(join(dir, 'object.ring.json'), 'utf8');
    await ring('object', 'add', 'r1z4-127.0.0.1:6204/d4', '100');
    const r = await ring('object', 'rebalance');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^No partitions could be reassigned\.\nThe time between rebalances must be at least min_part_hours: 1 hours \(\d:\d\d:\d\d remaining\)\n$/);
    assert.equal(readFileSync(join(dir, 'object.ring.json'), 'utf8'), before);

    assert.equal((await ring('object', 'pretend-min-part-hours-passed')).code, 0);
    const now = await ring('object', 'rebalance');
    assert.equal(now.code, 0, now.stdout);
    assert.match(now.stdout, /^Reassigned 192 \(75\.00%\) partitions\./);
  });

  test('remove: DEL until the rebalance moves its partitions; a search matching several devices needs --yes', async () => {
    const dir = newDir();
    const ring = await threeZoneRing(dir);
    await ring('object', 'add', 'r1z4-127.0.0.1:6204/d4', '100');
    assert.equal((await ring('object', 'rebalance')).code, 0);

    const many = await ring('object', 'remove', '127.0.0.1');
    assert.equal(many.code, 2);
    assert.match(many.stderr, /^tenrec: Search value '127\.0\.0\.1' matched 4 devices .*add --yes/);
    const none = await ring('object', 'remove', 'z9');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /matched 0 devices/);

    const removed = await ring('object', 'remove', 'z2-127.0.0.1:6202/d2');
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'd1r1z2-127.0.0.1:6202/d2_"" marked for removal and will be removed next rebalance.\n');
    assert.match((await ring('object', 'show')).stdout, /^ +1 +1 +2 +127\.0\.0\.1:6202 +d2 +0\.00 +192 +999\.99 +DEL$/m);

    const r = await ring('object', 'rebalance');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^Reassigned 192 \(75\.00%\) partitions\. Balance is now 0\.00\./);
    const data = readRingFile(join(dir, 'object.ring.json'));
    assert.equal(data.devices[1], null);
    assert.ok(data.replica2part2dev.every((row) => !row.includes(1)));
  });

  test('set-weight then rebalance: partitions follow the weight', async () => {
    const dir = newDir();
    const ring = await threeZoneRing(dir);
    await ring('object', 'add', 'r1z1-127.0.0.1:6211/d11', '100', 'r1z2-127.0.0.1:6212/d12', '100', 'r1z3-127.0.0.1:6213/d13', '100');
    assert.equal((await ring('object', 'rebalance')).code, 0);
    const set = await ring('object', 'set-weight', 'z1', '50', '--yes');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^d0r1z1-127\.0\.0\.1:6201\/d1_"" weight set to 50\nd3r1z1-127\.0\.0\.1:6211\/d11_"" weight set to 50\n$/);
    assert.equal((await ring('object', 'rebalance')).code, 1, 'a warning: by weight, some partitions now have two replicas in zone 2 or 3');
    const counts = countsByDevice(readRingFile(join(dir, 'object.ring.json')).replica2part2dev);
    assert.ok(counts[0]! < 128 && counts[1]! > 128, JSON.stringify(counts));
  });

  test('mistakes: exit 2 and the builder unchanged', async () => {
    const dir = newDir();
    const ring = await threeZoneRing(dir);
    const builder = readFileSync(join(dir, 'object.builder.json'), 'utf8');
    const cases: [string[], RegExp][] = [
      [['object', 'add', 'r1z5-127.0.0.1:6205/d5', '100', 'z6-nohost:1/d6', '100'], /^tenrec: Invalid ip nohost in z6-nohost:1\/d6$/m],
      [['object', 'add', 'r1z1-127.0.0.1:6201/d1', '100'], /Device 0 already uses 127\.0\.0\.1:6201\/d1/],
      [['object', 'add', 'r1z5-127.0.0.1:6205/d5', 'heavy'], /Invalid weight value: 'heavy'/],
      [['object', 'create', '8', '3', '1'], /already exists.*--force/],
      [['object', 'create', 'eight', '3', '1'], /part_power must be a whole number, got 'eight'/],
      [['object', 'set-weight', 'd0', '-1'], /Unknown option '-1'|Invalid weight/],
      [['account', 'show'], /^tenrec: ring builder file .*account\.builder\.json does not exist/],
      [['object', 'add', 'r1z5-127.0.0.1:6205/d5'], /add takes pairs/],
      [['bucket'], /unknown ring 'bucket' \(expected account, container or object\)/],
      [['object', 'spin'], /unknown action 'spin'/],
      [[], /missing <kind>/],
    ];
    for (const [args, pattern] of cases) {
      const r = await tenrecInProcess(['object-store', 'ring', ...args, '--ring-dir', dir]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
    }
    assert.equal(readFileSync(join(dir, 'object.builder.json'), 'utf8'), builder);
    const tooFew = await ring('object', 'remove', 'd2');
    assert.equal(tooFew.code, 0);
    const r = await ring('object', 'rebalance');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /3 replicas need at least 3 devices with weight; the ring has 2/);
  });

  test('create --force replaces a builder, backing the old one up; write-ring writes the ring from the builder', async () => {
    const dir = newDir();
    const ring = await threeZoneRing(dir);
    assert.equal((await ring('object', 'rebalance')).code, 0);
    rmSync(join(dir, 'object.ring.json'));
    assert.match((await ring('object', 'show')).stdout, /^Ring file .* not found/m);
    const written = await ring('object', 'write-ring');
    assert.equal(written.code, 0, written.stderr);
    assert.match((await ring('object', 'show')).stdout, /is up-to-date$/m);

    const forced = await ring('object', 'create', '6', '1', '0', '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^Backed up the old builder to .*backups\/\d+\.object\.builder\.json/);
    assert.match((await ring('object', 'show')).stdout, /^64 partitions, 1\.000000 replicas, 0 regions, 0 zones, 0 devices/m);
  });

  test('without --ring-dir: [object-store] ring_dir, else <state>/object-store', async () => {
    const fromConfig = newDir();
    const conf = join(root, 'ring.conf');
    writeFileSync(conf, `[object-store]\nring_dir = ${fromConfig}\n`);
    const a = await tenrecInProcess(['object-store', 'ring', 'container', 'create', '4', '1', '1', '--config-file', conf]);
    assert.equal(a.code, 0, a.stderr);
    assert.ok(existsSync(join(fromConfig, 'container.builder.json')));

    const state = newDir();
    const empty = join(root, 'empty.conf');
    writeFileSync(empty, '');
    const b = await tenrecInProcess(['object-store', 'ring', 'account', 'create', '4', '1', '1', '--config-file', empty, '--state-dir', state]);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(existsSync(join(state, 'object-store', 'account.builder.json')));
  });

  test('tenrec --help lists it; tenrec object-store --help shows the group', async () => {
    assert.match((await tenrecInProcess(['--help'])).stdout, /^ {2}object-store ring <kind> \[<action>\] +Build the object store's/m);
    assert.match((await tenrecInProcess(['object-store', '--help'])).stdout, /^usage: tenrec object-store <command>/);
  });
});

function countsByDevice(table: number[][]): number[] {
  const counts: number[] = [];
  for (const row of table) for (const id of row) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}
