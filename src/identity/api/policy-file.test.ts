import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentity, type IdentityHarness } from '../testing/harness.ts';

describe('policy.yaml overrides', () => {
  let h: IdentityHarness;
  before(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tenrec-policy-')), 'policy.yaml');
    writeFileSync(file, '"identity:list_projects": "!"\n');
    h = await startIdentity('sqlite://', { policy_file: file });
  });
  after(async () => { await h?.stop(); });

  test('an overridden rule denies even the admin; other rules keep their defaults', async () => {
    const list = await h.admin.send('GET', '/v3/projects');
    assert.equal(list.status, 403);
    assert.equal((await h.admin.send('GET', '/v3/domains')).status, 200);
  });
});
