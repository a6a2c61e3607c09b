import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, type TestCloud } from '../../testing/cloud.ts';

describe('networking service basics', () => {
  let cloud: TestCloud;
  before(async () => { cloud = await startCloud(); });
  after(async () => { await cloud?.stop(); });

  test('version discovery and Neutron fault bodies', async () => {
    const root = await cloud.network.send('GET', '/', { token: '' });
    assert.equal(root.status, 200);
    assert.equal(root.body.versions[0].id, 'v2.0');
    const missing = await cloud.network.send('GET', '/v2.0/no-such-collection');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.NeutronError.type, 'NotFound');
    const anonymous = await cloud.network.send('GET', '/v2.0/networks', { token: '' });
    assert.equal(anonymous.status, 401);
  });
});
