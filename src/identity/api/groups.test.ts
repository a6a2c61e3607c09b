import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, type IdentityHarness } from '../testing/harness.ts';

import { createDomain, createGroup, createUser, login, memberThroughGroup, unique } from '../testing/fixtures.ts';

for (const backend of await identityBackends()) {
  describe(`identity groups on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    before(async () => { h = await startIdentity(backend.url); });
    after(async () => { await h?.stop(); });

    test('create, show, list, update, delete', async () => {
      const name = unique('devs');
      const created = await h.admin.call('POST', '/v3/groups', { body: { group: { name, description: 'Developers', team: 'core' } } });
      assert.equal(created.status, 201);
      const g = created.body.group;
      assert.match(g.id, /^[0-9a-f]{32}$/);
      assert.deepEqual(g, {
        id: g.id, name, domain_id: 'default', description: 'Developers', team: 'core', links: { self: `${h.url}/v3/groups/${g.id}` },
      });
      assert.deepEqual((await h.admin.call('GET', `/v3/groups/${g.id}`)).body.group, g);

      const plain = await createGroup(h);
      assert.equal(plain.description, '');

      const byName = await h.admin.call('GET', `/v3/groups?name=${name}`);
      assert.deepEqual(byName.body.groups.map((x: any) => x.id), [g.id]);
      assert.equal(byName.body.links.self, `${h.url}/v3/groups`);
      const inDefault = (await h.admin.call('GET', '/v3/groups?domain_id=default')).body.groups.map((x: any) => x.id);
      assert.ok(inDefault.includes(g.id) && inDefault.includes(plain.id));
      assert.deepEqual((await h.admin.call('GET', '/v3/groups?domain_id=nowhere')).body.groups, []);

      const upd = await h.admin.call('PATCH', `/v3/groups/${g.id}`, { body: { group: { name: `${name}-2`, description: null, team: 'web' } } });
      assert.equal(upd.body.group.name, `${name}-2`);
      assert.equal(upd.body.group.description, '');
      assert.equal(upd.body.group.team, 'web');

      assert.equal((await h.admin.send('DELETE', `/v3/groups/${g.id}`)).status, 204);
      const gone = await h.admin.send('GET', `/v3/groups/${g.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.message, `Could not find group: ${g.id}.`);
    });

    test('groups in another domain, and duplicate names', async () => {
      const name = unique('dup');
      await createGroup(h, { name });
      const dup = await h.admin.send('POST', '/v3/groups', { body: { group: { name } } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.title, 'Conflict');
      const domain = await createDomain(h);
      const other = await createGroup(h, { name, domain_id: domain.id });
      assert.equal(other.domain_id, domain.id);
      assert.deepEqual((await h.admin.call('GET', `/v3/groups?domain_id=${domain.id}`)).body.groups.map((x: any) => x.id), [other.id]);
      const second = await createGroup(h);
      assert.equal((await h.admin.send('PATCH', `/v3/groups/${second.id}`, { body: { group: { name } } })).status, 409);
      assert.equal((await h.admin.send('POST', '/v3/groups', { body: { group: { name: unique('g'), domain_id: 'nowhere' } } })).status, 404);
    });

    test('bad requests are 400', async () => {
      const bad = async (body: unknown) => (await h.admin.send('POST', '/v3/groups', { body })).status;
      assert.equal(await bad({ group: {} }), 400);
      assert.equal(await bad({ group: { name: '' } }), 400);
      assert.equal(await bad({ group: { name: ['a'] } }), 400);
      assert.equal(await bad({ group: { name: 'x'.repeat(65) } }), 400);
      assert.equal(await bad({ group: { name: unique('g'), description: 7 } }), 400);
      assert.equal(await bad({ group: 'devs' }), 400);
      assert.equal((await h.admin.send('POST', '/v3/groups', { rawBody: '{"group": ' })).status, 400);
      const g = await createGroup(h);
      assert.equal((await h.admin.send('PATCH', `/v3/groups/${g.id}`, { body: { group: { domain_id: 'elsewhere' } } })).status, 400);
      assert.equal((await h.admin.send('PATCH', `/v3/groups/${g.id}`, { body: { group: { name: 5 } } })).status, 400);
      assert.equal((await h.admin.send('PATCH', `/v3/groups/${g.id}`, { rawBody: '[' })).status, 400);
    });

    test('unknown groups and users are 404 with Keystone wording', async () => {
      const u = await createUser(h);
      const g = await createGroup(h);
      for (const [method, path] of [
        ['GET', '/v3/groups/nogroup'], ['PATCH', '/v3/groups/nogroup'], ['DELETE', '/v3/groups/nogroup'],
        ['GET', '/v3/groups/nogroup/users'], ['PUT', `/v3/groups/nogroup/users/${u.id}`],
        ['GET', `/v3/groups/nogroup/users/${u.id}`], ['DELETE', `/v3/groups/nogroup/users/${u.id}`],
      ]) {
        const res = await h.admin.send(method!, path!, method === 'PATCH' ? { body: { group: { name: 'x' } } } : {});
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.error.message, 'Could not find group: nogroup.');
      }
      for (const method of ['PUT', 'GET', 'DELETE']) {
        const res = await h.admin.send(method, `/v3/groups/${g.id}/users/nouser`);
        assert.equal(res.status, 404, method);
        assert.equal(res.body.error.message, 'Could not find user: nouser.');
      }
      assert.equal((await h.admin.send('HEAD', `/v3/groups/${g.id}/users/nouser`)).status, 404);
    });

    test('membership: add, check, list, remove', async () => {
      const g = await createGroup(h);
      const a = await createUser(h, { password: 'a-password', email: 'a@example.org' });
      const b = await createUser(h);
      assert.deepEqual((await h.admin.call('GET', `/v3/groups/${g.id}/users`)).body.users, []);
      assert.equal((await h.admin.send('HEAD', `/v3/groups/${g.id}/users/${a.id}`)).status, 404);
      assert.equal((await h.admin.send('PUT', `/v3/groups/${g.id}/users/${a.id}`)).status, 204);
      assert.equal((await h.admin.send('PUT', `/v3/groups/${g.id}/users/${a.id}`)).status, 204); // again: no change
      assert.equal((await h.admin.send('PUT', `/v3/groups/${g.id}/users/${b.id}`)).status, 204);
      assert.equal((await h.admin.send('HEAD', `/v3/groups/${g.id}/users/${a.id}`)).status, 204);
      assert.equal((await h.admin.send('GET', `/v3/groups/${g.id}/users/${a.id}`)).status, 204);

      const list = await h.admin.call('GET', `/v3/groups/${g.id}/users`);
      assert.deepEqual(list.body.users.map((u: any) => u.id).sort(), [a.id, b.id].sort());
      const shownA = list.body.users.find((u: any) => u.id === a.id);
      assert.equal(shownA.email, 'a@example.org');
      for (const u of list.body.users) {
        assert.equal('password' in u, false);
        assert.equal('password_hash' in u, false);
      }
      assert.deepEqual((await h.admin.call('GET', `/v3/groups/${g.id}/users?name=${b.name}`)).body.users.map((u: any) => u.id), [b.id]);
      assert.deepEqual((await h.admin.call('GET', `/v3/users/${a.id}/groups`)).body.groups.map((x: any) => x.id), [g.id]);

      assert.equal((await h.admin.send('DELETE', `/v3/groups/${g.id}/users/${a.id}`)).status, 204);
      assert.equal((await h.admin.send('HEAD', `/v3/groups/${g.id}/users/${a.id}`)).status, 404);
      const again = await h.admin.send('DELETE', `/v3/groups/${g.id}/users/${a.id}`);
      assert.equal(again.status, 404);
      assert.deepEqual((await h.admin.call('GET', `/v3/groups/${g.id}/users`)).body.users.map((u: any) => u.id), [b.id]);
    });

    test('leaving a group that gave roles voids the user\'s tokens', async () => {
      const m = await memberThroughGroup(h);
      assert.equal((await h.admin.validate(m.token)).status, 200);
      assert.equal((await h.admin.send('DELETE', `/v3/groups/${m.group.id}/users/${m.user.id}`)).status, 204);
      assert.equal((await h.admin.validate(m.token)).status, 404);
      const relogin = await login(h, { id: m.user.id, password: m.password }, { project: { id: m.project.id } });
      assert.equal(relogin.status, 401);
    });

    test('deleting a group removes its memberships and assignments and voids its members\' tokens', async () => {
      const m = await memberThroughGroup(h);
      const db = h.service.deps.store.db;
      assert.equal((await h.admin.validate(m.token)).status, 200);
      assert.equal((await h.admin.send('DELETE', `/v3/groups/${m.group.id}`)).status, 204);
      assert.equal((await h.admin.validate(m.token)).status, 404);
      assert.equal((await db.selectFrom('user_group_membership').select('user_id').where('group_id', '=', m.group.id).execute()).length, 0);
      assert.equal((await db.selectFrom('assignment').select('role_id').where('actor_id', '=', m.group.id).execute()).length, 0);
      assert.deepEqual((await h.admin.call('GET', `/v3/users/${m.user.id}/groups`)).body.groups, []);
      assert.deepEqual((await h.admin.call('GET', `/v3/users/${m.user.id}/projects`)).body.projects, []);
      // the user itself is still there
      assert.equal((await h.admin.send('GET', `/v3/users/${m.user.id}`)).status, 200);
    });

    test('deleting a user removes it from its groups', async () => {
      const g = await createGroup(h);
      const u = await createUser(h);
      await h.admin.call('PUT', `/v3/groups/${g.id}/users/${u.id}`);
      assert.equal((await h.admin.send('DELETE', `/v3/users/${u.id}`)).status, 204);
      assert.deepEqual((await h.admin.call('GET', `/v3/groups/${g.id}/users`)).body.users, []);
      assert.equal((await h.admin.send('GET', `/v3/groups/${g.id}/users/${u.id}`)).status, 404);
    });

    test('a member may not manage or read groups', async () => {
      const m = await memberThroughGroup(h);
      const as = { token: m.token };
      assert.equal((await h.anonymous().send('POST', '/v3/groups', { ...as, body: { group: { name: unique('g') } } })).status, 403);
      assert.equal((await h.anonymous().send('GET', '/v3/groups', as)).status, 403);
      assert.equal((await h.anonymous().send('GET', `/v3/groups/${m.group.id}`, as)).status, 403);
      assert.equal((await h.anonymous().send('PATCH', `/v3/groups/${m.group.id}`, { ...as, body: { group: { name: 'x' } } })).status, 403);
      assert.equal((await h.anonymous().send('DELETE', `/v3/groups/${m.group.id}`, as)).status, 403);
      assert.equal((await h.anonymous().send('PUT', `/v3/groups/${m.group.id}/users/${h.adminUserId}`, as)).status, 403);
      assert.equal((await h.anonymous().send('DELETE', `/v3/groups/${m.group.id}/users/${m.user.id}`, as)).status, 403);
      // but may list its own groups
      const own = await h.anonymous().send('GET', `/v3/users/${m.user.id}/groups`, as);
      assert.equal(own.status, 200);
      assert.deepEqual(own.body.groups.map((g: any) => g.id), [m.group.id]);
      assert.equal((await h.anonymous().send('GET', '/v3/groups')).status, 401);
    });
  });
}
