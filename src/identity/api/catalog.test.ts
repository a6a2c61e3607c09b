import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, ADMIN_PASSWORD, type IdentityHarness } from '../testing/harness.ts';
import { grant, makeProject, makeUser } from '../testing/fixtures.ts';

for (const backend of await identityBackends()) {
  describe(`regions, services and endpoints on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    let memberToken: string;
    before(async () => {
      h = await startIdentity(backend.url);
      const projectId = await makeProject(h, 'cat-proj');
      const uid = (await makeUser(h, { name: 'cat-member', password: 'member-pw' })).id;
      await grant(h, 'UserProject', uid, projectId, 'member');
      memberToken = (await h.anonymous().passwordLogin({ username: 'cat-member', password: 'member-pw', projectId })).token;
    });
    after(async () => { await h?.stop(); });

    test('region create (generated and given ids), show, list by parent, update, delete', async () => {
      const gen = await h.admin.call('POST', '/v3/regions', { body: { region: { description: 'generated' } } });
      assert.equal(gen.status, 201);
      assert.match(gen.body.region.id, /^[0-9a-f]{32}$/);
      assert.equal(gen.body.region.parent_region_id, null);
      assert.match(gen.body.region.links.self, new RegExp(`/v3/regions/${gen.body.region.id}$`));

      const parent = await h.admin.call('POST', '/v3/regions', { body: { region: { id: 'EU' } } });
      assert.equal(parent.body.region.description, '');
      const child = await h.admin.call('PUT', '/v3/regions/EU-West', { body: { region: { description: 'west', parent_region_id: 'EU', rack: 7 } } });
      assert.equal(child.status, 201);
      assert.deepEqual({ ...child.body.region, links: undefined }, { id: 'EU-West', description: 'west', parent_region_id: 'EU', rack: 7, links: undefined });

      const shown = await h.admin.call('GET', '/v3/regions/EU-West');
      assert.equal(shown.body.region.description, 'west');
      const kids = await h.admin.call('GET', '/v3/regions?parent_region_id=EU');
      assert.deepEqual(kids.body.regions.map((r: any) => r.id), ['EU-West']);
      const all = await h.admin.call('GET', '/v3/regions');
      assert.ok(all.body.regions.some((r: any) => r.id === 'RegionOne'));
      assert.ok(all.body.links.self.endsWith('/v3/regions'));

      const upd = await h.admin.call('PATCH', '/v3/regions/EU-West', { body: { region: { description: null } } });
      assert.equal(upd.body.region.description, '');
      assert.equal(upd.body.region.parent_region_id, 'EU');
      assert.equal(upd.body.region.rack, 7);

      // deleting a parent takes its subtree along
      assert.equal((await h.admin.send('DELETE', '/v3/regions/EU')).status, 204);
      assert.equal((await h.admin.send('GET', '/v3/regions/EU-West')).status, 404);
      assert.equal((await h.admin.send('DELETE', `/v3/regions/${gen.body.region.id}`)).status, 204);
    });

    test('region errors: 404 parent, 409 duplicate, 400 conflicting ids and circles, 403 with endpoints', async () => {
      const noParent = await h.admin.send('POST', '/v3/regions', { body: { region: { id: 'orphan', parent_region_id: 'nowhere' } } });
      assert.equal(noParent.status, 404);
      assert.equal(noParent.body.error.code, 404);
      assert.equal((await h.admin.send('POST', '/v3/regions', { body: { region: { id: 'RegionOne' } } })).status, 409);
      const dupPut = await h.admin.send('PUT', '/v3/regions/RegionOne', { body: { region: {} } });
      assert.equal(dupPut.status, 409);
      assert.equal(dupPut.body.error.title, 'Conflict');
      assert.equal((await h.admin.send('PUT', '/v3/regions/a', { body: { region: { id: 'b' } } })).status, 400);
      assert.equal((await h.admin.send('GET', '/v3/regions/nowhere')).status, 404);
      assert.equal((await h.admin.send('PATCH', '/v3/regions/nowhere', { body: { region: { description: 'x' } } })).status, 404);
      assert.equal((await h.admin.send('DELETE', '/v3/regions/nowhere')).status, 404);

      await h.admin.call('PUT', '/v3/regions/top', { body: { region: {} } });
      await h.admin.call('PUT', '/v3/regions/mid', { body: { region: { parent_region_id: 'top' } } });
      await h.admin.call('PUT', '/v3/regions/low', { body: { region: { parent_region_id: 'mid' } } });
      assert.equal((await h.admin.send('PATCH', '/v3/regions/top', { body: { region: { parent_region_id: 'low' } } })).status, 400);
      assert.equal((await h.admin.send('PATCH', '/v3/regions/top', { body: { region: { parent_region_id: 'top' } } })).status, 400);
      assert.equal((await h.admin.send('PATCH', '/v3/regions/top', { body: { region: { parent_region_id: 'ghost' } } })).status, 404);
      assert.equal((await h.admin.send('PATCH', '/v3/regions/top', { body: { region: { id: 'other' } } })).status, 400);

      const svc = await h.admin.call('POST', '/v3/services', { body: { service: { type: 'region-test' } } });
      const ep = await h.admin.call('POST', '/v3/endpoints', {
        body: { endpoint: { service_id: svc.body.service.id, interface: 'public', url: 'http://low:1', region_id: 'low' } },
      });
      const refused = await h.admin.send('DELETE', '/v3/regions/top');
      assert.equal(refused.status, 403);
      assert.equal((await h.admin.send('GET', '/v3/regions/low')).status, 200);
      await h.admin.call('DELETE', `/v3/endpoints/${ep.body.endpoint.id}`);
      assert.equal((await h.admin.send('DELETE', '/v3/regions/top')).status, 204);
      assert.equal((await h.admin.send('GET', '/v3/regions/mid')).status, 404);
      await h.admin.call('DELETE', `/v3/services/${svc.body.service.id}`);
    });

    test('service create, show, list by type and name, update, delete (with its endpoints)', async () => {
      const created = await h.admin.call('POST', '/v3/services', {
        body: { service: { type: 'compute', name: 'nova', description: 'Compute', owner: 'ops' } },
      });
      assert.equal(created.status, 201);
      const s = created.body.service;
      assert.deepEqual({ ...s, id: undefined, links: undefined }, {
        id: undefined, links: undefined, type: 'compute', name: 'nova', description: 'Compute', enabled: true, owner: 'ops',
      });
      const bare = (await h.admin.call('POST', '/v3/services', { body: { service: { type: 'image', enabled: false } } })).body.service;
      assert.equal(bare.name, '');
      assert.equal(bare.enabled, false);
      assert.equal('description' in bare, false);

      const byType = await h.admin.call('GET', '/v3/services?type=compute');
      assert.deepEqual(byType.body.services.map((x: any) => x.id), [s.id]);
      const byName = await h.admin.call('GET', '/v3/services?name=keystone');
      assert.deepEqual(byName.body.services.map((x: any) => x.type), ['identity']);
      assert.equal((await h.admin.call('GET', `/v3/services/${s.id}`)).body.service.name, 'nova');

      const upd = await h.admin.call('PATCH', `/v3/services/${s.id}`, { body: { service: { name: 'nova2', enabled: false } } });
      assert.equal(upd.body.service.name, 'nova2');
      assert.equal(upd.body.service.enabled, false);
      assert.equal(upd.body.service.owner, 'ops');
      assert.equal(upd.body.service.description, 'Compute');

      const ep = await h.admin.call('POST', '/v3/endpoints', { body: { endpoint: { service_id: s.id, interface: 'public', url: 'http://nova:8774/v2.1' } } });
      assert.equal((await h.admin.send('DELETE', `/v3/services/${s.id}`)).status, 204);
      assert.equal((await h.admin.send('GET', `/v3/services/${s.id}`)).status, 404);
      assert.equal((await h.admin.send('GET', `/v3/endpoints/${ep.body.endpoint.id}`)).status, 404);
      await h.admin.call('DELETE', `/v3/services/${bare.id}`);
    });

    test('service errors: 400 missing or bad fields and malformed JSON, 404 unknown', async () => {
      assert.equal((await h.admin.send('POST', '/v3/services', { body: { service: { name: 'x' } } })).status, 400);
      assert.equal((await h.admin.send('POST', '/v3/services', { body: { service: { type: 'x', enabled: 'yes' } } })).status, 400);
      assert.equal((await h.admin.send('POST', '/v3/services', { body: { service: { type: '' } } })).status, 400);
      assert.equal((await h.admin.send('POST', '/v3/services', { body: {} })).status, 400);
      const bad = await h.admin.send('POST', '/v3/services', { rawBody: '{"service": {"type": ' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.title, 'Bad Request');
      assert.equal((await h.admin.send('GET', '/v3/services/nope')).status, 404);
      assert.equal((await h.admin.send('PATCH', '/v3/services/nope', { body: { service: { name: 'n' } } })).status, 404);
      assert.equal((await h.admin.send('DELETE', '/v3/services/nope')).status, 404);
    });

    test('endpoint create, show, list with filters, update, delete', async () => {
      const svc = (await h.admin.call('POST', '/v3/services', { body: { service: { type: 'network', name: 'neutron' } } })).body.service;
      await h.admin.call('PUT', '/v3/regions/RegionTwo', { body: { region: {} } });
      const pub = await h.admin.call('POST', '/v3/endpoints', {
        body: { endpoint: { service_id: svc.id, interface: 'public', url: 'http://net:9696', region_id: 'RegionOne' } },
      });
      assert.equal(pub.status, 201);
      const e = pub.body.endpoint;
      assert.deepEqual({ ...e, id: undefined, links: undefined }, {
        id: undefined, links: undefined, interface: 'public', region_id: 'RegionOne', region: 'RegionOne', service_id: svc.id, url: 'http://net:9696', enabled: true,
      });
      assert.match(e.links.self, new RegExp(`/v3/endpoints/${e.id}$`));
      const internal = (await h.admin.call('POST', '/v3/endpoints', {
        body: { endpoint: { service_id: svc.id, interface: 'internal', url: 'http://net-int:9696', region_id: 'RegionTwo', enabled: false } },
      })).body.endpoint;
      assert.equal(internal.enabled, false);

      const ids = async (q: string) => (await h.admin.call('GET', `/v3/endpoints${q}`)).body.endpoints.map((x: any) => x.id).sort();
      assert.deepEqual(await ids(`?service_id=${svc.id}`), [e.id, internal.id].sort());
      assert.deepEqual(await ids(`?service_id=${svc.id}&interface=internal`), [internal.id]);
      assert.deepEqual(await ids(`?service_id=${svc.id}&region_id=RegionOne`), [e.id]);
      assert.equal((await ids('?interface=admin')).length, 1); // the bootstrap identity admin endpoint

      const upd = await h.admin.call('PATCH', `/v3/endpoints/${internal.id}`, { body: { endpoint: { url: 'http://net-int:9697', enabled: true, region_id: null } } });
      assert.equal(upd.body.endpoint.url, 'http://net-int:9697');
      assert.equal(upd.body.endpoint.enabled, true);
      assert.equal(upd.body.endpoint.region_id, null);
      assert.equal((await h.admin.call('GET', `/v3/endpoints/${internal.id}`)).body.endpoint.url, 'http://net-int:9697');

      // the legacy `region` attribute makes its region when missing (as Keystone, for v2-style clients)
      const legacy = await h.admin.call('POST', '/v3/endpoints', { body: { endpoint: { service_id: svc.id, interface: 'admin', url: 'http://net-adm:9696', region: 'Legacy' } } });
      assert.equal(legacy.body.endpoint.region_id, 'Legacy');
      assert.equal((await h.admin.send('GET', '/v3/regions/Legacy')).status, 200);

      assert.equal((await h.admin.send('DELETE', `/v3/endpoints/${internal.id}`)).status, 204);
      assert.equal((await h.admin.send('GET', `/v3/endpoints/${internal.id}`)).status, 404);
      await h.admin.call('DELETE', `/v3/services/${svc.id}`);
    });

    test('endpoint errors: 400 bad interface, missing fields, unknown service or region, bad URL; 404 unknown', async () => {
      const svc = (await h.admin.call('POST', '/v3/services', { body: { service: { type: 'volumev3' } } })).body.service;
      const post = (endpoint: Record<string, unknown>) => h.admin.send('POST', '/v3/endpoints', { body: { endpoint } });
      const ok = { service_id: svc.id, interface: 'public', url: 'http://vol:8776/v3/$(project_id)s' };
      assert.equal((await post({ ...ok, interface: 'external' })).status, 400);
      assert.equal((await post({ ...ok, interface: undefined })).status, 400);
      assert.equal((await post({ ...ok, url: undefined })).status, 400);
      assert.equal((await post({ ...ok, service_id: undefined })).status, 400);
      assert.equal((await post({ ...ok, service_id: 'ghost' })).status, 400);
      assert.equal((await post({ ...ok, region_id: 'ghost' })).status, 400);
      assert.equal((await post({ ...ok, url: 'not a url' })).status, 400);
      assert.equal((await post({ ...ok, url: 'http://vol/$(password)s' })).status, 400);
      assert.equal((await post({ ...ok, enabled: 'true' })).status, 400);
      assert.equal((await h.admin.send('POST', '/v3/endpoints', { rawBody: 'nonsense' })).status, 400);
      const created = await post(ok);
      assert.equal(created.status, 201);
      const id = created.body.endpoint.id;
      assert.equal((await h.admin.send('PATCH', `/v3/endpoints/${id}`, { body: { endpoint: { interface: 'outer' } } })).status, 400);
      assert.equal((await h.admin.send('PATCH', `/v3/endpoints/${id}`, { body: { endpoint: { service_id: 'ghost' } } })).status, 400);
      assert.equal((await h.admin.send('GET', '/v3/endpoints/ghost')).status, 404);
      assert.equal((await h.admin.send('PATCH', '/v3/endpoints/ghost', { body: { endpoint: { url: 'http://x:1' } } })).status, 404);
      assert.equal((await h.admin.send('DELETE', '/v3/endpoints/ghost')).status, 404);
      await h.admin.call('DELETE', `/v3/services/${svc.id}`);
    });

    test('an enabled service and endpoint show in new tokens and /v3/auth/catalog; disabled ones do not', async () => {
      const svc = (await h.admin.call('POST', '/v3/services', { body: { service: { type: 'placement', name: 'placement' } } })).body.service;
      const ep = (await h.admin.call('POST', '/v3/endpoints', {
        body: { endpoint: { service_id: svc.id, interface: 'public', url: 'http://placement:8778', region_id: 'RegionOne' } },
      })).body.endpoint;
      const entry = (catalog: any[]) => catalog.find((c: any) => c.id === svc.id);

      const token = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      const inToken = entry(token.body.catalog);
      assert.deepEqual(inToken, {
        id: svc.id, type: 'placement', name: 'placement',
        endpoints: [{ id: ep.id, interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'http://placement:8778' }],
      });
      const auth = await h.admin.call('GET', '/v3/auth/catalog', { token: memberToken });
      assert.deepEqual(entry(auth.body.catalog), inToken);

      await h.admin.call('PATCH', `/v3/endpoints/${ep.id}`, { body: { endpoint: { enabled: false } } });
      const noEndpoint = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      assert.deepEqual(entry(noEndpoint.body.catalog)?.endpoints ?? [], []);

      await h.admin.call('PATCH', `/v3/endpoints/${ep.id}`, { body: { endpoint: { enabled: true } } });
      await h.admin.call('PATCH', `/v3/services/${svc.id}`, { body: { service: { enabled: false } } });
      const noService = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      assert.equal(entry(noService.body.catalog), undefined);
      assert.equal(entry((await h.admin.call('GET', '/v3/auth/catalog')).body.catalog), undefined);

      await h.admin.call('DELETE', `/v3/services/${svc.id}`);
    });

    test('a member may read regions but not manage the catalog (403)', async () => {
      const as = { token: memberToken };
      assert.equal((await h.admin.send('GET', '/v3/regions', as)).status, 200);
      assert.equal((await h.admin.send('GET', '/v3/regions/RegionOne', as)).status, 200);
      assert.equal((await h.admin.send('POST', '/v3/regions', { ...as, body: { region: { id: 'mine' } } })).status, 403);
      assert.equal((await h.admin.send('PATCH', '/v3/regions/RegionOne', { ...as, body: { region: { description: 'x' } } })).status, 403);
      assert.equal((await h.admin.send('DELETE', '/v3/regions/RegionOne', as)).status, 403);
      assert.equal((await h.admin.send('GET', '/v3/services', as)).status, 403);
      assert.equal((await h.admin.send('POST', '/v3/services', { ...as, body: { service: { type: 'x' } } })).status, 403);
      assert.equal((await h.admin.send('GET', '/v3/endpoints', as)).status, 403);
      const svc = (await h.admin.call('GET', '/v3/services?type=identity')).body.services[0];
      assert.equal((await h.admin.send('POST', '/v3/endpoints', { ...as, body: { endpoint: { service_id: svc.id, interface: 'public', url: 'http://x:1' } } })).status, 403);
      assert.equal((await h.admin.send('DELETE', `/v3/services/${svc.id}`, as)).status, 403);
      assert.equal((await h.anonymous().send('GET', '/v3/services')).status, 401);
    });
  });
}
