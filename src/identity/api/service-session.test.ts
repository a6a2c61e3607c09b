// core/auth's service session (a service's own login and catalog) against a real identity service.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointNotFoundError, IdentityUnavailableError, ServiceSession } from '../../core/auth/index.ts';
import { registerService } from '../bootstrap.ts';
import { startIdentity, ADMIN_PASSWORD, type IdentityHarness } from '../testing/harness.ts';

describe('service session', () => {
  let h: IdentityHarness;
  const asAdmin = () => new ServiceSession(`${h.url}/v3`, { username: 'admin', password: ADMIN_PASSWORD, projectName: 'admin' });

  before(async () => {
    h = await startIdentity();
  });
  after(() => h?.stop());

  test('logs in once for concurrent callers and keeps the token; renew gets a new one', async () => {
    const session = asAdmin();
    const tokens = await Promise.all([session.token(), session.token(), session.token()]);
    assert.equal(new Set(tokens).size, 1);
    assert.equal((await h.admin.validate(tokens[0]!)).status, 200);
    assert.equal(await session.token(), tokens[0]);
    const renewed = await session.token(true);
    assert.notEqual(renewed, tokens[0]);
    assert.equal((await h.admin.validate(renewed)).status, 200);
  });

  test("finds endpoints in the catalog with the session's project filled in, also for a service registered after its login", async () => {
    const session = asAdmin();
    await session.token();
    await registerService(h.service.deps.store, { type: 'session-test', name: 'st', region: 'RegionOne', publicUrl: 'http://127.0.0.1:9/v1/AUTH_$(project_id)s', internalUrl: 'http://127.0.0.2:9/v1/AUTH_$(project_id)s' });
    assert.equal(await session.endpoint({ type: 'session-test' }), `http://127.0.0.1:9/v1/AUTH_${h.adminProjectId}`);
    assert.equal(await session.endpoint({ type: 'session-test', interface: 'public', region: 'RegionOne' }), `http://127.0.0.1:9/v1/AUTH_${h.adminProjectId}`);
    await assert.rejects(session.endpoint({ type: 'session-test', region: 'RegionTwo' }), EndpointNotFoundError);
    assert.equal(await session.endpoint({ type: 'session-test', interface: 'internal' }), `http://127.0.0.2:9/v1/AUTH_${h.adminProjectId}`);
    await assert.rejects(session.endpoint({ type: 'no-such-service' }), /no public endpoint of service type no-such-service/);
  });

  test('a wrong password or an unreachable identity is IdentityUnavailableError, and the next call tries again', async () => {
    const wrong = new ServiceSession(`${h.url}/v3`, { username: 'admin', password: 'not-it', projectName: 'admin' });
    await assert.rejects(wrong.token(), (err: unknown) => err instanceof IdentityUnavailableError && /answered 401/.test(err.message));
    await assert.rejects(wrong.token(), IdentityUnavailableError);
    const away = new ServiceSession('http://127.0.0.1:1', { username: 'x', password: 'y', projectName: 'z' });
    await assert.rejects(away.token(), /unreachable/);
  });
});
