// `tenrec serve identity` and `tenrec serve image` as a split deployment runs them: db sync
// (and bootstrap, or the service user) first, then the service on the configured database
// (SQLite always; PostgreSQL and MySQL when reachable, required in CI) and port; a token;
// SIGTERM. And the object store's two processes, a storage server and a proxy.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../core/db/index.ts';
import { serviceUrls, skipUnlessReachable } from '../core/testing/services.ts';
import { ensureServiceUser } from '../identity/bootstrap.ts';
import { startIdentity } from '../identity/testing/harness.ts';
import { ObjectStoreClient } from '../clients/object-store.ts';
import { ensureRings } from '../object-store/ring/all-in-one.ts';
import { childEnv, freePort, spawnTenrec, tenrecInProcess, type TenrecProcess } from './testing.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-serve-'));
after(() => rmSync(root, { recursive: true, force: true }));

const backends = [
  { name: 'sqlite', adminUrl: '', skip: false as false | string },
  { name: 'postgresql', adminUrl: serviceUrls.postgresql, skip: await skipUnlessReachable('PostgreSQL', serviceUrls.postgresql) },
  { name: 'mysql', adminUrl: serviceUrls.mysql, skip: await skipUnlessReachable('MySQL', serviceUrls.mysql) },
];

describe('tenrec serve identity', () => {
  for (const backend of backends) {
    test(`on ${backend.name}: migrates, serves on [identity] port at [DEFAULT] bind_host, stops on SIGTERM`, { skip: backend.skip }, async () => {
      const dir = join(root, backend.name);
      const scratch = backend.adminUrl ? await createScratchDatabase(backend.adminUrl) : undefined;
      try {
        const connection = scratch?.url ?? `sqlite:///${join(dir, 'identity.db')}`;
        const port = await freePort();
        const file = join(root, `${backend.name}.conf`);
        writeFileSync(
          file,
          `[DEFAULT]\nbind_host = 127.0.0.1\ntransport_url = memory://\n\n` +
            `[identity]\nconnection = ${connection}\nkey_repository = ${join(dir, 'keys')}\nport = ${port}\npassword_hash_cost = 10\n`,
        );
        const boot = await tenrecInProcess(['identity', 'bootstrap', '--bootstrap-password', 'pw', '--config-file', file]);
        assert.equal(boot.code, 0, boot.stderr);
        // A split node never makes keys of its own: without the shared keys it refuses to start.
        const keyless = await tenrecInProcess(['serve', 'identity', '--config-file', file]);
        assert.equal(keyless.code, 1);
        assert.match(keyless.stderr, /key/i);
        const setup = await tenrecInProcess(['identity', 'fernet-setup', '--config-file', file]);
        assert.equal(setup.code, 0, setup.stderr);

        const p = spawnTenrec(['serve', 'identity', '--config-file', file], childEnv(join(root, 'home')));
        try {
          const out = await p.waitForOutput(/listening/);
          assert.match(out, new RegExp(`^identity listening on http://127\\.0\\.0\\.1:${port} \\(database ${backend.name}`));
          const res = await fetch(`http://127.0.0.1:${port}/v3/auth/tokens`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'pw' } } } },
            }),
          });
          assert.equal(res.status, 201);
          p.child.kill('SIGTERM');
          assert.equal(await p.exited, 0);
        } finally {
          p.child.kill('SIGKILL');
        }
      } finally {
        await scratch?.drop();
      }
    });
  }
});

describe('tenrec serve image', () => {
  for (const backend of backends) {
    test(`on ${backend.name}: migrates, serves on [image] port, validates tokens against [image] auth_url, stops on SIGTERM`, { skip: backend.skip }, async () => {
      const dir = join(root, `image-${backend.name}`);
      const identity = await startIdentity(backend.adminUrl || 'sqlite://');
      const scratch = backend.adminUrl ? await createScratchDatabase(backend.adminUrl) : undefined;
      try {
        await ensureServiceUser(identity.service.deps.store, { username: 'glance-svc', password: 'svc-pw', passwordHashCost: 10 });
        const connection = scratch?.url ?? `sqlite:///${join(dir, 'image.db')}`;
        const port = await freePort();
        const file = join(root, `image-${backend.name}.conf`);
        const settings =
          `[DEFAULT]\nbind_host = 127.0.0.1\n\n[image]\nconnection = ${connection}\nport = ${port}\nstores_dir = ${join(dir, 'stores')}\n` +
          `staging_dir = ${join(dir, 'staging')}\nauth_url = ${identity.url}/v3\nservice_username = glance-svc\n`;
        writeFileSync(file, settings);
        // Without its service user's password it cannot validate a token: it says so and stops.
        const nopw = await tenrecInProcess(['serve', 'image', '--config-file', file]);
        assert.equal(nopw.code, 1);
        assert.match(nopw.stderr, /^tenrec: \[image\] service_password is empty/);
        writeFileSync(file, `${settings}service_password = svc-pw\n`);

        const sync = await tenrecInProcess(['db', 'sync', 'image', '--config-file', file]);
        assert.equal(sync.code, 0, sync.stderr);
        assert.match(sync.stdout, new RegExp(`^image: applied 001_initial.* \\(${backend.name}`));

        const p = spawnTenrec(['serve', 'image', '--config-file', file], childEnv(join(root, 'home')));
        try {
          const out = await p.waitForOutput(/listening/);
          assert.match(out, new RegExp(`^image listening on http://127\\.0\\.0\\.1:${port} \\(database ${backend.name}.*, identity ${identity.url}/v3\\)`));
          const versions = await fetch(`http://127.0.0.1:${port}/`);
          assert.equal(versions.status, 300);
          assert.equal((await versions.json()).versions[0].id, 'v2.16');
          const anonymous = await fetch(`http://127.0.0.1:${port}/v2/images/${randomUUID()}/members`);
          assert.equal(anonymous.status, 401);
          await anonymous.arrayBuffer();
          // A real token, validated by identity for the image service: the image is simply not there.
          const missing = await fetch(`http://127.0.0.1:${port}/v2/images/${randomUUID()}/members`, { headers: { 'x-auth-token': identity.adminToken } });
          assert.equal(missing.status, 404);
          assert.equal((await missing.json()).code, '404 Not Found');
          p.child.kill('SIGTERM');
          assert.equal(await p.exited, 0);
        } finally {
          p.child.kill('SIGKILL');
        }
      } finally {
        await scratch?.drop();
        await identity.stop();
      }
    });
  }
});

describe('tenrec serve object-store', () => {
  test('a storage server on --devices and a proxy on the rings: a container and an object through the proxy, SIGTERM stops both', async () => {
    const dir = join(root, 'object-store');
    const identity = await startIdentity();
    const started: TenrecProcess[] = [];
    try {
      await ensureServiceUser(identity.service.deps.store, { username: 'swift', password: 'swift-pw', passwordHashCost: 10 });
      const [proxyPort, storagePort] = [await freePort(), await freePort()];
      const device = join(dir, 'srv', 'sdb');
      mkdirSync(device, { recursive: true });
      ensureRings(join(dir, 'rings'), [{ ip: '127.0.0.1', port: storagePort, device: 'sdb' }], 1);
      const file = join(root, 'object-store.conf');
      const settings =
        `[DEFAULT]\nbind_host = 127.0.0.1\n\n[object-store]\nport = ${proxyPort}\nstorage_port = ${storagePort}\nring_dir = ${join(dir, 'rings')}\n` +
        `hash_path_suffix = test-secret\nauth_url = ${identity.url}/v3\n`;
      writeFileSync(file, settings);
      const noDevices = await tenrecInProcess(['serve', 'object-store:storage', '--config-file', file]);
      assert.equal(noDevices.code, 2);
      assert.match(noDevices.stderr, /needs its device directories: --devices DIR\.\.\. or \[object-store\] devices/);
      const noPassword = await tenrecInProcess(['serve', 'object-store:proxy', '--config-file', file]);
      assert.equal(noPassword.code, 1);
      assert.match(noPassword.stderr, /^tenrec: \[object-store\] service_password is empty/);
      writeFileSync(file, `${settings}service_password = swift-pw\n`);

      const env = childEnv(join(root, 'home'));
      const storage = spawnTenrec(['serve', 'object-store:storage', '--devices', device, '--config-file', file], env);
      started.push(storage);
      assert.match(await storage.waitForOutput(/listening/), new RegExp(`^object-store:storage listening on http://127\\.0\\.0\\.1:${storagePort} \\(devices ${device}\\)`));
      const proxy = spawnTenrec(['serve', 'object-store', '--config-file', file], env);
      started.push(proxy);
      assert.match(await proxy.waitForOutput(/listening/), new RegExp(`^object-store:proxy listening on http://127\\.0\\.0\\.1:${proxyPort} \\(rings in ${join(dir, 'rings')}, identity ${identity.url}/v3\\)`));

      const account = new ObjectStoreClient(`http://127.0.0.1:${proxyPort}/v1/AUTH_${identity.adminProjectId}`, identity.adminToken);
      assert.equal(await account.putContainer('logs'), 201);
      await account.putObject('logs', 'today.log', 'all quiet');
      assert.equal((await account.download('logs', 'today.log')).toString(), 'all quiet');
      assert.equal((await new ObjectStoreClient(account.baseUrl).send('GET', '/logs')).status, 401);

      for (const p of [proxy, storage]) {
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0);
      }
    } finally {
      for (const p of started) p.child.kill('SIGKILL');
      await identity.stop();
    }
  });
});
