// core/auth's token middleware, as another service uses it, against a real identity service.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createApp, novaFault } from '../../core/http/index.ts';
import { silentLogger } from '../../core/log/logger.ts';
import { TokenValidator, registerTokenAuth } from '../../core/auth/index.ts';
import { RestClient } from '../../clients/http.ts';
import { startIdentity, ADMIN_PASSWORD, type IdentityHarness } from '../testing/harness.ts';

describe('token middleware of other services', () => {
  let h: IdentityHarness;
  let api: RestClient;
  let close: () => Promise<void>;

  before(async () => {
    h = await startIdentity();
    const app = createApp({ service: 'compute', fault: novaFault, logger: silentLogger });
    const validator = new TokenValidator({
      identityUrl: `${h.url}/v3`,
      service: { username: 'admin', password: ADMIN_PASSWORD, projectName: 'admin' },
      cacheSeconds: 0,
    });
    registerTokenAuth(app, validator);
    app.get('/whoami', async (req) => ({ user: req.context!.userName, project: req.context!.projectName, roles: req.context!.roles }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    api = new RestClient(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    close = () => app.close();
  });
  after(async () => {
    await close?.();
    await h?.stop();
  });

  test('a valid token fills the request context', async () => {
    const res = await api.call('GET', '/whoami', { token: h.adminToken });
    assert.equal(res.body.user, 'admin');
    assert.equal(res.body.project, 'admin');
    assert.ok(res.body.roles.includes('admin'));
  });

  test('missing and garbage tokens are 401 in the service fault shape', async () => {
    const missing = await api.send('GET', '/whoami');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.unauthorized.code, 401);
    const garbage = await api.send('GET', '/whoami', { token: 'gAAAAAB-not-a-token' });
    assert.equal(garbage.status, 401);
  });

  test('a revoked token is refused', async () => {
    const issued = await h.anonymous().passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
    assert.equal((await api.send('GET', '/whoami', { token: issued.token })).status, 200);
    assert.equal((await h.admin.revoke(issued.token)).status, 204);
    assert.equal((await api.send('GET', '/whoami', { token: issued.token })).status, 401);
  });

  test('identity being unreachable is a 503, not a 500', async () => {
    const app = createApp({ service: 'compute', fault: novaFault, logger: silentLogger });
    registerTokenAuth(app, new TokenValidator({ identityUrl: 'http://127.0.0.1:1', service: { username: 'x', password: 'y', projectName: 'z' } }));
    app.get('/whoami', async () => ({}));
    const res = await app.inject({ method: 'GET', url: '/whoami', headers: { 'x-auth-token': 'abc' } });
    assert.equal(res.statusCode, 503);
  });
});
