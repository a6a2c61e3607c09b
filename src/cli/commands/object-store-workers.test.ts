// tenrec object-store replicate|audit|update|expire --once: one pass on this node's devices,
// its counts as JSON; what is missing to run one is said plainly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRings } from '../../object-store/ring/all-in-one.ts';
import { hashPath } from '../../object-store/ring/hash.ts';
import { objectHashDir } from '../../object-store/storage/layout.ts';
import { startNode, type TestNode } from '../../object-store/storage/test-support.ts';
import { tenrecInProcess } from '../testing.ts';

describe('tenrec object-store <worker> --once', () => {
  const root = mkdtempSync(join(tmpdir(), 'tenrec-workers-cli-'));
  const conf = join(root, 'tenrec.conf');
  const state = join(root, 'state');
  let node: TestNode;
  let device: string;
  // the test node's hash secrets, as the storage server has them
  const env = { TENREC_OBJECT_STORE_HASH_PATH_PREFIX: 'pre', TENREC_OBJECT_STORE_HASH_PATH_SUFFIX: 'suf', TENREC_DEFAULT_LOG_LEVEL: 'error' };
  const run = (...args: string[]) => tenrecInProcess(['object-store', ...args, '--config-file', conf, '--state-dir', state], env);

  before(async () => {
    writeFileSync(conf, '');
    node = await startNode(['d1']);
    device = node.devicePath('d1');
  });
  after(async () => {
    await node.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('without devices, or without rings for a worker that needs them, it says so', async () => {
    const none = await run('audit', '--once');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--devices/);
    const noRings = await run('replicate', '--once', '--devices', device, '--port', String(node.port));
    assert.equal(noRings.code, 1);
    assert.match(noRings.stderr, /rings cannot be loaded/);
  });

  test('audit --once quarantines a corrupt object and prints its counts', async () => {
    const put = await node.request('PUT', '/d1/0/AUTH_c/c/o', { headers: { 'x-timestamp': '1700000000.00000', 'content-type': 'text/plain' }, body: 'sound' });
    assert.equal(put.status, 201);
    const dir = objectHashDir(device, 0, hashPath('AUTH_c', 'c', 'o', { prefix: 'pre', suffix: 'suf' }).hex);
    const file = join(dir, readdirSync(dir)[0]!);
    const bytes = readFileSync(file);
    bytes[0] = 0x58;
    writeFileSync(file, bytes);
    const audit = await run('audit', '--once', '--devices', device);
    assert.equal(audit.code, 0, audit.stderr);
    assert.deepEqual(JSON.parse(audit.stdout), { objects: 1, bytes: 5, quarantined: 1, tmpRemoved: 0 });
  });

  test('replicate, update and expire --once run a pass with the rings of the state directory', async () => {
    mkdirSync(join(state, 'object-store'), { recursive: true });
    ensureRings(join(state, 'object-store'), [{ ip: '127.0.0.1', port: node.port, device: 'd1' }], 1, 2);
    const replicate = await run('replicate', '--once', '--devices', device, '--port', String(node.port));
    assert.equal(replicate.code, 0, replicate.stderr);
    const pass = JSON.parse(replicate.stdout) as { objects: { partitions: number; failures: number }; containers: { failures: number } };
    assert.equal(pass.objects.failures, 0);
    assert.equal(pass.containers.failures, 0);
    for (const worker of ['update', 'expire']) {
      const res = await run(worker, '--once', '--devices', device, '--port', String(node.port));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(typeof JSON.parse(res.stdout), 'object');
    }
  });
});
