import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, ADMIN_PASSWORD, type IdentityHarness } from '../testing/harness.ts';
import { grant, makeProject, makeUser } from '../testing/fixtures.ts';
import { rotate } from '../token/key-repository.ts';

const pw = (name: string, password: string, scope?: unknown) => ({
  auth: { identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } }, ...(scope ? { scope } : {}) },
});

for (const backend of await identityBackends()) {
  describe(`tokens on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    let projectId: string;
    before(async () => {
      h = await startIdentity(backend.url);
      projectId = await makeProject(h, 'tok-proj');
      const uid = (await makeUser(h, { name: 'tok-member', password: 'member-pw' })).id;
      await grant(h, 'UserProject', uid, projectId, 'member');
    });
    after(async () => { await h?.stop(); });

    test('validate, check and revoke a token', async () => {
      const t = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      const v = await h.admin.validate(t.token);
      assert.equal(v.status, 200);
      assert.equal(v.headers.get('x-subject-token'), t.token);
      assert.equal(v.body.token.user.name, 'admin');
      assert.ok(Array.isArray(v.body.token.catalog));
      const nocat = await h.admin.validate(t.token, { nocatalog: true });
      assert.equal(nocat.body.token.catalog, undefined);
      assert.equal((await h.admin.send('HEAD', '/v3/auth/tokens', { headers: { 'x-subject-token': t.token } })).status, 200);
      assert.equal((await h.admin.revoke(t.token)).status, 204);
      assert.equal((await h.admin.validate(t.token)).status, 404);
      assert.equal((await h.admin.send('GET', '/v3/projects', { token: t.token })).status, 401);
    });

    test('unscoped, domain-scoped and system-scoped tokens', async () => {
      const un = await h.admin.authenticate(pw('tok-member', 'member-pw'));
      assert.equal(un.body.project, undefined);
      assert.equal(un.body.roles, undefined);
      assert.equal(un.body.catalog, undefined);
      const sys = await h.admin.authenticate(pw('admin', ADMIN_PASSWORD, { system: { all: true } }));
      assert.deepEqual(sys.body.system, { all: true });
      const noDomainRole = await h.anonymous().send('POST', '/v3/auth/tokens', { body: pw('tok-member', 'member-pw', { domain: { id: 'default' } }) });
      assert.equal(noDomainRole.status, 401);
    });

    test('rescoping an unscoped token keeps its expiry and audit chain', async () => {
      const un = await h.admin.authenticate(pw('tok-member', 'member-pw'));
      const scoped = await h.admin.authenticate({
        auth: { identity: { methods: ['token'], token: { id: un.token } }, scope: { project: { id: projectId } } },
      });
      assert.equal(scoped.body.project.id, projectId);
      assert.equal(scoped.body.expires_at, un.body.expires_at);
      assert.equal(scoped.body.audit_ids[1], un.body.audit_ids[0]);
      assert.deepEqual(scoped.body.roles.map((r: any) => r.name).sort(), ['member', 'reader']);
    });

    test('a member cannot do admin things (403) but can read its project', async () => {
      const m = await h.admin.authenticate(pw('tok-member', 'member-pw', { project: { id: projectId } }));
      const create = await h.admin.send('POST', '/v3/projects', { token: m.token, body: { project: { name: 'nope' } } });
      assert.equal(create.status, 403);
      assert.equal(create.body.error.title, 'Forbidden');
      assert.equal((await h.admin.send('GET', `/v3/projects/${projectId}`, { token: m.token })).status, 200);
      assert.equal((await h.admin.send('GET', `/v3/projects/${h.adminProjectId}`, { token: m.token })).status, 403);
      assert.equal((await h.admin.send('GET', '/v3/projects', { token: m.token })).status, 403);
    });

    test('bad requests are 400 and bad credentials 401, never 500', async () => {
      const anon = h.anonymous();
      const cases: [unknown, number][] = [
        [{}, 400],
        [{ auth: {} }, 400],
        [{ auth: { identity: { methods: 'password' } } }, 400],
        [{ auth: { identity: { methods: ['password'] } } }, 400],
        [{ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' } } } } } }, 400],
        [{ auth: { identity: { methods: ['totp'], totp: {} } } }, 401],
        [pw('admin', ADMIN_PASSWORD, { project: { name: 'admin' } }), 400],
        [pw('admin', ADMIN_PASSWORD, { project: { id: 'no-such-project' } }), 401],
        [pw('admin', ADMIN_PASSWORD, { project: { id: projectId }, domain: { id: 'default' } }), 400],
        [pw('admin', 'wrong'), 401],
      ];
      for (const [body, status] of cases) {
        const res = await anon.send('POST', '/v3/auth/tokens', { body });
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal(res.body.error.code, status);
      }
      const malformed = await anon.send('POST', '/v3/auth/tokens', { rawBody: '{"auth": ' });
      assert.equal(malformed.status, 400);
      for (const token of ['garbage', 'gAAAAABnotreally', 'x'.repeat(5000), '']) {
        const res = await anon.send('GET', '/v3/projects', { token });
        assert.equal(res.status, 401, token.slice(0, 10));
      }
      assert.equal((await h.admin.validate('garbage')).status, 404);
    });

    test('a token survives a key rotation', async () => {
      const before = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      // the harness keeps keys in its state dir
      const dir = (h.service.deps.tokens as any).provider.keyRepository as string;
      rotate(dir, 3);
      (h.service.deps.tokens as any).provider.reload();
      assert.equal((await h.admin.validate(before.token)).status, 200);
      const after = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
      assert.equal((await h.admin.validate(after.token)).status, 200);
    });

    test('auth/catalog, auth/projects, auth/domains, auth/system', async () => {
      const m = await h.admin.authenticate(pw('tok-member', 'member-pw', { project: { id: projectId } }));
      const cat = await h.admin.call('GET', '/v3/auth/catalog', { token: m.token });
      assert.equal(cat.body.catalog[0].type, 'identity');
      const projects = await h.admin.call('GET', '/v3/auth/projects', { token: m.token });
      assert.deepEqual(projects.body.projects.map((p: any) => p.id), [projectId]);
      const domains = await h.admin.call('GET', '/v3/auth/domains', { token: m.token });
      assert.deepEqual(domains.body.domains, []);
      const sys = await h.admin.call('GET', '/v3/auth/system');
      assert.deepEqual(sys.body.system, [{ all: true }]);
    });
  });
}

describe('token expiry', () => {
  let h: IdentityHarness;
  before(async () => { h = await startIdentity('sqlite://', { token_expiration: '1' }); });
  after(async () => { await h?.stop(); });

  test('an expired token is refused, but allow_expired still validates it', async () => {
    const t = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal((await h.anonymous().send('GET', '/v3/projects', { token: t.token })).status, 401);
    const fresh = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
    h.admin.token = fresh.token;
    assert.equal((await h.admin.validate(t.token)).status, 404);
    assert.equal((await h.admin.validate(t.token, { allowExpired: true })).status, 200);
  });
});
