// The commands that run to completion: usage and exit codes, config show, config errors,
// db sync, identity bootstrap and the Fernet key commands.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, tenrec, tenrecInProcess } from './testing.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const env = childEnv(join(root, 'home'));

let files = 0;
function conf(text: string): string {
  const path = join(root, `tenrec${++files}.conf`);
  writeFileSync(path, text);
  return path;
}
const emptyConf = conf('');

describe('usage', () => {
  test('tenrec --help: the command list on stdout, exit 0', async () => {
    const r = await tenrec(['--help'], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: tenrec <command>/);
    for (const name of ['up', 'serve', 'db sync', 'identity bootstrap', 'identity fernet-rotate', 'config show']) {
      assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
    }
    assert.equal(r.stderr, '');
  });

  test('an unknown command, or none: usage on stderr, exit 2', async () => {
    const r = await tenrec(['launch'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tenrec: unknown command 'launch'\n\nusage: tenrec <command>/);
    assert.equal(r.stdout, '');
    const none = await tenrecInProcess([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^usage: tenrec/);
    const group = await tenrecInProcess(['identity', 'rotate']);
    assert.equal(group.code, 2);
    assert.match(group.stderr, /^tenrec identity: unknown command 'rotate'\n\nusage: tenrec identity <command>/);
  });

  test('<command> --help on stdout, exit 0; an unknown option: message and usage on stderr, exit 2', async () => {
    const help = await tenrecInProcess(['db', 'sync', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: tenrec db sync \[service\] \[options\]/);
    assert.match(help.stdout, /--config-file FILE/);

    const bad = await tenrecInProcess(['up', '--port', '5000']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^tenrec up: Unknown option '--port'\n\nusage: tenrec up/);
    const extra = await tenrecInProcess(['config', 'show', 'now']);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /^tenrec config show: unexpected argument 'now'/);
    const service = await tenrecInProcess(['serve', 'compute', '--config-file', emptyConf]);
    assert.equal(service.code, 2);
    assert.match(service.stderr, /unknown service 'compute' \(known: identity, image, object-store\)/);
  });
});

describe('config', () => {
  test('config show: every section, sources, secrets and URL passwords masked', async () => {
    const file = conf(
      '[DEFAULT]\ntransport_url = rabbit://tenrec:bus-secret@mq.example:5672/\nlog_level = debug\n' +
        '[identity]\nconnection = mysql+pymysql://keystone:db-secret@db.example/keystone\n' +
        '[image]\nservice_password = image-secret\n',
    );
    const r = await tenrecInProcess(['config', 'show', '--config-file', file], { TENREC_IDENTITY_PORT: '5001' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[DEFAULT\]\n/);
    assert.match(r.stdout, new RegExp(`^transport_url = rabbit://tenrec:\\*\\*\\*\\*@mq\\.example:5672/  # ${file}$`, 'm'));
    assert.match(r.stdout, /^connection = mysql\+pymysql:\/\/keystone:\*\*\*\*@db\.example\/keystone {2}# /m);
    assert.match(r.stdout, /^log_level = debug {2}# /m);
    assert.match(r.stdout, /^port = 5001 {2}# TENREC_IDENTITY_PORT$/m);
    assert.match(r.stdout, /^\[identity\]$/m);
    assert.match(r.stdout, /^\[image\]$/m);
    assert.match(r.stdout, /^service_password = \*\*\*\* {2}# /m);
    assert.match(r.stdout, /^port = 9292 {2}# default$/m);
    assert.doesNotMatch(r.stdout, /bus-secret|db-secret|image-secret/);
  });

  test('an unknown option in a config file: one line naming file, section and key; exit 1', async () => {
    const file = conf('[identity]\nconection = sqlite:///x.db\n');
    const r = await tenrec(['config', 'show', '--config-file', file], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tenrec: ${file}: [identity] conection: unknown option (did you mean 'connection'?)\n`);
    assert.equal(r.stdout, '');
  });

  test('a bad value in the environment, a missing file, a bad database URL: one line each, exit 1', async () => {
    const port = await tenrecInProcess(['config', 'show', '--config-file', emptyConf], { TENREC_IDENTITY_PORT: 'fivethousand' });
    assert.equal(port.code, 1);
    assert.match(port.stderr, /^tenrec: TENREC_IDENTITY_PORT: \[identity\] port: invalid value "fivethousand": expected an integer/);

    const missing = await tenrecInProcess(['db', 'sync', '--config-file', join(root, 'nope.conf')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `tenrec: ${join(root, 'nope.conf')}: config file not found\n`);

    const oracle = await tenrecInProcess(['db', 'sync', '--config-file', conf('[identity]\nconnection = oracle://u:pw@db/x\n')]);
    assert.equal(oracle.code, 1);
    assert.match(oracle.stderr, /^tenrec: unsupported database URL scheme 'oracle' in 'oracle:\/\/u:\*\*\*\*@db\/x'/);
    assert.equal(oracle.stderr.split('\n').length, 2, 'one line');
  });
});

describe('db sync', () => {
  test('on a fresh SQLite URL: applies the migrations of every service, then has nothing to do', async () => {
    const db = join(root, 'fresh', 'deeper', 'identity.db');
    const imageDb = join(root, 'fresh', 'image', 'image.db');
    const file = conf(`[identity]\nconnection = sqlite:///${db}\n[image]\nconnection = sqlite:///${imageDb}\n`);
    const first = await tenrecInProcess(['db', 'sync', '--config-file', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^identity: applied 001_\\S+.* \\(sqlite:///${db}\\)\\nimage: applied 001_initial.* \\(sqlite:///${imageDb}\\)\\n$`));
    assert.ok(existsSync(db));
    assert.ok(existsSync(imageDb));
    const again = await tenrecInProcess(['db', 'sync', 'identity', '--config-file', file]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^identity: up to date at \d+_\S+ /);
    const unknown = await tenrecInProcess(['db', 'sync', 'compute', '--config-file', file]);
    assert.equal(unknown.code, 2);
  });

  test('db sync image: only the image database, once', async () => {
    const imageDb = join(root, 'image-only', 'image.db');
    const file = conf(`[image]\nconnection = sqlite:///${imageDb}\n`);
    const first = await tenrecInProcess(['db', 'sync', 'image', '--state-dir', join(root, 'image-only-state'), '--config-file', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^image: applied 001_initial.* \\(sqlite:///${imageDb}\\)\\n$`));
    assert.ok(!existsSync(join(root, 'image-only-state', 'identity.db')), 'identity is not touched');
    const again = await tenrecInProcess(['db', 'sync', 'image', '--config-file', file]);
    assert.match(again.stdout, new RegExp(`^image: up to date at \\d+_\\S+ \\(sqlite:///${imageDb}\\)\\n$`));
  });

  test('without a connection: the SQLite files in the state directory', async () => {
    const state = join(root, 'state-sync');
    const r = await tenrecInProcess(['db', 'sync', '--state-dir', state, '--config-file', emptyConf]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(state, 'identity.db')));
    assert.ok(existsSync(join(state, 'image.db')));
  });
});

describe('identity', () => {
  const state = join(root, 'state-identity');
  const common = ['--state-dir', state, '--config-file', emptyConf];
  const cheap = { TENREC_IDENTITY_PASSWORD_HASH_COST: '10' };

  test('bootstrap: needs a password; idempotent (same user and project ids)', async () => {
    const none = await tenrecInProcess(['identity', 'bootstrap', ...common], cheap);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--bootstrap-password is required/);

    const args = ['identity', 'bootstrap', '--bootstrap-password', 'pw1', '--bootstrap-public-url', 'http://id.example:5000/v3', ...common];
    const first = await tenrecInProcess(args, cheap);
    assert.equal(first.code, 0, first.stderr);
    const userId = /^user {5}admin \(([0-9a-f]{32})\)/m.exec(first.stdout)?.[1];
    const projectId = /^project {2}admin \(([0-9a-f]{32})\)/m.exec(first.stdout)?.[1];
    assert.ok(userId && projectId, first.stdout);
    assert.match(first.stdout, /^identity public http:\/\/id\.example:5000\/v3, internal http:\/\/id\.example:5000\/v3/m);

    const second = await tenrecInProcess(args, { ...cheap, OS_BOOTSTRAP_PASSWORD: 'ignored' });
    assert.equal(second.code, 0, second.stderr);
    assert.ok(second.stdout.includes(`admin (${userId})`));
    assert.ok(second.stdout.includes(`admin (${projectId})`));
  });

  test('fernet-setup then fernet-rotate: the new layout, oldest secondary removed at max_active_keys', async () => {
    const setup = await tenrecInProcess(['identity', 'fernet-setup', ...common]);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /^created\n/);
    assert.match(setup.stdout, /^\s+1\s+primary/m);
    assert.match((await tenrecInProcess(['identity', 'fernet-setup', ...common])).stdout, /^already set up/);

    const keys = join(state, 'fernet-keys');
    const first = await tenrecInProcess(['identity', 'fernet-rotate', ...common]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^\s+2\s+primary .*\(promoted from staged\)$/m);
    assert.match(first.stdout, /^\s+1\s+secondary/m);
    assert.match(first.stdout, /^\s+0\s+staged .*\(new\)$/m);
    assert.match(first.stdout, /^removed: none \(max_active_keys 3\)$/m);
    assert.match(first.stdout, /SIGHUP/);

    const second = await tenrecInProcess(['identity', 'fernet-rotate', ...common]);
    assert.match(second.stdout, /^removed: 1 \(max_active_keys 3\)$/m);
    assert.deepEqual(readdirSync(keys).sort(), ['0', '2', '3']);

    const tooFew = await tenrecInProcess(['identity', 'fernet-rotate', ...common], { TENREC_IDENTITY_MAX_ACTIVE_KEYS: '1' });
    assert.equal(tooFew.code, 1);
    assert.match(tooFew.stderr, /^tenrec: \[identity\] max_active_keys is 1: a rotation needs at least 2/);

    const nowhere = await tenrecInProcess(['identity', 'fernet-rotate', '--state-dir', join(root, 'no-state'), '--config-file', emptyConf]);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /^tenrec: Fernet key repository .* does not exist/);
  });
});
