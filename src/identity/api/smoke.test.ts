import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, ADMIN_PASSWORD, type IdentityHarness } from '../testing/harness.ts';

for (const backend of await identityBackends()) {
  describe(`identity tokens and projects on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    before(async () => { h = await startIdentity(backend.url); });
    after(async () => { await h?.stop(); });

    test('password auth issues a project-scoped token with catalog and roles', async () => {
      const res = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      assert.ok(res.token.length > 100);
      assert.deepEqual(res.body.roles.map((r: any) => r.name).sort(), ['admin', 'member', 'reader']);
      assert.equal(res.body.project.name, 'admin');
      assert.equal(res.body.catalog[0].type, 'identity');
      assert.match(res.body.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    });

    test('project create, show, list, update, delete', async () => {
      const created = await h.admin.call('POST', '/v3/projects', { body: { project: { name: 'p1', description: 'd', tags: ['a'] } } });
      assert.equal(created.status, 201);
      const p = created.body.project;
      assert.equal(p.domain_id, 'default');
      assert.equal(p.parent_id, 'default');
      const dup = await h.admin.send('POST', '/v3/projects', { body: { project: { name: 'p1' } } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.title, 'Conflict');
      const list = await h.admin.call('GET', '/v3/projects?tags=a');
      assert.deepEqual(list.body.projects.map((x: any) => x.name), ['p1']);
      const upd = await h.admin.call('PATCH', `/v3/projects/${p.id}`, { body: { project: { enabled: false } } });
      assert.equal(upd.body.project.enabled, false);
      assert.equal((await h.admin.send('DELETE', `/v3/projects/${p.id}`)).status, 204);
      assert.equal((await h.admin.send('GET', `/v3/projects/${p.id}`)).status, 404);
    });

    test('a project acting as a domain is reachable through both APIs', async () => {
      const created = await h.admin.call('POST', '/v3/projects', { body: { project: { name: 'dom-as-project', is_domain: true } } });
      const d = created.body.project;
      assert.equal(d.is_domain, true);
      assert.equal(d.domain_id, null);
      const asProjects = await h.admin.call('GET', '/v3/projects?is_domain=true');
      assert.ok(asProjects.body.projects.some((p: any) => p.id === d.id && p.is_domain === true));
      const asDomains = await h.admin.call('GET', '/v3/domains');
      assert.ok(asDomains.body.domains.some((x: any) => x.id === d.id));
      assert.equal((await h.admin.send('DELETE', `/v3/projects/${d.id}`)).status, 403);
      const disabled = await h.admin.call('PATCH', `/v3/projects/${d.id}`, { body: { project: { enabled: false } } });
      assert.equal(disabled.body.project.enabled, false);
      assert.equal((await h.admin.send('DELETE', `/v3/projects/${d.id}`)).status, 204);
      assert.equal((await h.admin.send('GET', `/v3/domains/${d.id}`)).status, 404);
    });

    test('project tags one by one and all at once', async () => {
      const p = (await h.admin.call('POST', '/v3/projects', { body: { project: { name: 'tagged' } } })).body.project;
      const added = await h.admin.send('PUT', `/v3/projects/${p.id}/tags/blue`);
      assert.equal(added.status, 201);
      assert.equal(added.body, '');
      assert.equal((await h.admin.send('GET', `/v3/projects/${p.id}/tags/blue`)).status, 204);
      const all = await h.admin.call('PUT', `/v3/projects/${p.id}/tags`, { body: { tags: ['x', 'y'] } });
      assert.deepEqual(all.body.tags, ['x', 'y']);
      assert.equal((await h.admin.send('GET', `/v3/projects/${p.id}/tags/blue`)).status, 404);
      assert.equal((await h.admin.send('PUT', `/v3/projects/${p.id}/tags`, { body: { tags: ['a,b'] } })).status, 400);
      assert.equal((await h.admin.send('DELETE', `/v3/projects/${p.id}/tags`)).status, 204);
      assert.deepEqual((await h.admin.call('GET', `/v3/projects/${p.id}/tags`)).body.tags, []);
    });

    test('wrong password and unknown user get the same 401', async () => {
      const a = await h.anonymous().send('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'nope' } } } } } });
      const b = await h.anonymous().send('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'ghost', domain: { id: 'default' }, password: 'nope' } } } } } });
      assert.equal(a.status, 401);
      assert.deepEqual(a.body, b.body);
    });
  });
}
