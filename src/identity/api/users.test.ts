import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, ADMIN_PASSWORD, type IdentityHarness } from '../testing/harness.ts';
import { createDomain, createGroup, createProject, createUser, grant, login, memberUser, roleId, unique } from '../testing/fixtures.ts';

function assertNoSecrets(user: Record<string, unknown>, password?: string) {
  for (const key of ['password', 'password_hash', 'original_password', 'password_created_at']) assert.equal(key in user, false, key);
  const text = JSON.stringify(user);
  assert.doesNotMatch(text, /scrypt/);
  if (password) assert.equal(text.includes(password), false);
}

for (const backend of await identityBackends()) {
  describe(`identity users on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    before(async () => { h = await startIdentity(backend.url); });
    after(async () => { await h?.stop(); });

    test('create, show, list, update, delete', async () => {
      const project = await createProject(h);
      const name = unique('alice');
      const created = await h.admin.call('POST', '/v3/users', {
        body: { user: { name, password: 'secret-1', email: 'alice@example.org', description: 'Alice', default_project_id: project.id } },
      });
      assert.equal(created.status, 201);
      const u = created.body.user;
      assert.match(u.id, /^[0-9a-f]{32}$/);
      assert.equal(u.name, name);
      assert.equal(u.domain_id, 'default');
      assert.equal(u.enabled, true);
      assert.equal(u.password_expires_at, null);
      assert.equal(u.default_project_id, project.id);
      assert.equal(u.description, 'Alice');
      assert.equal(u.email, 'alice@example.org');
      assert.deepEqual(u.options, {});
      assert.equal(u.links.self, `${h.url}/v3/users/${u.id}`);
      assertNoSecrets(u, 'secret-1');

      const shown = await h.admin.call('GET', `/v3/users/${u.id}`);
      assert.deepEqual(shown.body.user, u);

      const byName = await h.admin.call('GET', `/v3/users?name=${name}`);
      assert.deepEqual(byName.body.users.map((x: any) => x.id), [u.id]);
      assert.equal(byName.body.links.self, `${h.url}/v3/users`);
      for (const x of byName.body.users) assertNoSecrets(x);
      const inDefault = await h.admin.call('GET', '/v3/users?domain_id=default');
      assert.ok(inDefault.body.users.some((x: any) => x.name === 'admin'));
      assert.ok(inDefault.body.users.some((x: any) => x.id === u.id));
      assert.equal((await h.admin.call('GET', '/v3/users?domain_id=nowhere')).body.users.length, 0);

      const upd = await h.admin.call('PATCH', `/v3/users/${u.id}`, {
        body: { user: { name: `${name}-2`, description: null, email: 'a2@example.org', enabled: false, options: { ignore_password_expiry: true } } },
      });
      assert.equal(upd.body.user.name, `${name}-2`);
      assert.equal('description' in upd.body.user, false);
      assert.equal(upd.body.user.email, 'a2@example.org');
      assert.equal(upd.body.user.enabled, false);
      assert.deepEqual(upd.body.user.options, { ignore_password_expiry: true });
      assert.equal(upd.body.user.default_project_id, project.id);
      const disabledOnly = await h.admin.call('GET', `/v3/users?enabled=false&name=${name}-2`);
      assert.deepEqual(disabledOnly.body.users.map((x: any) => x.id), [u.id]);
      assert.equal((await h.admin.call('GET', `/v3/users?enabled=true&name=${name}-2`)).body.users.length, 0);
      const cleared = await h.admin.call('PATCH', `/v3/users/${u.id}`, { body: { user: { default_project_id: null, options: { ignore_password_expiry: null } } } });
      assert.equal('default_project_id' in cleared.body.user, false);
      assert.deepEqual(cleared.body.user.options, {});

      assert.equal((await h.admin.send('DELETE', `/v3/users/${u.id}`)).status, 204);
      const gone = await h.admin.send('GET', `/v3/users/${u.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.message, `Could not find user: ${u.id}.`);
    });

    test('a minimal user: defaults, and optional attributes left out', async () => {
      const u = await createUser(h);
      assert.equal(u.enabled, true);
      assert.equal(u.domain_id, 'default');
      assert.equal('default_project_id' in u, false);
      assert.equal('description' in u, false);
      assert.deepEqual(u.options, {});
      assert.equal(u.password_expires_at, null);
      // a user without a password cannot log in
      const refused = await login(h, { id: u.id, password: '' });
      assert.equal(refused.status, 401);
    });

    test('duplicate names in one domain conflict; in another domain they do not', async () => {
      const name = unique('dup');
      await createUser(h, { name });
      const dup = await h.admin.send('POST', '/v3/users', { body: { user: { name } } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.title, 'Conflict');
      const domain = await createDomain(h);
      const other = await h.admin.call('POST', '/v3/users', { body: { user: { name, domain_id: domain.id } } });
      assert.equal(other.body.user.domain_id, domain.id);
      const renamed = await createUser(h);
      const clash = await h.admin.send('PATCH', `/v3/users/${renamed.id}`, { body: { user: { name } } });
      assert.equal(clash.status, 409);
    });

    test('bad requests are 400', async () => {
      const bad = async (body: unknown) => (await h.admin.send('POST', '/v3/users', { body })).status;
      assert.equal(await bad({ user: {} }), 400);
      assert.equal(await bad({ user: { name: '' } }), 400);
      assert.equal(await bad({ user: { name: '   ' } }), 400);
      assert.equal(await bad({ user: { name: 42 } }), 400);
      assert.equal(await bad({ user: { name: 'x'.repeat(256) } }), 400);
      assert.equal(await bad({ user: { name: unique('u'), enabled: 'yes' } }), 400);
      assert.equal(await bad({ user: { name: unique('u'), password: 12345 } }), 400);
      assert.equal(await bad({ user: { name: unique('u'), options: { no_such_option: true } } }), 400);
      assert.equal(await bad({ user: { name: unique('u'), options: { lock_password: 'yes' } } }), 400);
      assert.equal(await bad({ user: { name: unique('u'), default_project_id: 'default' } }), 400);
      assert.equal(await bad({ users: { name: unique('u') } }), 400);
      const malformed = await h.admin.send('POST', '/v3/users', { rawBody: '{"user": {"name": ' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 400);

      const u = await createUser(h);
      const patch = async (user: unknown) => (await h.admin.send('PATCH', `/v3/users/${u.id}`, { body: { user } })).status;
      assert.equal(await patch({ domain_id: 'elsewhere' }), 400);
      assert.equal(await patch({ id: 'another' }), 400);
      assert.equal(await patch({ enabled: 1 }), 400);
      assert.equal(await patch({ name: '' }), 400);
      assert.equal((await h.admin.send('PATCH', `/v3/users/${u.id}`, { rawBody: 'not json' })).status, 400);
    });

    test('unknown users are 404 with Keystone wording', async () => {
      for (const [method, path, body] of [
        ['GET', '/v3/users/nobody'], ['PATCH', '/v3/users/nobody', { user: { name: 'x' } }], ['DELETE', '/v3/users/nobody'],
        ['GET', '/v3/users/nobody/projects'], ['GET', '/v3/users/nobody/groups'],
      ] as [string, string, unknown][]) {
        const res = await h.admin.send(method, path, { body });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.error.message, 'Could not find user: nobody.');
      }
      const unknownDomain = await h.admin.send('POST', '/v3/users', { body: { user: { name: unique('u'), domain_id: 'nowhere' } } });
      assert.equal(unknownDomain.status, 404);
    });

    test('a member may read itself but not others, and may not create users', async () => {
      const m = await memberUser(h);
      const own = await h.anonymous().send('GET', `/v3/users/${m.user.id}`, { token: m.token });
      assert.equal(own.status, 200);
      assert.equal(own.body.user.id, m.user.id);
      assert.equal((await h.anonymous().send('GET', `/v3/users/${h.adminUserId}`, { token: m.token })).status, 403);
      const create = await h.anonymous().send('POST', '/v3/users', { token: m.token, body: { user: { name: unique('u') } } });
      assert.equal(create.status, 403);
      assert.equal((await h.anonymous().send('GET', '/v3/users', { token: m.token })).status, 403);
      assert.equal((await h.anonymous().send('PATCH', `/v3/users/${m.user.id}`, { token: m.token, body: { user: { enabled: true } } })).status, 403);
      assert.equal((await h.anonymous().send('DELETE', `/v3/users/${m.user.id}`, { token: m.token })).status, 403);
      assert.equal((await h.anonymous().send('GET', '/v3/users')).status, 401);
    });

    test('a user changes its own password: old token and old password stop working', async () => {
      const m = await memberUser(h);
      const path = `/v3/users/${m.user.id}/password`;
      const as = { token: m.token };
      assert.equal((await h.anonymous().send('POST', path, { ...as, body: { user: { password: 'new-pw-1' } } })).status, 400);
      assert.equal((await h.anonymous().send('POST', path, { ...as, body: { user: { original_password: m.password } } })).status, 400);
      assert.equal((await h.anonymous().send('POST', path, { ...as, body: { user: { password: 5, original_password: m.password } } })).status, 400);
      assert.equal((await h.anonymous().send('POST', path, { ...as, rawBody: '{' })).status, 400);
      const wrong = await h.anonymous().send('POST', path, { ...as, body: { user: { password: 'new-pw-1', original_password: 'not-it' } } });
      assert.equal(wrong.status, 401);
      // as Keystone, the original password authorizes the change, whoever's token comes with it
      const admins = await h.admin.send('POST', path, { body: { user: { password: 'new-pw-1', original_password: 'guess' } } });
      assert.equal(admins.status, 401);
      assert.equal((await h.anonymous().send('GET', `/v3/users/${m.user.id}`, as)).status, 200);

      const changed = await h.anonymous().send('POST', path, { ...as, body: { user: { password: 'new-pw-1', original_password: m.password } } });
      assert.equal(changed.status, 204);
      assert.equal((await h.anonymous().send('GET', `/v3/users/${m.user.id}`, as)).status, 401);
      const fresh = await h.anonymous().passwordLogin({ username: m.user.name, password: 'new-pw-1', projectId: m.project.id });
      assert.equal((await h.anonymous().send('GET', `/v3/users/${m.user.id}`, { token: fresh.token })).status, 200);
      const old = await login(h, { id: m.user.id, password: m.password });
      assert.equal(old.status, 401);
    });

    test('without a token the original password alone allows the change (expired passwords)', async () => {
      const u = await createUser(h, { password: 'pw-before' });
      const path = `/v3/users/${u.id}/password`;
      assert.equal((await h.anonymous().send('POST', path, { body: { user: { password: 'pw-after', original_password: 'nope' } } })).status, 401);
      assert.equal((await h.anonymous().send('POST', '/v3/users/nobody/password', { body: { user: { password: 'a', original_password: 'b' } } })).status, 401);
      assert.equal((await h.anonymous().send('POST', path, { body: { user: { password: 'pw-after', original_password: 'pw-before' } } })).status, 204);
      await h.anonymous().passwordLogin({ username: u.name, password: 'pw-after' });
      const locked = await createUser(h, { password: 'pw-locked', options: { lock_password: true } });
      const denied = await h.anonymous().send('POST', `/v3/users/${locked.id}/password`, { body: { user: { password: 'x1', original_password: 'pw-locked' } } });
      assert.equal(denied.status, 403);
    });

    test('an administrator setting a password revokes the user\'s tokens', async () => {
      const m = await memberUser(h);
      assert.equal((await h.admin.validate(m.token)).status, 200);
      const upd = await h.admin.call('PATCH', `/v3/users/${m.user.id}`, { body: { user: { password: 'reset-pw-1' } } });
      assertNoSecrets(upd.body.user, 'reset-pw-1');
      assert.equal((await h.admin.validate(m.token)).status, 404);
      await h.anonymous().passwordLogin({ username: m.user.name, password: 'reset-pw-1', projectId: m.project.id });
      // and stores only a hash
      const row = await h.service.deps.store.db.selectFrom('user').select('password_hash').where('id', '=', m.user.id).executeTakeFirstOrThrow();
      assert.match(row.password_hash!, /^\$scrypt\$/);
      assert.equal(row.password_hash!.includes('reset-pw-1'), false);
    });

    test('disabling a user voids its tokens and its logins', async () => {
      const m = await memberUser(h);
      assert.equal((await h.admin.validate(m.token)).status, 200);
      await h.admin.call('PATCH', `/v3/users/${m.user.id}`, { body: { user: { enabled: false } } });
      assert.equal((await h.admin.validate(m.token)).status, 404);
      assert.equal((await h.anonymous().send('GET', `/v3/users/${m.user.id}`, { token: m.token })).status, 401);
      const refused = await login(h, { id: m.user.id, password: m.password });
      assert.equal(refused.status, 401);
      // re-enabling does not bring the old token back
      await h.admin.call('PATCH', `/v3/users/${m.user.id}`, { body: { user: { enabled: true } } });
      assert.equal((await h.admin.validate(m.token)).status, 404);
      await h.anonymous().passwordLogin({ username: m.user.name, password: m.password, projectId: m.project.id });
    });

    test('deleting a user removes its memberships, assignments and application credentials, and its tokens', async () => {
      const m = await memberUser(h);
      const db = h.service.deps.store.db;
      const group = await createGroup(h);
      await h.admin.call('PUT', `/v3/groups/${group.id}/users/${m.user.id}`);
      const memberRole = await roleId(h, 'member');
      await h.service.deps.store.write(async (tx) => {
        await tx.insertInto('application_credential').values({
          id: 'ac' + m.user.id.slice(2), user_id: m.user.id, project_id: m.project.id, name: 'cred', description: null,
          secret_hash: 'x', expires_at: null, unrestricted: 0, created_at: new Date().toISOString(),
        }).execute();
        await tx.insertInto('application_credential_role').values({ application_credential_id: 'ac' + m.user.id.slice(2), role_id: memberRole }).execute();
      });
      assert.equal((await h.admin.validate(m.token)).status, 200);
      assert.equal((await h.admin.send('DELETE', `/v3/users/${m.user.id}`)).status, 204);
      assert.equal((await h.admin.validate(m.token)).status, 404);
      assert.equal((await db.selectFrom('assignment').select('role_id').where('actor_id', '=', m.user.id).execute()).length, 0);
      assert.equal((await db.selectFrom('user_group_membership').select('group_id').where('user_id', '=', m.user.id).execute()).length, 0);
      assert.equal((await db.selectFrom('application_credential').select('id').where('user_id', '=', m.user.id).execute()).length, 0);
      assert.equal((await db.selectFrom('application_credential_role').select('role_id').where('application_credential_id', '=', 'ac' + m.user.id.slice(2)).execute()).length, 0);
      assert.deepEqual((await h.admin.call('GET', `/v3/groups/${group.id}/users`)).body.users, []);
      const events = await db.selectFrom('revocation_event').select('id').where('user_id', '=', m.user.id).execute();
      assert.ok(events.length >= 1);
    });

    test('a user\'s projects: direct, through a group, and inherited from the domain', async () => {
      const m = await memberUser(h);
      const viaGroup = await createProject(h);
      const unrelated = await createProject(h);
      const group = await createGroup(h);
      await h.admin.call('PUT', `/v3/groups/${group.id}/users/${m.user.id}`);
      await grant(h, 'GroupProject', group.id, viaGroup.id, 'reader');
      const list = await h.anonymous().call('GET', `/v3/users/${m.user.id}/projects`, { token: m.token });
      const names = list.body.projects.map((p: any) => p.name).sort();
      assert.deepEqual(names, [m.project.name, viaGroup.name].sort());
      assert.equal(names.includes(unrelated.name), false);
      assert.equal(list.body.projects[0].domain_id, 'default');
      assert.equal((await h.admin.call('GET', `/v3/users/${m.user.id}/projects?name=${viaGroup.name}`)).body.projects.length, 1);

      // another user without roles sees none; a role inherited from the domain gives them all
      const other = await createUser(h);
      assert.deepEqual((await h.admin.call('GET', `/v3/users/${other.id}/projects`)).body.projects, []);
      await grant(h, 'UserDomain', other.id, 'default', 'reader', true);
      const all = (await h.admin.call('GET', `/v3/users/${other.id}/projects`)).body.projects.map((p: any) => p.id);
      assert.ok(all.includes(unrelated.id) && all.includes(h.adminProjectId));

      // a member may not list someone else's projects
      assert.equal((await h.anonymous().send('GET', `/v3/users/${other.id}/projects`, { token: m.token })).status, 403);
    });

    test('a user\'s groups', async () => {
      const u = await createUser(h);
      assert.deepEqual((await h.admin.call('GET', `/v3/users/${u.id}/groups`)).body.groups, []);
      const g1 = await createGroup(h, { name: unique('g1'), description: 'one' });
      const g2 = await createGroup(h, { name: unique('g2') });
      await h.admin.call('PUT', `/v3/groups/${g1.id}/users/${u.id}`);
      await h.admin.call('PUT', `/v3/groups/${g2.id}/users/${u.id}`);
      const res = await h.admin.call('GET', `/v3/users/${u.id}/groups`);
      assert.deepEqual(res.body.groups.map((g: any) => g.id).sort(), [g1.id, g2.id].sort());
      const one = res.body.groups.find((g: any) => g.id === g1.id);
      assert.equal(one.description, 'one');
      assert.equal(one.domain_id, 'default');
      assert.equal(one.links.self, `${h.url}/v3/groups/${g1.id}`);
      assert.equal((await h.admin.call('GET', `/v3/users/${u.id}/groups?name=${g2.name}`)).body.groups.length, 1);
    });

    test('the admin can still log in (sanity)', async () => {
      await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
    });
  });
}
