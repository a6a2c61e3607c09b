import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startIdentity, identityBackends, type IdentityHarness } from '../testing/harness.ts';
import { createProject, createUser, grant, memberUser, USER_PASSWORD } from '../testing/fixtures.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

for (const backend of await identityBackends()) {
  describe(`OS-EC2 credentials on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    let alice: Awaited<ReturnType<typeof memberUser>>;
    let bob: Awaited<ReturnType<typeof memberUser>>;
    const ec2 = (userId: string) => `/v3/users/${userId}/credentials/OS-EC2`;

    before(async () => {
      h = await startIdentity(backend.url);
      alice = await memberUser(h);
      bob = await memberUser(h);
    });
    after(async () => { await h?.stop(); });

    test('a member creates, lists, shows and deletes their own key pairs (what `openstack ec2 credentials` calls)', async () => {
      const created = await h.admin.send('POST', ec2(alice.user.id), { token: alice.token, body: { tenant_id: alice.project.id } });
      assert.equal(created.status, 201);
      const c = created.body.credential;
      assert.match(c.access, /^[0-9a-f]{32}$/);
      assert.match(c.secret, /^[0-9a-f]{32}$/);
      assert.notEqual(c.access, c.secret);
      assert.deepEqual({ ...c, access: undefined, secret: undefined, links: undefined }, {
        user_id: alice.user.id, tenant_id: alice.project.id, trust_id: null, access: undefined, secret: undefined, links: undefined,
      });
      assert.ok(c.links.self.endsWith(`${ec2(alice.user.id)}/${c.access}`));

      const list = await h.admin.call('GET', ec2(alice.user.id), { token: alice.token });
      assert.deepEqual(list.body.credentials, [c]);
      assert.ok(list.body.links.self.endsWith(ec2(alice.user.id)));
      assert.deepEqual((await h.admin.call('GET', `${ec2(alice.user.id)}/${c.access}`, { token: alice.token })).body.credential, c);

      // the same row, as the credentials API shows it
      const row = (await h.admin.call('GET', `/v3/credentials/${sha256(c.access)}`, { token: alice.token })).body.credential;
      assert.equal(row.type, 'ec2');
      assert.equal(row.project_id, alice.project.id);
      assert.deepEqual(JSON.parse(row.blob), { access: c.access, secret: c.secret, trust_id: null });

      assert.equal((await h.admin.send('DELETE', `${ec2(alice.user.id)}/${c.access}`, { token: alice.token })).status, 204);
      assert.equal((await h.admin.send('GET', `${ec2(alice.user.id)}/${c.access}`, { token: alice.token })).status, 404);
      assert.deepEqual((await h.admin.call('GET', ec2(alice.user.id), { token: alice.token })).body.credentials, []);
    });

    test('an ec2 credential made through the credentials API is listed here too', async () => {
      const blob = JSON.stringify({ access: `made-elsewhere-${process.pid}`, secret: 's' });
      await h.admin.call('POST', '/v3/credentials', { token: alice.token, body: { credential: { type: 'ec2', user_id: alice.user.id, project_id: alice.project.id, blob } } });
      await h.admin.call('POST', '/v3/credentials', { token: alice.token, body: { credential: { type: 'totp', user_id: alice.user.id, blob: 'seed' } } });
      const list = (await h.admin.call('GET', ec2(alice.user.id), { token: alice.token })).body.credentials;
      assert.deepEqual(list.map((c: any) => [c.access, c.secret, c.tenant_id]), [[`made-elsewhere-${process.pid}`, 's', alice.project.id]]);
    });

    test('errors: 404 for an unknown user, project or access key; 401 for a key of another credential type', async () => {
      const as = { token: alice.token };
      assert.equal((await h.admin.send('POST', ec2('nobody'), { body: { tenant_id: alice.project.id } })).status, 404);
      assert.equal((await h.admin.send('POST', ec2(alice.user.id), { ...as, body: { tenant_id: 'no-such-project' } })).status, 404);
      assert.equal((await h.admin.send('POST', ec2(alice.user.id), { ...as, body: {} })).status, 404);
      assert.equal((await h.admin.send('GET', `${ec2(alice.user.id)}/no-such-access`, as)).status, 404);
      assert.equal((await h.admin.send('DELETE', `${ec2(alice.user.id)}/no-such-access`, as)).status, 404);
      assert.equal((await h.admin.send('GET', ec2('nobody'))).status, 404);

      const c = await h.admin.createEc2Credential(alice.user.id, alice.project.id);
      await h.admin.call('PATCH', `/v3/credentials/${sha256(c.access)}`, { body: { credential: { type: 'cert' } } });
      const other = await h.admin.send('GET', `${ec2(alice.user.id)}/${c.access}`, as);
      assert.equal(other.status, 401);
      assert.equal(other.body.error.message, 'EC2 access key not found.');
    });

    test("someone else's key pairs: 403 to list, show, make or delete; a reader may not make any; the admin may", async () => {
      const c = await h.admin.createEc2Credential(alice.user.id, alice.project.id);
      const as = { token: bob.token };
      assert.equal((await h.admin.send('GET', ec2(alice.user.id), as)).status, 403);
      assert.equal((await h.admin.send('GET', `${ec2(alice.user.id)}/${c.access}`, as)).status, 403);
      // naming oneself in the path does not help: the credential's owner is what counts
      assert.equal((await h.admin.send('GET', `${ec2(bob.user.id)}/${c.access}`, as)).status, 403);
      assert.equal((await h.admin.send('DELETE', `${ec2(bob.user.id)}/${c.access}`, as)).status, 403);
      assert.equal((await h.admin.send('POST', ec2(alice.user.id), { ...as, body: { tenant_id: bob.project.id } })).status, 403);

      const reader = await createUser(h, { password: USER_PASSWORD });
      const project = await createProject(h);
      await grant(h, 'UserProject', reader.id, project.id, 'reader');
      const { token } = await h.anonymous().passwordLogin({ username: reader.name, password: USER_PASSWORD, projectId: project.id });
      assert.equal((await h.admin.send('POST', ec2(reader.id), { token, body: { tenant_id: project.id } })).status, 403);
      assert.equal((await h.admin.send('GET', ec2(reader.id), { token })).status, 200);

      assert.equal((await h.admin.send('GET', `${ec2(alice.user.id)}/${c.access}`)).status, 200);
      const forBob = await h.admin.send('POST', ec2(bob.user.id), { body: { tenant_id: bob.project.id } });
      assert.equal(forBob.status, 201);
      assert.equal((await h.admin.send('DELETE', `${ec2(bob.user.id)}/${forBob.body.credential.access}`)).status, 204);
      assert.equal((await h.anonymous().send('GET', ec2(alice.user.id))).status, 401);
    });
  });
}
