import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIdentity, identityBackends, type IdentityHarness } from '../testing/harness.ts';
import { grant, makeProject, makeUser } from '../testing/fixtures.ts';

/** The body the `openstack` CLI (v3applicationcredential) sends. */
const byId = (id: string, secret: string) => ({
  auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } },
});
const byName = (name: string, user: Record<string, unknown>, secret: string) => ({
  auth: { identity: { methods: ['application_credential'], application_credential: { name, user, secret } } },
});
const names = (roles: { name: string }[]) => roles.map((r) => r.name).sort();

for (const backend of await identityBackends()) {
  describe(`application credentials on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    let projectId: string;
    let userId: string;
    let otherId: string;
    let userToken: string;
    const base = () => `/v3/users/${userId}/application_credentials`;
    const create = (body: Record<string, unknown>, token = userToken) =>
      h.admin.send('POST', base(), { token, body: { application_credential: body } });

    before(async () => {
      h = await startIdentity(backend.url);
      projectId = await makeProject(h, 'ac-proj');
      userId = (await makeUser(h, { name: 'ac-user', password: 'user-pw' })).id;
      await grant(h, 'UserProject', userId, projectId, 'member');
      otherId = (await makeUser(h, { name: 'ac-other', password: 'other-pw' })).id;
      await grant(h, 'UserProject', otherId, projectId, 'member');
      userToken = (await h.anonymous().passwordLogin({ username: 'ac-user', password: 'user-pw', projectId })).token;
    });
    after(async () => { await h?.stop(); });

    test('create shows the secret once; list and show never do', async () => {
      const res = await create({ name: 'monitoring', description: 'for monitoring' });
      assert.equal(res.status, 201);
      const c = res.body.application_credential;
      assert.match(c.id, /^[0-9a-f]{32}$/);
      assert.match(c.secret, /^[A-Za-z0-9_-]{80,}$/);
      assert.equal(c.name, 'monitoring');
      assert.equal(c.description, 'for monitoring');
      assert.equal(c.project_id, projectId);
      assert.equal(c.user_id, userId);
      assert.equal(c.expires_at, null);
      assert.equal(c.unrestricted, false);
      assert.deepEqual(names(c.roles), ['member', 'reader']);
      assert.equal(c.roles[0].domain_id, null);
      assert.ok(c.links.self.endsWith(`/v3/users/${userId}/application_credentials/${c.id}`));

      const shown = await h.admin.call('GET', `${base()}/${c.id}`, { token: userToken });
      assert.equal(shown.body.application_credential.secret, undefined);
      assert.deepEqual({ ...shown.body.application_credential }, (({ secret: _s, ...rest }) => rest)(c));
      const list = await h.admin.call('GET', base(), { token: userToken });
      assert.ok(list.body.application_credentials.some((x: any) => x.id === c.id));
      assert.ok(list.body.application_credentials.every((x: any) => x.secret === undefined));
      const filtered = await h.admin.call('GET', `${base()}?name=monitoring`, { token: userToken });
      assert.deepEqual(filtered.body.application_credentials.map((x: any) => x.id), [c.id]);
      // an admin may look, too
      assert.equal((await h.admin.send('GET', `${base()}/${c.id}`)).status, 200);
      const secretHash = await h.service.deps.store.db.selectFrom('application_credential').select('secret_hash').where('id', '=', c.id).executeTakeFirstOrThrow();
      assert.ok(secretHash.secret_hash.startsWith('$scrypt$'));
      assert.ok(!secretHash.secret_hash.includes(c.secret));
    });

    test('authenticating by id (CLI body) and by name + user gives a project token with the credential', async () => {
      const c = (await create({ name: 'auth-me', secret: 'my-own-secret' })).body.application_credential;
      assert.equal(c.secret, 'my-own-secret');
      const res = await h.anonymous().send('POST', '/v3/auth/tokens', { body: byId(c.id, 'my-own-secret') });
      assert.equal(res.status, 201);
      assert.ok(res.headers.get('x-subject-token'));
      const t = res.body.token;
      assert.deepEqual(t.methods, ['application_credential']);
      assert.equal(t.project.id, projectId);
      assert.equal(t.user.id, userId);
      assert.deepEqual(t.application_credential, { id: c.id, name: 'auth-me', restricted: true });
      assert.deepEqual(names(t.roles), ['member', 'reader']);
      assert.ok(Array.isArray(t.catalog));

      const viaUserId = await h.anonymous().send('POST', '/v3/auth/tokens', { body: byName('auth-me', { id: userId }, 'my-own-secret') });
      assert.equal(viaUserId.status, 201);
      assert.equal(viaUserId.body.token.application_credential.id, c.id);
      const viaUserName = await h.anonymous().send('POST', '/v3/auth/tokens', {
        body: byName('auth-me', { name: 'ac-user', domain: { id: 'default' } }, 'my-own-secret'),
      });
      assert.equal(viaUserName.status, 201);
      assert.equal(viaUserName.body.token.project.id, projectId);
    });

    test('wrong secret, unknown credential, or a requested scope: 401', async () => {
      const c = (await create({ name: 'wrong-secret' })).body.application_credential;
      assert.equal((await h.anonymous().send('POST', '/v3/auth/tokens', { body: byId(c.id, 'not-it') })).status, 401);
      assert.equal((await h.anonymous().send('POST', '/v3/auth/tokens', { body: byId('0'.repeat(32), c.secret) })).status, 401);
      assert.equal((await h.anonymous().send('POST', '/v3/auth/tokens', { body: byName('wrong-secret', { id: otherId }, c.secret) })).status, 401);
      const scoped = byId(c.id, c.secret) as any;
      scoped.auth.scope = { project: { id: projectId } };
      assert.equal((await h.anonymous().send('POST', '/v3/auth/tokens', { body: scoped })).status, 401);
    });

    test('roles must be a subset of the token roles; named roles bring what they imply', async () => {
      const reader = await create({ name: 'reader-only', roles: [{ name: 'reader' }] });
      assert.equal(reader.status, 201);
      assert.deepEqual(names(reader.body.application_credential.roles), ['reader']);
      const t = await h.anonymous().authenticate(byId(reader.body.application_credential.id, reader.body.application_credential.secret));
      assert.deepEqual(names(t.body.roles), ['reader']);

      const member = await create({ name: 'member-by-id', roles: [{ id: t.body.roles[0].id }, { name: 'member' }] });
      assert.equal(member.status, 201);
      assert.deepEqual(names(member.body.application_credential.roles), ['member', 'reader']);

      assert.equal((await create({ name: 'too-much', roles: [{ name: 'admin' }] })).status, 400);
      assert.equal((await create({ name: 'ghost-id', roles: [{ id: 'f'.repeat(32) }] })).status, 400);
      assert.equal((await create({ name: 'ghost-name', roles: [{ name: 'no-such-role' }] })).status, 404);
      assert.equal((await create({ name: 'bad-roles', roles: 'member' })).status, 400);
      assert.equal((await create({ name: 'bad-role', roles: [{}] })).status, 400);
    });

    test('expires_at is echoed to the microsecond, as tempest checks', async () => {
      const res = await create({ name: 'micro', expires_at: '2031-05-06T07:08:09.123456' });
      assert.equal(res.status, 201);
      assert.equal(res.body.application_credential.expires_at, '2031-05-06T07:08:09.123456');
      const zoned = await create({ name: 'zoned', expires_at: '2031-05-06T09:08:09+02:00' });
      assert.equal(zoned.body.application_credential.expires_at, '2031-05-06T07:08:09.000000');
    });

    test('create errors: 400 bad input, 409 duplicate name, 403 other user or unscoped token', async () => {
      assert.equal((await create({})).status, 400);
      assert.equal((await create({ name: '' })).status, 400);
      assert.equal((await create({ name: 'x', unrestricted: 'yes' })).status, 400);
      assert.equal((await create({ name: 'x', expires_at: 'next tuesday' })).status, 400);
      assert.equal((await create({ name: 'x', expires_at: '2001-01-01T00:00:00Z' })).status, 400);
      assert.equal((await create({ name: 'x', access_rules: [{ path: '/v2.1/servers', method: 'GET', service: 'compute' }] })).status, 400);
      assert.equal((await create({ name: 'x', colour: 'blue' })).status, 400);
      assert.equal((await h.admin.send('POST', base(), { token: userToken, rawBody: '{"application_credential": ' })).status, 400);

      assert.equal((await create({ name: 'twice' })).status, 201);
      const dup = await create({ name: 'twice' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.title, 'Conflict');

      // another user's path: denied even for an admin (a credential is its owner's)
      assert.equal((await h.admin.send('POST', `/v3/users/${otherId}/application_credentials`, { token: userToken, body: { application_credential: { name: 'n' } } })).status, 403);
      assert.equal((await h.admin.send('POST', base(), { body: { application_credential: { name: 'n' } } })).status, 403);
      const unscoped = await h.anonymous().authenticate({
        auth: { identity: { methods: ['password'], password: { user: { id: userId, password: 'user-pw' } } } },
      });
      assert.equal(unscoped.body.project, undefined);
      assert.equal((await create({ name: 'unscoped' }, unscoped.token)).status, 403);
      assert.equal((await h.anonymous().send('POST', base(), { body: { application_credential: { name: 'n' } } })).status, 401);
    });

    test('list and show: 403 for other users, 404 for unknown ones', async () => {
      const c = (await create({ name: 'private' })).body.application_credential;
      const otherToken = (await h.anonymous().passwordLogin({ username: 'ac-other', password: 'other-pw', projectId })).token;
      assert.equal((await h.admin.send('GET', base(), { token: otherToken })).status, 403);
      assert.equal((await h.admin.send('GET', `${base()}/${c.id}`, { token: otherToken })).status, 403);
      assert.equal((await h.admin.send('DELETE', `${base()}/${c.id}`, { token: otherToken })).status, 403);
      // the credential under another user's path is not found there
      assert.equal((await h.admin.send('GET', `/v3/users/${otherId}/application_credentials/${c.id}`)).status, 404);
      assert.equal((await h.admin.send('GET', `${base()}/${'0'.repeat(32)}`, { token: userToken })).status, 404);
      assert.equal((await h.admin.send('GET', `/v3/users/${'0'.repeat(32)}/application_credentials`)).status, 404);
      assert.equal((await h.admin.send('DELETE', `${base()}/${'0'.repeat(32)}`, { token: userToken })).status, 404);
    });

    test('a restricted credential cannot create or delete credentials; an unrestricted one can', async () => {
      const restricted = (await create({ name: 'restricted' })).body.application_credential;
      const rt = await h.anonymous().authenticate(byId(restricted.id, restricted.secret));
      const denied = await create({ name: 'spawned' }, rt.token);
      assert.equal(denied.status, 403);
      assert.equal((await h.admin.send('DELETE', `${base()}/${restricted.id}`, { token: rt.token })).status, 403);
      assert.equal((await h.admin.send('GET', `${base()}/${restricted.id}`, { token: rt.token })).status, 200);

      const free = (await create({ name: 'unrestricted', unrestricted: true, roles: [{ name: 'reader' }] })).body.application_credential;
      assert.equal(free.unrestricted, true);
      const ut = await h.anonymous().authenticate(byId(free.id, free.secret));
      assert.equal(ut.body.application_credential.restricted, false);
      const spawned = await create({ name: 'spawned' }, ut.token);
      assert.equal(spawned.status, 201);
      // what it makes is bounded by its own roles
      assert.deepEqual(names(spawned.body.application_credential.roles), ['reader']);
      assert.equal((await create({ name: 'spawned-member', roles: [{ name: 'member' }] }, ut.token)).status, 400);
      assert.equal((await h.admin.send('DELETE', `${base()}/${spawned.body.application_credential.id}`, { token: ut.token })).status, 204);
    });

    test('deleting a credential ends its authentications and the tokens issued from it', async () => {
      const c = (await create({ name: 'doomed' })).body.application_credential;
      const t = await h.anonymous().authenticate(byId(c.id, c.secret));
      assert.equal((await h.admin.validate(t.token)).status, 200);
      assert.equal((await h.admin.send('GET', '/v3/auth/catalog', { token: t.token })).status, 200);
      assert.equal((await h.admin.send('DELETE', `${base()}/${c.id}`, { token: userToken })).status, 204);
      assert.equal((await h.admin.send('GET', `${base()}/${c.id}`, { token: userToken })).status, 404);
      assert.equal((await h.anonymous().send('POST', '/v3/auth/tokens', { body: byId(c.id, c.secret) })).status, 401);
      assert.equal((await h.admin.validate(t.token)).status, 404);
      assert.equal((await h.admin.send('GET', '/v3/auth/catalog', { token: t.token })).status, 401);
      // the owner's other tokens are untouched
      assert.equal((await h.admin.send('GET', base(), { token: userToken })).status, 200);
    });

    test('an expired credential no longer authenticates', async () => {
      const expiresAt = new Date(Date.now() + 2000);
      const res = await create({ name: 'short-lived', expires_at: expiresAt.toISOString().replace(/Z$/, '') });
      assert.equal(res.status, 201);
      const c = res.body.application_credential;
      // Keystone's form: UTC, microseconds, no zone
      assert.match(c.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      assert.equal(Date.parse(`${c.expires_at}Z`), expiresAt.getTime());
      const early = await h.anonymous().send('POST', '/v3/auth/tokens', { body: byId(c.id, c.secret) });
      if (early.status === 201) {
        // a token never outlives its credential
        assert.ok(Date.parse(early.body.token.expires_at) <= expiresAt.getTime());
      }
      await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 200);
      assert.equal((await h.anonymous().send('POST', '/v3/auth/tokens', { body: byId(c.id, c.secret) })).status, 401);
    });
  });
}
