import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Capabilities } from '../capabilities.ts';
import { compose, textResponse, type Handler, type SwiftRequest } from '../pipeline.ts';
import { accountQuotas } from './account-quotas.ts';
import { containerQuotas } from './container-quotas.ts';
import { bodyText, MemorySwift, request } from './testing/memory-swift.ts';

/** Stands in for keystone-auth: the owner of AUTH_a may do anything there; `reseller` everywhere; others may write where the ACL says. */
function fakeAuth(who: 'owner' | 'reseller' | 'stranger') {
  return (next: Handler): Handler => async (req) => {
    if (who === 'reseller') req.env.resellerRequest = true;
    req.env.authorize = (r: SwiftRequest, acl?: string) =>
      who !== 'stranger' || acl === '*:*' ? undefined : textResponse(403, 'Access was denied to this resource.');
    return next(req);
  };
}

function put(path: string, data: string, headers: Record<string, string> = {}) {
  return request('PUT', path, { 'content-length': String(data.length), ...headers }, Readable.from([Buffer.from(data)]));
}

describe('container quotas', () => {
  function setup(who: 'owner' | 'stranger' = 'owner') {
    const swift = new MemorySwift();
    swift.container('AUTH_a', 'c', { 'x-container-meta-quota-bytes': '10', 'x-container-meta-quota-count': '3' });
    swift.putObject('AUTH_a', 'c', 'seven', '1234567');
    return { swift, handler: compose(swift.handler, fakeAuth(who), containerQuotas()) };
  }

  test('an upload that would pass the byte quota is refused with 413', async () => {
    const { swift, handler } = setup();
    const res = await handler(put('/v1/AUTH_a/c/big', '1234'));
    assert.equal(res.status, 413);
    assert.equal(await bodyText(res), 'Upload exceeds quota.');
    assert.equal(swift.object('AUTH_a', 'c', 'big'), undefined);
    assert.equal((await handler(put('/v1/AUTH_a/c/fits', '123'))).status, 201);
  });

  test('the object count quota', async () => {
    const { swift, handler } = setup();
    swift.container('AUTH_a', 'c', { 'x-container-meta-quota-bytes': '' });
    assert.equal((await handler(put('/v1/AUTH_a/c/two', 'x'))).status, 201);
    assert.equal((await handler(put('/v1/AUTH_a/c/three', 'x'))).status, 201);
    assert.equal((await handler(put('/v1/AUTH_a/c/four', 'x'))).status, 413);
  });

  test('someone who could not write there gets their 403, not a hint of the quota', async () => {
    const { handler } = setup('stranger');
    assert.equal((await handler(put('/v1/AUTH_a/c/big', '1234'))).status, 403);
  });

  test('quota values must be whole numbers', async () => {
    const { handler } = setup();
    const bytes = await handler(request('POST', '/v1/AUTH_a/c', { 'x-container-meta-quota-bytes': '10k' }));
    assert.equal(bytes.status, 400);
    assert.equal(await bodyText(bytes), 'Invalid bytes quota.');
    const count = await handler(request('PUT', '/v1/AUTH_a/new', { 'x-container-meta-quota-count': '-1' }));
    assert.equal(count.status, 400);
    assert.equal(await bodyText(count), 'Invalid count quota.');
    assert.equal((await handler(request('POST', '/v1/AUTH_a/c', { 'x-container-meta-quota-bytes': '100' }))).status, 204);
    // removing a quota is an empty value
    assert.equal((await handler(request('POST', '/v1/AUTH_a/c', { 'x-container-meta-quota-bytes': '' }))).status, 204);
  });

  test('a missing container is left to the proxy', async () => {
    const { handler } = setup();
    assert.equal((await handler(put('/v1/AUTH_a/nope/o', 'x'))).status, 404);
  });

  test('registers its /info section', () => {
    const capabilities = new Capabilities();
    containerQuotas({ capabilities });
    assert.deepEqual(capabilities.get('container_quotas'), {});
  });
});

describe('account quotas', () => {
  function setup(who: 'owner' | 'reseller' | 'stranger' = 'owner') {
    const swift = new MemorySwift();
    swift.account('AUTH_a', { 'x-account-sysmeta-quota-bytes': '10' });
    swift.container('AUTH_a', 'c', { 'x-container-write': '*:*' });
    swift.putObject('AUTH_a', 'c', 'seven', '1234567');
    return { swift, handler: compose(swift.handler, fakeAuth(who), accountQuotas()) };
  }

  test('an upload past the byte quota is a 413 for the owner and for ACL writers alike', async () => {
    for (const who of ['owner', 'stranger'] as const) {
      const { handler } = setup(who);
      const res = await handler(put('/v1/AUTH_a/c/big', '1234'));
      assert.equal(res.status, 413, who);
      assert.equal(await bodyText(res), 'Upload exceeds quota.');
      assert.equal((await handler(put('/v1/AUTH_a/c/small', '12'))).status, 201, who);
    }
  });

  test('the old X-Account-Meta-Quota-Bytes still counts', async () => {
    const { swift, handler } = setup();
    swift.accounts.get('AUTH_a')!.headers = { 'x-account-meta-quota-bytes': '8' };
    assert.equal((await handler(put('/v1/AUTH_a/c/big', '12'))).status, 413);
  });

  test('the object count quota', async () => {
    const { swift, handler } = setup();
    swift.accounts.get('AUTH_a')!.headers = { 'x-account-sysmeta-quota-count': '2' };
    assert.equal((await handler(put('/v1/AUTH_a/c/two', 'x'))).status, 201);
    assert.equal((await handler(put('/v1/AUTH_a/c/three', 'x'))).status, 413);
  });

  test('resellers are not held to quotas', async () => {
    const { handler } = setup('reseller');
    assert.equal((await handler(put('/v1/AUTH_a/c/big', '1234'))).status, 201);
  });

  test('only a reseller sets quotas; they are kept as system metadata and shown to everyone', async () => {
    const { swift, handler } = setup('owner');
    const attempts: Record<string, string>[] = [{ 'x-account-quota-bytes': '100' }, { 'x-account-meta-quota-bytes': '100' }, { 'x-remove-account-quota-bytes': 'x' }, { 'x-account-quota-count': '5' }];
    for (const headers of attempts) {
      const res = await handler(request('POST', '/v1/AUTH_a', headers));
      assert.equal(res.status, 403, JSON.stringify(headers));
    }
    const head = await handler(request('HEAD', '/v1/AUTH_a'));
    assert.equal(head.headers['x-account-quota-bytes'], '10');

    const reseller = compose(swift.handler, fakeAuth('reseller'), accountQuotas());
    assert.equal((await reseller(request('POST', '/v1/AUTH_a', { 'x-account-quota-bytes': 'lots' }))).status, 400);
    assert.equal((await reseller(request('POST', '/v1/AUTH_a', { 'x-account-meta-quota-bytes': '100', 'x-account-quota-count': '7' }))).status, 204);
    assert.equal(swift.accounts.get('AUTH_a')!.headers['x-account-sysmeta-quota-bytes'], '100');
    assert.equal(swift.accounts.get('AUTH_a')!.headers['x-account-sysmeta-quota-count'], '7');
    assert.equal((await reseller(request('POST', '/v1/AUTH_a', { 'x-remove-account-quota-bytes': '1' }))).status, 204);
    assert.equal(swift.accounts.get('AUTH_a')!.headers['x-account-sysmeta-quota-bytes'], undefined);
    assert.equal((await handler(put('/v1/AUTH_a/c/now-fits', '1234'))).status, 201);
  });

  test('registers its /info section', () => {
    const capabilities = new Capabilities();
    accountQuotas({ capabilities });
    assert.deepEqual(capabilities.get('account_quotas'), {});
  });
});
