import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, type IdentityHarness } from '../testing/harness.ts';
import { createDomain, createProject, createRole, login, makeUser, roleByName, unique } from '../testing/fixtures.ts';

const tokenRoles = (body: any) => body.roles.map((r: any) => r.name).sort();

for (const backend of await identityBackends()) {
  describe(`identity roles and implied roles on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    before(async () => { h = await startIdentity(backend.url); });
    after(async () => { await h?.stop(); });

    test('role create, show, list, update, delete', async () => {
      const name = unique('developer');
      const created = await h.admin.call('POST', '/v3/roles', { body: { role: { name, description: 'Builds things', team: 'x' } } });
      assert.equal(created.status, 201);
      const role = created.body.role;
      assert.match(role.id, /^[0-9a-f]{32}$/);
      assert.equal(role.name, name);
      assert.equal(role.domain_id, null);
      assert.equal(role.description, 'Builds things');
      assert.deepEqual(role.options, {});
      assert.equal(role.team, 'x');
      assert.equal(role.links.self, `${h.url}/v3/roles/${role.id}`);

      const shown = await h.admin.call('GET', `/v3/roles/${role.id}`);
      assert.deepEqual(shown.body.role, role);

      const list = await h.admin.call('GET', '/v3/roles');
      const names = list.body.roles.map((r: any) => r.name);
      for (const n of ['admin', 'member', 'reader', 'service', name]) assert.ok(names.includes(n), n);
      assert.equal(list.body.links.self, `${h.url}/v3/roles`);
      const byName = await h.admin.call('GET', `/v3/roles?name=${name}`);
      assert.deepEqual(byName.body.roles.map((r: any) => r.id), [role.id]);

      const renamed = unique('builder');
      const upd = await h.admin.call('PATCH', `/v3/roles/${role.id}`, { body: { role: { name: renamed, description: null } } });
      assert.equal(upd.body.role.name, renamed);
      assert.equal(upd.body.role.description, null);
      assert.equal(upd.body.role.team, 'x');

      assert.equal((await h.admin.send('DELETE', `/v3/roles/${role.id}`)).status, 204);
      const gone = await h.admin.send('GET', `/v3/roles/${role.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.message, `Could not find role: ${role.id}.`);
      assert.equal((await h.admin.send('DELETE', `/v3/roles/${role.id}`)).status, 404);
      assert.equal((await h.admin.send('PATCH', `/v3/roles/${role.id}`, { body: { role: { name: 'x' } } })).status, 404);
    });

    test('duplicate names conflict globally and within a domain; domain-specific roles', async () => {
      const name = unique('dup');
      await createRole(h, { name });
      const dup = await h.admin.send('POST', '/v3/roles', { body: { role: { name } } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.title, 'Conflict');

      const domain = await createDomain(h);
      const scoped = await h.admin.call('POST', '/v3/roles', { body: { role: { name, domain_id: domain.id } } });
      assert.equal(scoped.status, 201);
      assert.equal(scoped.body.role.domain_id, domain.id);
      assert.equal((await h.admin.send('POST', '/v3/roles', { body: { role: { name, domain_id: domain.id } } })).status, 409);

      // global listing leaves domain roles out; domain_id lists them
      const global = await h.admin.call('GET', `/v3/roles?name=${name}`);
      assert.deepEqual(global.body.roles.map((r: any) => r.domain_id), [null]);
      const inDomain = await h.admin.call('GET', `/v3/roles?domain_id=${domain.id}`);
      assert.deepEqual(inDomain.body.roles.map((r: any) => r.id), [scoped.body.role.id]);

      // renaming onto an existing name conflicts too
      const other = await createRole(h);
      assert.equal((await h.admin.send('PATCH', `/v3/roles/${other.id}`, { body: { role: { name } } })).status, 409);
      // a role never moves between domains
      const move = await h.admin.send('PATCH', `/v3/roles/${scoped.body.role.id}`, { body: { role: { domain_id: null } } });
      assert.equal(move.status, 400);
      const missing = await h.admin.send('POST', '/v3/roles', { body: { role: { name: unique('r'), domain_id: 'nope' } } });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.message, 'Could not find domain: nope.');
    });

    test('bad role bodies are 400', async () => {
      for (const body of [{}, { role: {} }, { role: { name: '' } }, { role: { name: '   ' } }, { role: { name: 7 } },
        { role: { name: 'x'.repeat(256) } }, { role: { name: unique('r'), options: { colour: true } } },
        { role: { name: unique('r'), options: { immutable: 'yes' } } }, { role: { name: unique('r'), description: 5 } }]) {
        const res = await h.admin.send('POST', '/v3/roles', { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 400);
      }
    });

    test('an immutable role cannot change or go until the option is switched off', async () => {
      const role = await createRole(h, { options: { immutable: true } });
      assert.deepEqual(role.options, { immutable: true });
      assert.equal((await h.admin.send('PATCH', `/v3/roles/${role.id}`, { body: { role: { name: unique('r') } } })).status, 403);
      assert.equal((await h.admin.send('DELETE', `/v3/roles/${role.id}`)).status, 403);
      const unlocked = await h.admin.call('PATCH', `/v3/roles/${role.id}`, { body: { role: { options: { immutable: false } } } });
      assert.deepEqual(unlocked.body.role.options, { immutable: false });
      assert.equal((await h.admin.send('DELETE', `/v3/roles/${role.id}`)).status, 204);
    });

    test('a non-admin gets 403 on role writes and reads, and 401 without a token', async () => {
      const user = await makeUser(h);
      const project = await createProject(h);
      const member = await roleByName(h, 'member');
      await h.admin.call('PUT', `/v3/projects/${project.id}/users/${user.id}/roles/${member.id}`);
      const { token } = await h.anonymous().passwordLogin({ username: user.name, password: user.password, projectId: project.id });
      const res = await h.anonymous().send('POST', '/v3/roles', { token, body: { role: { name: unique('r') } } });
      assert.equal(res.status, 403);
      assert.match(res.body.error.message, /identity:create_role/);
      assert.equal((await h.anonymous().send('GET', '/v3/roles', { token })).status, 403);
      // the 403 comes before the 404: no probing for role ids
      assert.equal((await h.anonymous().send('GET', '/v3/roles/nope', { token })).status, 403);
      assert.equal((await h.anonymous().send('DELETE', `/v3/roles/${member.id}`, { token })).status, 403);
      assert.equal((await h.anonymous().send('PUT', `/v3/roles/${member.id}/implies/${member.id}`, { token })).status, 403);
      assert.equal((await h.anonymous().send('GET', '/v3/roles')).status, 401);
    });

    test('implied role create, show, check, list, delete and role_inferences', async () => {
      const [a, b, c] = [await createRole(h), await createRole(h), await createRole(h)];
      const created = await h.admin.call('PUT', `/v3/roles/${a.id}/implies/${b.id}`);
      assert.equal(created.status, 201);
      assert.deepEqual(created.body, {
        role_inference: {
          prior_role: { id: a.id, name: a.name, links: { self: `${h.url}/v3/roles/${a.id}` } },
          implies: { id: b.id, name: b.name, links: { self: `${h.url}/v3/roles/${b.id}` } },
        },
        links: { self: `${h.url}/v3/roles/${a.id}/implies/${b.id}` },
      });
      await h.admin.call('PUT', `/v3/roles/${a.id}/implies/${c.id}`);
      assert.equal((await h.admin.send('PUT', `/v3/roles/${a.id}/implies/${b.id}`)).status, 409);

      const shown = await h.admin.call('GET', `/v3/roles/${a.id}/implies/${b.id}`);
      assert.deepEqual(shown.body, created.body);
      const head = await h.admin.send('HEAD', `/v3/roles/${a.id}/implies/${b.id}`);
      assert.equal(head.status, 204);

      const list = await h.admin.call('GET', `/v3/roles/${a.id}/implies`);
      assert.equal(list.body.role_inference.prior_role.id, a.id);
      assert.deepEqual(list.body.role_inference.implies.map((r: any) => r.id).sort(), [b.id, c.id].sort());
      assert.equal(list.body.links.self, `${h.url}/v3/roles/${a.id}/implies`);
      const none = await h.admin.call('GET', `/v3/roles/${b.id}/implies`);
      assert.deepEqual(none.body.role_inference.implies, []);

      const all = await h.admin.call('GET', '/v3/role_inferences');
      const mine = all.body.role_inferences.find((r: any) => r.prior_role.id === a.id);
      assert.deepEqual(mine.implies.map((r: any) => r.id).sort(), [b.id, c.id].sort());
      const admin = all.body.role_inferences.find((r: any) => r.prior_role.name === 'admin');
      assert.deepEqual(admin.implies.map((r: any) => r.name), ['member']);
      const member = all.body.role_inferences.find((r: any) => r.prior_role.name === 'member');
      assert.deepEqual(member.implies.map((r: any) => r.name), ['reader']);

      assert.equal((await h.admin.send('DELETE', `/v3/roles/${a.id}/implies/${b.id}`)).status, 204);
      const gone = await h.admin.send('GET', `/v3/roles/${a.id}/implies/${b.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.message, `${a.id} does not imply ${b.id}.`);
      assert.equal((await h.admin.send('HEAD', `/v3/roles/${a.id}/implies/${b.id}`)).status, 404);
      assert.equal((await h.admin.send('DELETE', `/v3/roles/${a.id}/implies/${b.id}`)).status, 404);

      // missing roles
      const missing = await h.admin.send('PUT', `/v3/roles/${a.id}/implies/nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.message, 'Could not find role: nope.');
      assert.equal((await h.admin.send('PUT', `/v3/roles/nope/implies/${a.id}`)).status, 404);
      assert.equal((await h.admin.send('GET', '/v3/roles/nope/implies')).status, 404);
    });

    test('implied roles that Keystone refuses: admin, and domain-specific under global', async () => {
      const prior = await createRole(h);
      const admin = await roleByName(h, 'admin');
      const res = await h.admin.send('PUT', `/v3/roles/${prior.id}/implies/${admin.id}`);
      assert.equal(res.status, 403);
      const domain = await createDomain(h);
      const domainRole = await createRole(h, { domain_id: domain.id });
      assert.equal((await h.admin.send('PUT', `/v3/roles/${prior.id}/implies/${domainRole.id}`)).status, 403);
      // the other way round is how domain-specific roles are meant to be used
      assert.equal((await h.admin.send('PUT', `/v3/roles/${domainRole.id}/implies/${prior.id}`)).status, 201);
    });

    test('tokens carry implied roles, transitively, and never a domain-specific role', async () => {
      const user = await makeUser(h);
      const project = await createProject(h);
      const member = await roleByName(h, 'member');
      await h.admin.call('PUT', `/v3/projects/${project.id}/users/${user.id}/roles/${member.id}`);
      let login = await h.anonymous().passwordLogin({ username: user.name, password: user.password, projectId: project.id });
      assert.deepEqual(tokenRoles(login.body), ['member', 'reader']);

      // a → b → c: granting a gives all three
      const [a, b, c] = [await createRole(h), await createRole(h), await createRole(h)];
      await h.admin.call('PUT', `/v3/roles/${a.id}/implies/${b.id}`);
      await h.admin.call('PUT', `/v3/roles/${b.id}/implies/${c.id}`);
      await h.admin.call('PUT', `/v3/roles/${c.id}/implies/${a.id}`); // a cycle is harmless
      const p2 = await createProject(h);
      await h.admin.call('PUT', `/v3/projects/${p2.id}/users/${user.id}/roles/${a.id}`);
      login = await h.anonymous().passwordLogin({ username: user.name, password: user.password, projectId: p2.id });
      assert.deepEqual(tokenRoles(login.body), [a.name, b.name, c.name].sort());

      // a domain-specific role only brings what it implies
      const domain = await createDomain(h);
      const p3 = await createProject(h, { domain_id: domain.id });
      const dr = await createRole(h, { domain_id: domain.id });
      await h.admin.call('PUT', `/v3/roles/${dr.id}/implies/${member.id}`);
      await h.admin.call('PUT', `/v3/projects/${p3.id}/users/${user.id}/roles/${dr.id}`);
      login = await h.anonymous().passwordLogin({ username: user.name, password: user.password, projectId: p3.id });
      assert.deepEqual(tokenRoles(login.body), ['member', 'reader']);

      // removing the rule takes the implied roles away from the token at its next validation
      await h.admin.call('DELETE', `/v3/roles/${dr.id}/implies/${member.id}`);
      assert.equal((await h.admin.validate(login.token)).status, 404);
    });

    test('deleting a role removes its grants and rules and voids the tokens that relied on it', async () => {
      const user = await makeUser(h);
      const project = await createProject(h);
      const role = await createRole(h);
      const implied = await createRole(h);
      await h.admin.call('PUT', `/v3/roles/${role.id}/implies/${implied.id}`);
      await h.admin.call('PUT', `/v3/projects/${project.id}/users/${user.id}/roles/${role.id}`);
      const { token, body } = await h.anonymous().passwordLogin({ username: user.name, password: user.password, projectId: project.id });
      assert.deepEqual(tokenRoles(body), [role.name, implied.name].sort());
      assert.equal((await h.admin.validate(token)).status, 200);

      assert.equal((await h.admin.send('DELETE', `/v3/roles/${role.id}`)).status, 204);
      const db = h.service.deps.store.db;
      assert.equal((await db.selectFrom('assignment').selectAll().where('role_id', '=', role.id).execute()).length, 0);
      assert.equal((await db.selectFrom('implied_role').selectAll().where('prior_role_id', '=', role.id).execute()).length, 0);
      const events = await db.selectFrom('revocation_event').selectAll().where('role_id', '=', role.id).execute();
      assert.equal(events.length, 1);
      assert.equal((await h.admin.validate(token)).status, 404);
      const relogin = await login(h, user, { project: { id: project.id } });
      assert.equal(relogin.status, 401);
      // the implied role itself is untouched
      assert.equal((await h.admin.send('GET', `/v3/roles/${implied.id}`)).status, 200);
    });
  });
}
