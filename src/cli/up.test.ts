// `tenrec up` end to end: the real command in a child process, real ports, a real token; the
// image service beside identity, with its starter image.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { decrypt } from '../identity/token/fernet.ts';
import { makeQcow2 } from '../image/disk/qcow2.ts';
import { childEnv, freePort, spawnTenrec, tenrec, type TenrecProcess } from './testing.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-up-'));
const state = join(root, 'state');
const home = join(root, 'home');
const emptyConf = join(root, 'empty.conf');
const userClouds = join(home, '.config', 'openstack', 'clouds.yaml');
let port: number;
let imagePort: number;
let networkPort: number;
let objectStorePort: number;
let env: Record<string, string>;
let running: TenrecProcess | undefined;

before(async () => {
  port = await freePort();
  imagePort = await freePort();
  networkPort = await freePort();
  objectStorePort = await freePort();
  env = childEnv(home, { TENREC_DEFAULT_LOG_LEVEL: 'info' });
  writeFileSync(emptyConf, '');
  // The user already has a cloud of their own (and a comment): both must survive.
  mkdirSync(join(home, '.config', 'openstack'), { recursive: true });
  writeFileSync(userClouds, '# my clouds\nclouds:\n  other:\n    auth:\n      auth_url: https://other.example/v3\n', { mode: 0o640 });
});
after(() => {
  running?.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function up(): TenrecProcess {
  running = spawnTenrec(['up', '--state-dir', state, '--port-identity', String(port), '--port-image', String(imagePort), '--port-network', String(networkPort), '--port-object-store', String(objectStorePort), '--config-file', emptyConf], env);
  return running;
}

async function passwordLogin(password: string): Promise<{ status: number; token: string | null; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  return { status: res.status, token: res.headers.get('x-subject-token'), body: await res.json() };
}

const mode = (path: string) => statSync(path).mode & 0o777;
const STARTER = /^ {2}starter image +tenrec-starter \(([0-9a-f-]{36})\)(, uploaded now)?$/m;

async function imageApi(token: string, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${imagePort}${path}`, { headers: { 'x-auth-token': token } });
  return { status: res.status, body: await res.json() };
}
const adminPassword = () => readFileSync(join(state, 'admin-password'), 'utf8').trim();

describe('tenrec up', () => {
  let firstUserId: string;
  let firstProjectId: string;
  let starterId: string;

  test('first run: ready, generated password printed once and saved, password auth works, the image service and its starter image, SIGTERM exits 0', async () => {
    const p = up();
    const out = await p.waitForOutput(/ready in \d+ ms/);
    const password = adminPassword();
    assert.match(password, /^[A-Za-z0-9_-]{20,}$/);
    assert.equal(mode(join(state, 'admin-password')), 0o600);
    assert.ok(out.includes(password), 'the generated password is shown on the first run');
    assert.ok(out.includes(`http://127.0.0.1:${port}/v3`));

    const login = await passwordLogin(password);
    assert.equal(login.status, 201);
    assert.ok(login.token);
    assert.equal(login.body.token.user.name, 'admin');
    firstUserId = login.body.token.user.id;
    firstProjectId = login.body.token.project.id;
    assert.equal((await passwordLogin('wrong')).status, 401);

    // The image service: on its port, in the catalog, its starter image uploaded.
    assert.match(out, new RegExp(`^ {2}image +http://127\\.0\\.0\\.1:${imagePort}$`, 'm'));
    const starter = STARTER.exec(out);
    assert.ok(starter, out);
    assert.equal(starter[2], ', uploaded now');
    starterId = starter[1]!;
    const versions = await fetch(`http://127.0.0.1:${imagePort}/`);
    assert.equal(versions.status, 300);
    const doc = await versions.json();
    assert.equal(doc.versions[0].id, 'v2.16');
    assert.equal(doc.versions[0].links[0].href, `http://127.0.0.1:${imagePort}/v2/`);

    const catalog = login.body.token.catalog.find((s: any) => s.type === 'image');
    assert.ok(catalog, 'an image service in the catalog');
    assert.equal(catalog.name, 'glance');
    assert.deepEqual(
      catalog.endpoints.map((e: any) => [e.interface, e.url, e.region_id]).sort(),
      ['admin', 'internal', 'public'].map((i) => [i, `http://127.0.0.1:${imagePort}`, 'RegionOne']),
    );

    // The networking service: on its port, in the catalog, with the starter networks.
    assert.match(out, new RegExp(`^ {2}network +http://127\\.0\\.0\\.1:${networkPort}$`, 'm'));
    assert.ok(login.body.token.catalog.some((s: any) => s.type === 'network' && s.endpoints.some((e: any) => e.url === `http://127.0.0.1:${networkPort}`)));
    const networks = await (await fetch(`http://127.0.0.1:${networkPort}/v2.0/networks`, { headers: { 'x-auth-token': login.token! } })).json();
    const byName = Object.fromEntries(networks.networks.map((n: any) => [n.name, n]));
    assert.equal(byName.public?.['router:external'], true);
    assert.equal(byName.private?.['router:external'], false);
    const routers = await (await fetch(`http://127.0.0.1:${networkPort}/v2.0/routers`, { headers: { 'x-auth-token': login.token! } })).json();
    assert.equal(routers.routers[0]?.external_gateway_info?.network_id, byName.public.id);

    const passwords = join(state, 'service-passwords.json');
    assert.equal(mode(passwords), 0o600);
    assert.match(JSON.parse(readFileSync(passwords, 'utf8')).image, /^[A-Za-z0-9_-]{20,}$/);

    const bytes = makeQcow2(1024 ** 3);
    const image = await imageApi(login.token!, `/v2/images/${starterId}`);
    assert.equal(image.status, 200, JSON.stringify(image.body));
    assert.equal(image.body.name, 'tenrec-starter');
    assert.equal(image.body.status, 'active');
    assert.equal(image.body.visibility, 'public');
    assert.equal(image.body.disk_format, 'qcow2');
    assert.equal(image.body.container_format, 'bare');
    assert.equal(image.body.size, bytes.length);
    assert.equal(image.body.checksum, createHash('md5').update(bytes).digest('hex'));
    assert.equal(image.body.os_hash_algo, 'sha512');
    assert.equal(image.body.os_hash_value, createHash('sha512').update(bytes).digest('hex'));
    assert.equal(image.body.virtual_size, 1024 ** 3);

    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  test('clouds.yaml and openrc (0600), and the cloud merged into the user clouds.yaml', () => {
    const password = adminPassword();
    const cloud = {
      auth: {
        auth_url: `http://127.0.0.1:${port}/v3`,
        username: 'admin',
        password,
        project_name: 'admin',
        user_domain_name: 'Default',
        project_domain_name: 'Default',
      },
      region_name: 'RegionOne',
      interface: 'public',
      identity_api_version: 3,
    };
    assert.deepEqual(parse(readFileSync(join(state, 'clouds.yaml'), 'utf8')), { clouds: { tenrec: cloud } });
    assert.equal(mode(join(state, 'clouds.yaml')), 0o600);

    const openrc = readFileSync(join(state, 'openrc'), 'utf8');
    for (const line of [
      `export OS_AUTH_URL=http://127.0.0.1:${port}/v3`,
      'export OS_USERNAME=admin',
      `export OS_PASSWORD=${password}`,
      'export OS_PROJECT_NAME=admin',
      'export OS_USER_DOMAIN_NAME=Default',
      'export OS_PROJECT_DOMAIN_NAME=Default',
      'export OS_REGION_NAME=RegionOne',
      'export OS_IDENTITY_API_VERSION=3',
      'export OS_INTERFACE=public',
    ]) {
      assert.ok(openrc.split('\n').includes(line), `openrc has ${line}`);
    }
    assert.equal(mode(join(state, 'openrc')), 0o600);

    const userText = readFileSync(userClouds, 'utf8');
    assert.match(userText, /^# my clouds/);
    const user = parse(userText);
    assert.deepEqual(user.clouds.other, { auth: { auth_url: 'https://other.example/v3' } });
    assert.deepEqual(user.clouds.tenrec, cloud);
    assert.equal(mode(userClouds), 0o640, 'an existing file keeps its mode');
  });

  test('second run: same admin user and project, no new password printed; fernet-rotate + SIGHUP reloads keys', async () => {
    const password = adminPassword();
    const p = up();
    const out = await p.waitForOutput(/ready in \d+ ms/);
    assert.ok(!out.includes(password), 'the password is not shown again');
    assert.doesNotMatch(out, /generated/);
    assert.equal(adminPassword(), password);
    // The starter image is there already: not uploaded again.
    assert.equal(STARTER.exec(out)?.[1], starterId);
    assert.equal(STARTER.exec(out)?.[2], undefined, 'not uploaded again');
    const listed = await imageApi((await passwordLogin(password)).token!, '/v2/images?name=tenrec-starter');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.images.map((i: any) => i.id), [starterId]);

    const login = await passwordLogin(password);
    assert.equal(login.status, 201);
    assert.equal(login.body.token.user.id, firstUserId);
    assert.equal(login.body.token.project.id, firstProjectId);

    const rotated = await tenrec(['identity', 'fernet-rotate', '--state-dir', state, '--config-file', emptyConf], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^\s+2\s+primary\s.*\(promoted from staged\)$/m);
    p.child.kill('SIGHUP');
    // After the reload, new tokens are signed with the new primary key 2.
    const newPrimary = readFileSync(join(state, 'fernet-keys', '2'), 'utf8').trim();
    let signedWithNewKey = false;
    for (let i = 0; i < 100 && !signedWithNewKey; i++) {
      const { token } = await passwordLogin(password);
      try {
        decrypt([newPrimary], token! + '='.repeat((4 - (token!.length % 4)) % 4));
        signedWithNewKey = true;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.ok(signedWithNewKey, 'tokens are signed with the rotated-in primary key after SIGHUP');
    // The log line may still be in the pipe when the first new token arrives.
    for (let i = 0; i < 250 && !/"reason":"SIGHUP".*"msg":"fernet keys reloaded"/.test(p.stderr()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(p.stderr(), /"reason":"SIGHUP".*"msg":"fernet keys reloaded"/);
    assert.equal(p.child.exitCode, null, 'SIGHUP does not stop the process');

    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  test('the object store: in the catalog with each project\'s account, containers and objects work, its rings kept across runs', async () => {
    const ringFile = join(state, 'object-store', 'object.ring.json');
    const ringBefore = readFileSync(ringFile, 'utf8');
    const p = up();
    const out = await p.waitForOutput(/ready in \d+ ms/);
    assert.match(out, new RegExp(`^ {2}object-store +http://127\\.0\\.0\\.1:${objectStorePort}/v1/AUTH_<project id>$`, 'm'));
    const login = await passwordLogin(adminPassword());
    const projectId = login.body.token.project.id;
    const service = login.body.token.catalog.find((s: any) => s.type === 'object-store');
    assert.equal(service?.name, 'swift');
    const account = `http://127.0.0.1:${objectStorePort}/v1/AUTH_${projectId}`;
    assert.deepEqual(service.endpoints.map((e: any) => [e.interface, e.url]).sort(), ['admin', 'internal', 'public'].map((i) => [i, account]));

    const headers = { 'x-auth-token': login.token! };
    assert.equal((await fetch(`${account}/backups`, { method: 'PUT', headers })).status, 201);
    assert.equal((await fetch(`${account}/backups/today.txt`, { method: 'PUT', headers, body: 'saved' })).status, 201);
    assert.equal(await (await fetch(`${account}/backups/today.txt`, { headers })).text(), 'saved');
    assert.equal((await fetch(`${account}/backups`, { headers: {} })).status, 401);
    const roles = await (await fetch(`http://127.0.0.1:${port}/v3/roles?name=ResellerAdmin`, { headers })).json();
    assert.equal(roles.roles.length, 1, 'the ResellerAdmin role exists');
    assert.match(JSON.parse(readFileSync(join(state, 'service-passwords.json'), 'utf8')).swift, /^[A-Za-z0-9_-]{20,}$/);
    assert.equal(readFileSync(ringFile, 'utf8'), ringBefore, 'the rings of the first run are kept');

    // The image service offers the object store as its store "swift", kept in the service project's account.
    const stores = await imageApi(login.token!, '/v2/info/stores');
    assert.deepEqual(stores.body.stores.map((s: any) => s.id), ['local', 'swift']);
    const created = await fetch(`http://127.0.0.1:${imagePort}/v2/images`, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'in-swift', disk_format: 'raw', container_format: 'bare' }),
    });
    const imageId = (await created.json()).id;
    const data = Buffer.from('image bytes kept as an object');
    const upload = await fetch(`http://127.0.0.1:${imagePort}/v2/images/${imageId}/file`, {
      method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream', 'x-image-meta-store': 'swift' }, body: data,
    });
    assert.equal(upload.status, 204);
    assert.equal((await imageApi(login.token!, `/v2/images/${imageId}`)).body.stores, 'swift');
    const back = await fetch(`http://127.0.0.1:${imagePort}/v2/images/${imageId}/file`, { headers });
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(data));
    assert.equal((await fetch(`http://127.0.0.1:${imagePort}/v2/images/${imageId}`, { method: 'DELETE', headers })).status, 204);

    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  test('a port in use: one clear line, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const r = await tenrec(['up', '--state-dir', state, '--port-identity', String(taken), '--port-image', String(await freePort()), '--port-network', String(await freePort()), '--port-object-store', String(await freePort()), '--config-file', emptyConf], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^tenrec: cannot listen on 127\\.0\\.0\\.1:${taken} for identity: address already in use`, 'm'));
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.doesNotMatch(r.stdout, /ready/);
    } finally {
      blocker.close();
    }
  });
});
