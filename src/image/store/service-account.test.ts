// The swift store's view of the image service's own account, against a real identity and
// object store: the account comes from the catalog, a refused token is renewed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ServiceSession } from '../../core/auth/index.ts';
import { startCloud, type TestCloud } from '../../testing/cloud.ts';
import { ServiceAccountStorage } from './service-account.ts';

describe('service account storage', () => {
  let cloud: TestCloud;
  let session: ServiceSession;

  before(async () => {
    cloud = await startCloud('sqlite://', {}, {}, { objectStore: true });
    session = new ServiceSession(`${cloud.identity.url}/v3`, { username: 'image', password: 'image-service-pw', projectName: 'service' });
  });
  after(() => cloud?.stop());

  test("stores in the service project's account found in the catalog", async () => {
    const storage = new ServiceAccountStorage({ session });
    await storage.ensureContainer('acct-test');
    const body = Buffer.from('hello from the image service');
    await storage.putObject('acct-test', 'greeting', Readable.from([body]), { contentLength: body.length });
    const info = await storage.headObject('acct-test', 'greeting');
    assert.equal(info?.size, body.length);
    const service = (await cloud.identity.admin.call('GET', '/v3/projects?name=service')).body.projects[0];
    const listed = await fetch(`${cloud.objectStoreAccountUrl(service.id)}/acct-test?format=json`, { headers: { 'x-auth-token': await session.token() } });
    assert.deepEqual((await listed.json()).map((o: { name: string }) => o.name), ['greeting']);
  });

  test('a revoked token is renewed and the call tried again', async () => {
    const fresh = new ServiceSession(`${cloud.identity.url}/v3`, { username: 'image', password: 'image-service-pw', projectName: 'service' });
    const storage = new ServiceAccountStorage({ session: fresh });
    const first = await fresh.token();
    assert.equal((await cloud.identity.admin.revoke(first)).status, 204);
    assert.equal(await storage.headObject('acct-test', 'no-such-object'), null);
    assert.notEqual(await fresh.token(), first);
  });

  test('an account URL given in configuration is used as is', async () => {
    const storage = new ServiceAccountStorage({ session, accountUrl: 'http://127.0.0.1:1/v1/AUTH_nowhere' });
    await assert.rejects(storage.headObject('c', 'o'), /ECONNREFUSED/);
  });
});
