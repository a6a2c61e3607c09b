// tenrec identity credential-setup: the credential keys a split identity node needs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenrecInProcess } from './testing.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-cli-credential-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('credential-setup creates the credential keys once, where [identity] credential_key_repository says', async () => {
  const dir = join(root, 'creds');
  const conf = join(root, 'tenrec.conf');
  writeFileSync(conf, `[identity]\ncredential_key_repository = ${dir}\n`);
  const common = ['--config-file', conf, '--state-dir', join(root, 'state')];
  const first = await tenrecInProcess(['identity', 'credential-setup', ...common]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.trim(), `created\nCredential keys in ${dir}: 0, 1`);
  assert.deepEqual(readdirSync(dir).sort(), ['0', '1']);
  const again = await tenrecInProcess(['identity', 'credential-setup', ...common]);
  assert.match(again.stdout, /^already set up; nothing changed\n/);
  assert.deepEqual(readdirSync(dir).sort(), ['0', '1']);
});
