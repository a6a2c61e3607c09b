import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, ADMIN_PASSWORD, type IdentityHarness } from '../testing/harness.ts';
import { grant, memberUser } from '../testing/fixtures.ts';

for (const backend of await identityBackends()) {
  describe(`catalog URL substitution on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    let serviceId: string;
    const urls: Record<string, string> = {
      public: 'http://127.0.0.1:8080/v1/AUTH_$(project_id)s',
      internal: 'http://swift-int:8080/v1/AUTH_%(tenant_id)s',
      admin: 'http://swift-adm:8080/users/$(user_id)s',
    };
    /** The object-store entry's endpoint URLs by interface. */
    const objectStore = (catalog: any[]) => {
      const entry = catalog.find((s: any) => s.id === serviceId);
      assert.ok(entry, 'the service is in the catalog');
      return Object.fromEntries(entry.endpoints.map((e: any) => [e.interface, e.url]));
    };

    before(async () => {
      h = await startIdentity(backend.url);
      serviceId = (await h.admin.call('POST', '/v3/services', { body: { service: { type: 'object-store', name: 'swift' } } })).body.service.id;
      for (const [iface, url] of Object.entries(urls)) {
        await h.admin.call('POST', '/v3/endpoints', { body: { endpoint: { service_id: serviceId, interface: iface, url, region_id: 'RegionOne' } } });
      }
      await grant(h, 'UserDomain', h.adminUserId, 'default', 'admin');
    });
    after(async () => { await h?.stop(); });

    test("a project-scoped token's catalog has the project and user ids filled in", async () => {
      const alice = await memberUser(h);
      const login = await h.anonymous().passwordLogin({ username: alice.user.name, password: alice.password, projectId: alice.project.id });
      const expected = {
        public: `http://127.0.0.1:8080/v1/AUTH_${alice.project.id}`,
        internal: `http://swift-int:8080/v1/AUTH_${alice.project.id}`,
        admin: `http://swift-adm:8080/users/${alice.user.id}`,
      };
      assert.deepEqual(objectStore(login.body.catalog), expected);
      assert.deepEqual(objectStore((await h.admin.call('GET', '/v3/auth/catalog', { token: alice.token })).body.catalog), expected);
      assert.deepEqual(objectStore((await h.admin.call('GET', '/v3/auth/tokens', { headers: { 'x-subject-token': alice.token } })).body.token.catalog), expected);
    });

    test('a domain- or system-scoped token has no project: endpoints that need one are left out, the others stay', async () => {
      const domain = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, domain: 'Default' });
      assert.equal(domain.body.domain.id, 'default');
      const onlyUser = { admin: `http://swift-adm:8080/users/${h.adminUserId}` };
      assert.deepEqual(objectStore(domain.body.catalog), onlyUser);
      assert.deepEqual(objectStore((await h.admin.call('GET', '/v3/auth/catalog', { token: domain.token })).body.catalog), onlyUser);
      const system = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, system: true });
      assert.deepEqual(objectStore(system.body.catalog), onlyUser);
    });

    test('/v3/endpoints shows the URLs as stored', async () => {
      const listed = (await h.admin.call('GET', `/v3/endpoints?service_id=${serviceId}`)).body.endpoints;
      assert.deepEqual(Object.fromEntries(listed.map((e: any) => [e.interface, e.url])), urls);
    });

    test('an endpoint URL with a stray % or an unknown name is refused (400)', async () => {
      for (const url of ['http://x:1/a%20b', 'http://x:1/$(project_id)', 'http://x:1/%(password)s']) {
        const res = await h.admin.send('POST', '/v3/endpoints', { body: { endpoint: { service_id: serviceId, interface: 'public', url } } });
        assert.equal(res.status, 400, url);
      }
      const escaped = await h.admin.send('POST', '/v3/endpoints', { body: { endpoint: { service_id: serviceId, interface: 'public', url: 'http://x:1/a%%20b' } } });
      assert.equal(escaped.status, 201);
      const login = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      const entry = login.body.catalog.find((s: any) => s.id === serviceId);
      assert.ok(entry.endpoints.some((e: any) => e.url === 'http://x:1/a%20b'));
    });
  });
}
