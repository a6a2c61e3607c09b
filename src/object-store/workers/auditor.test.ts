// The auditor on one storage server in this process: good objects pass, a copy whose bytes
// or metadata are damaged is quarantined, and leftovers of cut-short uploads go after a day.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../core/log/logger.ts';
import { hashPath } from '../ring/hash.ts';
import { DeviceSet } from '../storage/devices.ts';
import { objectHashDir } from '../storage/layout.ts';
import { clock, HASH_PREFIX, HASH_SUFFIX, startNode, type TestNode } from '../storage/test-support.ts';
import { ObjectAuditor } from './auditor.ts';

const secrets = { prefix: HASH_PREFIX, suffix: HASH_SUFFIX };

describe('object auditor', () => {
  let node: TestNode;
  const t = clock();
  before(async () => {
    node = await startNode(['sda']);
  });
  after(() => node.close());

  const auditor = (now?: () => number) => new ObjectAuditor({ devices: new DeviceSet([node.devicePath('sda')]), logger: silentLogger, filesPerSecond: 0, bytesPerSecond: 0, now });
  const put = async (name: string, body: string) => {
    assert.equal((await node.request('PUT', `/sda/1/AUTH_a/c/${name}`, { headers: { 'x-timestamp': t.next(), 'content-type': 'text/plain' }, body })).status, 201);
    const dir = objectHashDir(node.devicePath('sda'), 1, hashPath('AUTH_a', 'c', name, secrets).hex);
    return { dir, file: join(dir, readdirSync(dir).find((f) => f.endsWith('.data'))!) };
  };

  test('good objects pass; flipped bytes and a damaged trailer are quarantined', async () => {
    await put('fine', 'all good');
    const flipped = await put('flipped', 'some bytes');
    const bytes = readFileSync(flipped.file);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(flipped.file, bytes);
    const truncated = await put('truncated', 'more bytes here');
    writeFileSync(truncated.file, readFileSync(truncated.file).subarray(0, 20));

    const stats = await auditor().runOnce();
    assert.equal(stats.objects, 2); // the truncated one never got as far as its bytes
    assert.equal(stats.quarantined, 2);
    for (const damaged of [flipped, truncated]) {
      assert.ok(!existsSync(damaged.file));
      assert.ok(existsSync(join(node.devicePath('sda'), 'quarantined', 'objects', damaged.dir.split('/').pop()!, damaged.file.split('/').pop()!)));
    }
    assert.equal((await node.request('GET', '/sda/1/AUTH_a/c/fine')).text, 'all good');
    assert.equal((await node.request('GET', '/sda/1/AUTH_a/c/flipped')).status, 404);
    assert.equal((await auditor().runOnce()).quarantined, 0);
  });

  test('temp files a crash left behind are removed once a day old', async () => {
    const tmp = join(node.devicePath('sda'), 'tmp');
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'leftover.tmp'), 'half an upload');
    assert.equal((await auditor().runOnce()).tmpRemoved, 0);
    assert.equal((await auditor(() => Date.now() / 1000 + 86_400 + 60).runOnce()).tmpRemoved, 1);
    assert.ok(!existsSync(join(tmp, 'leftover.tmp')));
  });
});
