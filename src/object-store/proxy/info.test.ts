import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Capabilities } from '../capabilities.ts';
import type { Handler, SwiftRequest } from '../pipeline.ts';
import { getAccountInfo, getContainerInfo } from './info.ts';
import { startCluster, type TestCluster } from './testing/cluster.ts';

function request(path: string): SwiftRequest {
  return { method: 'GET', path, query: new URLSearchParams(), headers: {}, env: { transId: 'tx-info-test', infoCache: new Map() } };
}

describe('GET /info', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster();
    cluster.capabilities.register('tempurl', { methods: ['GET', 'HEAD', 'PUT'] });
  });
  after(() => cluster.close());

  test('the swift section carries the constraints, policies and settings clients look for', async () => {
    const res = await cluster.call('GET', '/info');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=UTF-8');
    const info = JSON.parse(res.text);
    const swift = info.swift;
    assert.equal(typeof swift.version, 'string');
    assert.equal(swift.max_file_size, 5368709122);
    assert.equal(swift.max_meta_name_length, 128);
    assert.equal(swift.max_meta_value_length, 256);
    assert.equal(swift.max_meta_count, 90);
    assert.equal(swift.max_meta_overall_size, 4096);
    assert.equal(swift.max_header_size, 8192);
    assert.equal(swift.container_listing_limit, 10000);
    assert.equal(swift.account_listing_limit, 10000);
    assert.equal(swift.max_object_name_length, 1024);
    assert.equal(swift.max_container_name_length, 256);
    assert.equal(swift.strict_cors_mode, true);
    assert.equal(swift.allow_account_management, false);
    assert.equal(swift.account_autocreate, true);
    assert.deepEqual(swift.valid_api_versions, ['v1', 'v1.0']);
    assert.deepEqual(swift.policies, [{ name: 'Policy-0', aliases: 'Policy-0', default: true }]);
    assert.deepEqual(info.tempurl, { methods: ['GET', 'HEAD', 'PUT'] });
  });

  test('HEAD /info answers without a body; other methods are a 405', async () => {
    const head = await cluster.call('HEAD', '/info');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    const post = await cluster.call('POST', '/info');
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD, OPTIONS');
  });

  describe('info lookups for middlewares', () => {
    let calls = 0;
    const counting = (): Handler => async (req) => {
      calls += 1;
      return cluster.handler(req);
    };

    before(async () => {
      await cluster.call('PUT', '/v1/AUTH_info/box', {
        headers: { 'content-length': '0', 'x-container-meta-quota-bytes': '100', 'x-container-read': '.r:*', 'x-versions-location': 'old' },
      });
      await cluster.call('PUT', '/v1/AUTH_info/box/o', { body: 'twelve bytes' });
      await cluster.call('POST', '/v1/AUTH_info', { headers: { 'x-account-meta-quota-bytes': '1000' } });
    });

    test('container info: existence, counts, metadata and ACLs, looked up once per request', async () => {
      const req = request('/v1/AUTH_info/box/o');
      calls = 0;
      const info = await getContainerInfo(req, counting(), 'AUTH_info', 'box');
      assert.equal(info.status, 204);
      assert.equal(info.objectCount, 1);
      assert.equal(info.bytes, 12);
      assert.equal(info.meta['quota-bytes'], '100');
      assert.equal(info.readAcl, '.r:*');
      assert.equal(info.writeAcl, undefined);
      assert.equal(info.versionsLocation, 'old');
      assert.equal(info.storagePolicy, 0);
      const lookups = calls;
      assert.equal(lookups, 2, 'one HEAD of the account, one of the container');
      info.meta['quota-bytes'] = 'changed by the caller';
      const again = await getContainerInfo(req, counting(), 'AUTH_info', 'box');
      assert.equal(calls, lookups, 'the second lookup came from the request cache');
      assert.equal(again.meta['quota-bytes'], '100');
    });

    test('account info, and the 404 of a container that is not there', async () => {
      const req = request('/v1/AUTH_info');
      const account = await getAccountInfo(req, cluster.handler, 'AUTH_info');
      assert.equal(account.status, 204);
      assert.equal(account.containerCount, 1);
      assert.equal(account.meta['quota-bytes'], '1000');
      assert.equal(account.reallyExists, true);
      assert.equal((await getContainerInfo(req, cluster.handler, 'AUTH_info', 'nothing')).status, 404);
      const fake = await getAccountInfo(req, cluster.handler, 'AUTH_never');
      assert.equal(fake.reallyExists, false);
      assert.equal((await getContainerInfo(req, cluster.handler, 'AUTH_never', 'c')).status, 404);
    });
  });
});

describe('Capabilities', () => {
  test('sections are merged when registered twice; admin is reserved', () => {
    const caps = new Capabilities();
    caps.register('slo', { max_manifest_segments: 1000 });
    caps.register('slo', { min_segment_size: 1 });
    assert.deepEqual(caps.toJSON(), { slo: { max_manifest_segments: 1000, min_segment_size: 1 } });
    assert.equal(caps.has('slo'), true);
    assert.throws(() => caps.register('admin', {}));
  });
});
