// `tenrec serve identity` as a split deployment runs it: db sync and bootstrap first, then the
// service on the configured database (SQLite always; PostgreSQL and MySQL when reachable,
// required in CI) and port; a token; SIGTERM.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../core/db/index.ts';
import { serviceUrls, skipUnlessReachable } from '../core/testing/services.ts';
import { childEnv, freePort, spawnTenrec, tenrecInProcess } from './testing.ts';

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
