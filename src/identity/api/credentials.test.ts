import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startIdentity, identityBackends, type IdentityHarness } from '../testing/harness.ts';
import { createProject, memberUser } from '../testing/fixtures.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
let serial = 0;
/** An ec2 blob with a fresh access key. */
const ec2Blob = (extra: Record<string, unknown> = {}) => JSON.stringify({ access: `access-${process.pid}-${++serial}`, secret: 'the-secret', ...extra });

for (const backend of await identityBackends()) {
  describe(`credentials on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    let alice: Awaited<ReturnType<typeof memberUser>>;
    let bob: Awaited<ReturnType<typeof memberUser>>;
    const post = (credential: Record<string, unknown>, token?: string) => h.admin.send('POST', '/v3/credentials', { token, body: { credential } });
    const ec2For = (who: typeof alice, extra: Record<string, unknown> = {}) =>
      ({ type: 'ec2', user_id: who.user.id, project_id: who.project.id, blob: ec2Blob(), ...extra });

    before(async () => {
      h = await startIdentity(backend.url);
      alice = await memberUser(h);
      bob = await memberUser(h);
    });
    after(async () => { await h?.stop(); });

    test('an owner creates, shows, lists, updates and deletes ec2 and other credentials', async () => {
      const blob = ec2Blob();
      const created = await post({ type: 'ec2', user_id: alice.user.id, project_id: alice.project.id, blob, label: 'laptop' }, alice.token);
      assert.equal(created.status, 201);
      const c = created.body.credential;
      assert.equal(c.id, sha256(JSON.parse(blob).access));
      assert.deepEqual({ ...c, links: undefined }, {
        id: c.id, user_id: alice.user.id, project_id: alice.project.id, type: 'ec2', blob, label: 'laptop', links: undefined,
      });
      assert.ok(c.links.self.endsWith(`/v3/credentials/${c.id}`));

      const cert = (await post({ type: 'cert', user_id: alice.user.id, blob: '-----BEGIN CERTIFICATE-----', id: 'ignored' }, alice.token)).body.credential;
      assert.match(cert.id, /^[0-9a-f]{32}$/);
      assert.equal(cert.project_id, null);

      const shown = await h.admin.call('GET', `/v3/credentials/${c.id}`, { token: alice.token });
      assert.deepEqual(shown.body.credential, c);
      const mine = await h.admin.call('GET', '/v3/credentials', { token: alice.token });
      assert.deepEqual(mine.body.credentials.map((x: any) => x.id).sort(), [c.id, cert.id].sort());
      assert.ok(mine.body.links.self.endsWith('/v3/credentials'));
      const ec2Only = await h.admin.call('GET', '/v3/credentials?type=ec2', { token: alice.token });
      assert.deepEqual(ec2Only.body.credentials.map((x: any) => x.id), [c.id]);

      // As tempest does: a new key pair and another project; the id stays
      const other = await createProject(h);
      const newBlob = JSON.stringify({ access: 'renewed-access', secret: 'renewed-secret' });
      const updated = await h.admin.call('PATCH', `/v3/credentials/${c.id}`, { token: alice.token, body: { credential: { blob: newBlob, project_id: other.id, type: 'ec2' } } });
      assert.equal(updated.body.credential.id, c.id);
      assert.equal(updated.body.credential.blob, newBlob);
      assert.equal(updated.body.credential.project_id, other.id);
      assert.equal(updated.body.credential.label, 'laptop');
      assert.deepEqual((await h.admin.call('GET', `/v3/credentials/${c.id}`, { token: alice.token })).body.credential, updated.body.credential);

      assert.equal((await h.admin.send('DELETE', `/v3/credentials/${c.id}`, { token: alice.token })).status, 204);
      assert.equal((await h.admin.send('GET', `/v3/credentials/${c.id}`)).status, 404);
      assert.equal((await h.admin.send('DELETE', `/v3/credentials/${cert.id}`, { token: alice.token })).status, 204);
    });

    test('blobs are stored encrypted; the API gives them back in clear', async () => {
      const blob = ec2Blob({ secret: 'very-secret-words' });
      const c = (await post(ec2For(alice, { blob }), alice.token)).body.credential;
      const row = await h.service.deps.store.db.selectFrom('credential').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
      assert.ok(!row.encrypted_blob.includes('very-secret-words'));
      assert.ok(!row.encrypted_blob.includes(JSON.parse(blob).access));
      assert.match(row.key_hash, /^[0-9a-f]{40}$/);
      assert.equal((await h.admin.call('GET', `/v3/credentials/${c.id}`)).body.credential.blob, blob);
    });

    test('bad requests: 400 for a missing or mistyped field, an ec2 blob that is not JSON, not an object, without access, or without project', async () => {
      const ok = ec2For(alice);
      const cases: Record<string, unknown>[] = [
        { ...ok, blob: undefined }, { ...ok, type: undefined }, { ...ok, user_id: undefined },
        { ...ok, blob: { access: 'x' } }, { ...ok, project_id: 7 },
        { ...ok, blob: '{"access": ' }, { ...ok, blob: '[1]' }, { ...ok, blob: '{}' }, { ...ok, blob: '{"secret": "s"}' },
        { ...ok, project_id: undefined }, { ...ok, project_id: null },
      ];
      for (const credential of cases) {
        const res = await post(credential, alice.token);
        assert.equal(res.status, 400, JSON.stringify(credential));
        assert.equal(res.body.error.code, 400);
      }
      assert.match((await post({ ...ok, blob: 'nope' }, alice.token)).body.error.message, /Invalid blob in credential/);
      assert.equal((await h.admin.send('POST', '/v3/credentials', { token: alice.token, rawBody: '{"credential": ' })).status, 400);
      assert.equal((await h.admin.send('POST', '/v3/credentials', { token: alice.token, body: {} })).status, 400);

      const c = (await post(ok, alice.token)).body.credential;
      const patch = (credential: Record<string, unknown>) => h.admin.send('PATCH', `/v3/credentials/${c.id}`, { token: alice.token, body: { credential } });
      assert.equal((await patch({})).status, 400);
      assert.equal((await patch({ id: 'other' })).status, 400);
      assert.equal((await patch({ blob: '{"secret": "no access"}' })).status, 400);
      assert.equal((await patch({ project_id: null })).status, 400);
      assert.equal((await patch({ blob: JSON.stringify({ access: 'a', app_cred_id: 'sneaky' }) })).status, 400);
    });

    test('a second ec2 credential with the same access key: 409', async () => {
      const blob = ec2Blob();
      assert.equal((await post(ec2For(alice, { blob }), alice.token)).status, 201);
      const again = await post(ec2For(alice, { blob: JSON.stringify({ ...JSON.parse(blob), secret: 'other' }) }), alice.token);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.title, 'Conflict');
    });

    test("someone else's credentials: hidden from lists, 403 to read, change or delete; the admin manages all", async () => {
      const c = (await post(ec2For(alice), alice.token)).body.credential;
      const as = { token: bob.token };
      assert.equal((await h.admin.send('GET', `/v3/credentials/${c.id}`, as)).status, 403);
      assert.equal((await h.admin.send('PATCH', `/v3/credentials/${c.id}`, { ...as, body: { credential: { blob: ec2Blob() } } })).status, 403);
      assert.equal((await h.admin.send('DELETE', `/v3/credentials/${c.id}`, as)).status, 403);
      assert.equal((await h.admin.send('GET', '/v3/credentials/0123456789', as)).status, 403); // nothing said about existence
      assert.equal((await post(ec2For(alice), bob.token)).status, 403);
      const bobs = await h.admin.call('GET', `/v3/credentials?user_id=${alice.user.id}`, as);
      assert.deepEqual(bobs.body.credentials, []);
      // nor can the owner hand a credential to someone else
      assert.equal((await h.admin.send('PATCH', `/v3/credentials/${c.id}`, { token: alice.token, body: { credential: { user_id: bob.user.id } } })).status, 403);

      const all = await h.admin.call('GET', `/v3/credentials?user_id=${alice.user.id}`);
      assert.ok(all.body.credentials.some((x: any) => x.id === c.id));
      assert.ok(all.body.credentials.every((x: any) => x.user_id === alice.user.id));
      assert.equal((await h.admin.send('GET', '/v3/credentials/0123456789')).status, 404);
      assert.equal((await h.admin.send('PATCH', `/v3/credentials/${c.id}`, { body: { credential: { label: 'by admin' } } })).status, 200);
      assert.equal((await h.admin.send('DELETE', `/v3/credentials/${c.id}`)).status, 204);
      assert.equal((await h.anonymous().send('GET', '/v3/credentials')).status, 401);
    });

    test('credentials go with their user and with their project', async () => {
      const carol = await memberUser(h);
      const own = (await post(ec2For(carol), carol.token)).body.credential;
      const other = await createProject(h);
      const elsewhere = (await post(ec2For(alice, { project_id: other.id }))).body.credential;
      await h.admin.call('DELETE', `/v3/users/${carol.user.id}`);
      assert.equal((await h.admin.send('GET', `/v3/credentials/${own.id}`)).status, 404);
      await h.admin.call('PATCH', `/v3/projects/${other.id}`, { body: { project: { enabled: false } } });
      await h.admin.call('DELETE', `/v3/projects/${other.id}`);
      assert.equal((await h.admin.send('GET', `/v3/credentials/${elsewhere.id}`)).status, 404);
    });
  });
}
