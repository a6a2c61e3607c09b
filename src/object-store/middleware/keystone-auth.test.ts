import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../../core/auth/index.ts';
import { IdentityUnavailableError, InvalidTokenError } from '../../core/auth/index.ts';
import { parseSwiftPath } from '../path.ts';
import type { Handler, SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { DOMAIN_SYSMETA, keystoneAuth } from './keystone-auth.ts';

const AUTH_URL = 'http://127.0.0.1:5000/v3';

function caller(over: Partial<RequestContext> & { token: string }): RequestContext {
  return {
    userId: `u-${over.token}`, userName: `user-${over.token}`, userDomainId: 'default', userDomainName: 'Default',
    projectId: `p-${over.token}`, projectName: `proj-${over.token}`, projectDomainId: 'default', projectDomainName: 'Default',
    roles: ['member', 'reader'], roleIds: [], methods: ['password'], auditIds: [], expiresAt: '2999-01-01T00:00:00Z',
    ...over,
  };
}

/** Tokens the fake validator knows: 'down' means identity cannot be reached. */
const CALLERS: Record<string, RequestContext> = {
  alice: caller({ token: 'alice' }), // member of p-alice
  bob: caller({ token: 'bob' }), // member of p-bob
  reader: caller({ token: 'reader', projectId: 'p-alice', projectName: 'proj-alice', roles: ['reader'] }),
  reseller: caller({ token: 'reseller', roles: ['member', 'ResellerAdmin'] }),
  elsewhere: caller({ token: 'elsewhere', userDomainId: 'd2', userDomainName: 'D2', projectDomainId: 'd2', projectDomainName: 'D2' }),
  unscoped: caller({ token: 'unscoped', projectId: undefined, projectName: undefined, projectDomainId: undefined, projectDomainName: undefined, roles: [] }),
};

const validator = {
  async validate(token: string): Promise<RequestContext> {
    if (token === 'down') throw new IdentityUnavailableError('identity is down');
    const found = CALLERS[token];
    if (!found) throw new InvalidTokenError('The token is not valid.');
    return found;
  },
};

interface Container {
  read?: string;
  write?: string;
}

/**
 * Stands in for the proxy: asks env.authorize with the container's read ACL for reads and
 * write ACL for object writes (no ACL for container and account writes), and answers with
 * the container's ACL headers when allowed. Records what reached it.
 */
function fakeProxy(containers: Record<string, Container>, accountDomains: Record<string, string> = {}) {
  const seen: SwiftRequest[] = [];
  const handler: Handler = async (req) => {
    seen.push(req);
    const path = parseSwiftPath(req.path)!;
    if (req.env.source === 'GET_ACCOUNT_INFO') {
      const domain = accountDomains[path.account];
      return { status: domain === undefined ? 404 : 204, headers: domain === undefined ? {} : { [DOMAIN_SYSMETA]: domain } };
    }
    const c = path.container ? containers[path.container] ?? {} : {};
    const reading = req.method === 'GET' || req.method === 'HEAD';
    const acl = path.container === undefined ? undefined : reading ? c.read : path.object !== undefined ? c.write : undefined;
    const denied = req.env.authorize?.(req, acl);
    if (denied) return denied;
    const headers: Record<string, string> = {};
    if (path.container && !path.object) {
      if (c.read) headers['x-container-read'] = c.read;
      if (c.write) headers['x-container-write'] = c.write;
    }
    return { status: req.method === 'PUT' ? 201 : 200, headers, body: 'ok' };
  };
  return { handler, seen };
}

function request(method: string, path: string, headers: Record<string, string> = {}): SwiftRequest {
  return { method, path, query: new URLSearchParams(), headers, env: { transId: 'tx1', infoCache: new Map() } };
}

function run(containers: Record<string, Container>, req: SwiftRequest, accountDomains?: Record<string, string>): Promise<SwiftResponse> & { seen: SwiftRequest[] } {
  const proxy = fakeProxy(containers, accountDomains);
  const promise = keystoneAuth({ validator, authUrl: AUTH_URL })(proxy.handler)(req) as Promise<SwiftResponse> & { seen: SwiftRequest[] };
  promise.seen = proxy.seen;
  return promise;
}

const as = (token: string | undefined, method: string, path: string, extra: Record<string, string> = {}) =>
  request(method, path, token ? { 'x-auth-token': token, ...extra } : extra);

describe('keystone-auth: tokens', () => {
  test('a member owns their project\'s account', async () => {
    const req = as('alice', 'PUT', '/v1/AUTH_p-alice/photos');
    const res = await run({}, req);
    assert.equal(res.status, 201);
    assert.equal(req.env.identity?.userId, 'u-alice');
    assert.equal(req.env.swiftOwner, true);
  });

  test('X-Storage-Token is accepted as X-Auth-Token', async () => {
    const res = await run({}, request('GET', '/v1/AUTH_p-alice', { 'x-storage-token': 'alice' }));
    assert.equal(res.status, 200);
  });

  test('no token: 401 saying where Identity is', async () => {
    const res = await run({}, as(undefined, 'GET', '/v1/AUTH_p-alice/photos'));
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], `Keystone uri="${AUTH_URL}"`);
    assert.match(String(res.body), /could not verify that you are authorized/);
  });

  test('an invalid token is treated as none: 401', async () => {
    const res = await run({}, as('forged', 'GET', '/v1/AUTH_p-alice/photos/a.jpg'));
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], `Keystone uri="${AUTH_URL}"`);
  });

  test('an invalid token still reads what anyone may read', async () => {
    const res = await run({ pub: { read: '.r:*' } }, as('expired', 'GET', '/v1/AUTH_p-alice/pub/a.jpg'));
    assert.equal(res.status, 200);
  });

  test('Identity unreachable: 503, the request goes no further', async () => {
    const p = run({}, as('down', 'GET', '/v1/AUTH_p-alice'));
    const res = await p;
    assert.equal(res.status, 503);
    assert.equal(p.seen.length, 0);
  });

  test('another project\'s account: 403', async () => {
    for (const [method, path] of [['GET', '/v1/AUTH_p-alice'], ['PUT', '/v1/AUTH_p-alice/c'], ['GET', '/v1/AUTH_p-alice/c/o'], ['PUT', '/v1/AUTH_p-alice/c/o']]) {
      const res = await run({}, as('bob', method!, path!));
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.match(String(res.body), /Access was denied/);
    }
  });

  test('an account without the reseller prefix: 403 with a token, 401 without', async () => {
    assert.equal((await run({}, as('alice', 'GET', '/v1/p-alice'))).status, 403);
    assert.equal((await run({ c: { read: '.r:*' } }, as(undefined, 'GET', '/v1/p-alice/c/o'))).status, 401);
  });

  test('a token without a project owns no account', async () => {
    assert.equal((await run({}, as('unscoped', 'GET', '/v1/AUTH_undefined'))).status, 403);
  });

  test('OPTIONS is let through without a token', async () => {
    assert.equal((await run({}, as(undefined, 'OPTIONS', '/v1/AUTH_p-alice/c/o'))).status, 200);
  });

  test('a request an overriding middleware authorized (tempurl) passes untouched', async () => {
    const req = as(undefined, 'GET', '/v1/AUTH_p-alice/c/o');
    req.env.authorizeOverride = true;
    req.env.authorize = () => undefined;
    assert.equal((await run({}, req)).status, 200);
  });
});

describe('keystone-auth: roles', () => {
  test('only the reseller admin creates or deletes an account', async () => {
    for (const method of ['PUT', 'DELETE']) {
      assert.equal((await run({}, as('alice', method, '/v1/AUTH_p-alice'))).status, 403, `${method} own account`);
      const req = as('reseller', method, '/v1/AUTH_p-alice');
      assert.equal((await run({}, req)).status, method === 'PUT' ? 201 : 200);
      assert.equal(req.env.resellerRequest, true);
    }
  });

  test('the reseller admin goes into any account as its owner', async () => {
    const req = as('reseller', 'POST', '/v1/AUTH_p-alice/c', { 'x-container-read': '.r:*' });
    const p = run({}, req);
    assert.equal((await p).status, 200);
    assert.equal(p.seen[0]!.headers['x-container-read'], '.r:*');
    assert.equal(req.env.swiftOwner, true);
  });

  test('a role without operator rights gets in only through an ACL naming the role', async () => {
    assert.equal((await run({}, as('reader', 'GET', '/v1/AUTH_p-alice/c'))).status, 403);
    assert.equal((await run({ c: { read: 'reader' } }, as('reader', 'GET', '/v1/AUTH_p-alice/c'))).status, 200);
    // role grantees count only in the project's own account
    assert.equal((await run({ c: { read: 'member' } }, as('bob', 'GET', '/v1/AUTH_p-alice/c'))).status, 403);
  });
});

describe('keystone-auth: container ACLs', () => {
  test('.r:* makes objects public but not the listing', async () => {
    const acl = { pub: { read: '.r:*' } };
    assert.equal((await run(acl, as(undefined, 'GET', '/v1/AUTH_p-alice/pub/a.jpg'))).status, 200);
    assert.equal((await run(acl, as(undefined, 'HEAD', '/v1/AUTH_p-alice/pub/a.jpg'))).status, 200);
    assert.equal((await run(acl, as(undefined, 'GET', '/v1/AUTH_p-alice/pub'))).status, 401);
    assert.equal((await run(acl, as('bob', 'GET', '/v1/AUTH_p-alice/pub'))).status, 403);
    assert.equal((await run(acl, as('bob', 'GET', '/v1/AUTH_p-alice/pub/a.jpg'))).status, 200);
    // nor writes
    assert.equal((await run(acl, as(undefined, 'PUT', '/v1/AUTH_p-alice/pub/b.jpg'))).status, 401);
    assert.equal((await run(acl, as(undefined, 'DELETE', '/v1/AUTH_p-alice/pub/a.jpg'))).status, 401);
  });

  test('.rlistings opens the listing too', async () => {
    const acl = { pub: { read: '.r:*,.rlistings' } };
    assert.equal((await run(acl, as(undefined, 'GET', '/v1/AUTH_p-alice/pub'))).status, 200);
  });

  test('referrer designations follow the Referer header, refusals included', async () => {
    const acl = { site: { read: '.r:.example.com,.r:-thief.example.com' } };
    const get = (referer?: string) => run(acl, as(undefined, 'GET', '/v1/AUTH_p-alice/site/logo.png', referer ? { referer } : {}));
    assert.equal((await get('http://www.example.com/index.html')).status, 200);
    assert.equal((await get('http://thief.example.com/')).status, 401);
    assert.equal((await get('http://other.org/')).status, 401);
    assert.equal((await get()).status, 401);
  });

  test('project:user grantees by id, and * for either side', async () => {
    const bobId = 'p-bob:u-bob';
    for (const read of [bobId, 'p-bob:*', '*:u-bob', '*:*']) {
      assert.equal((await run({ c: { read } }, as('bob', 'GET', '/v1/AUTH_p-alice/c'))).status, 200, read);
      assert.equal((await run({ c: { read } }, as('bob', 'GET', '/v1/AUTH_p-alice/c/o'))).status, 200, read);
    }
    assert.equal((await run({ c: { read: 'p-bob:someone-else' } }, as('bob', 'GET', '/v1/AUTH_p-alice/c'))).status, 403);
    // read access is not write access
    assert.equal((await run({ c: { read: bobId } }, as('bob', 'PUT', '/v1/AUTH_p-alice/c/o'))).status, 403);
  });

  test('X-Container-Write lets another project\'s user write objects, not change the container', async () => {
    const acl = { drop: { write: 'p-bob:u-bob' } };
    assert.equal((await run(acl, as('bob', 'PUT', '/v1/AUTH_p-alice/drop/report.pdf'))).status, 201);
    assert.equal((await run(acl, as('bob', 'POST', '/v1/AUTH_p-alice/drop/report.pdf'))).status, 200);
    assert.equal((await run(acl, as('bob', 'DELETE', '/v1/AUTH_p-alice/drop/report.pdf'))).status, 200);
    assert.equal((await run(acl, as('bob', 'POST', '/v1/AUTH_p-alice/drop', { 'x-container-write': '*:*' }))).status, 403);
    assert.equal((await run(acl, as('bob', 'DELETE', '/v1/AUTH_p-alice/drop'))).status, 403);
    assert.equal((await run(acl, as('bob', 'GET', '/v1/AUTH_p-alice/drop'))).status, 403);
  });

  test('names in grantees count when users, projects and the account are in the default domain', async () => {
    const acl = { c: { read: 'proj-bob:user-bob' } };
    assert.equal((await run(acl, as('bob', 'GET', '/v1/AUTH_p-alice/c'), { 'AUTH_p-alice': 'default' })).status, 200);
    // the account's project is in another domain: proj-bob there may be someone else
    assert.equal((await run(acl, as('bob', 'GET', '/v1/AUTH_p-alice/c'), { 'AUTH_p-alice': 'd2' })).status, 403);
    // an account never written has no domain to go by
    assert.equal((await run(acl, as('bob', 'GET', '/v1/AUTH_p-alice/c'))).status, 403);
    // a user of another domain is matched by id only
    const named = { c: { read: 'proj-elsewhere:user-elsewhere' } };
    assert.equal((await run(named, as('elsewhere', 'GET', '/v1/AUTH_p-alice/c'), { 'AUTH_p-alice': 'default' })).status, 403);
    assert.equal((await run({ c: { read: 'p-elsewhere:u-elsewhere' } }, as('elsewhere', 'GET', '/v1/AUTH_p-alice/c'))).status, 200);
  });
});

describe('keystone-auth: owner headers', () => {
  test('others reading through an ACL do not see the container\'s ACLs; the owner does', async () => {
    const acl = { c: { read: 'p-bob:*', write: 'p-bob:*' } };
    const theirs = await run(acl, as('bob', 'HEAD', '/v1/AUTH_p-alice/c'));
    assert.equal(theirs.status, 200);
    assert.equal(theirs.headers['x-container-read'], undefined);
    assert.equal(theirs.headers['x-container-write'], undefined);
    const mine = await run(acl, as('alice', 'HEAD', '/v1/AUTH_p-alice/c'));
    assert.equal(mine.headers['x-container-read'], 'p-bob:*');
    assert.equal(mine.headers['x-container-write'], 'p-bob:*');
  });

  test('the owner of a public container is still its owner', async () => {
    const req = as('alice', 'HEAD', '/v1/AUTH_p-alice/pub');
    const res = await run({ pub: { read: '.r:*,.rlistings', write: 'p-bob:*' } }, req);
    assert.equal(res.status, 200);
    assert.equal(req.env.swiftOwner, true);
    assert.equal(res.headers['x-container-read'], '.r:*,.rlistings');
    assert.equal(res.headers['x-container-write'], 'p-bob:*');
  });

  test('owner headers of a non-owner never reach the proxy', async () => {
    const p = run({ c: { write: 'p-bob:*' } }, as('bob', 'PUT', '/v1/AUTH_p-alice/c/o', { 'x-container-read': '.r:*', 'x-account-meta-temp-url-key': 'k' }));
    assert.equal((await p).status, 201);
    assert.equal(p.seen[0]!.headers['x-container-read'], undefined);
    assert.equal(p.seen[0]!.headers['x-account-meta-temp-url-key'], undefined);
  });

  test('the owner\'s ACL headers are cleaned; a malformed one is a 400', async () => {
    const p = run({}, as('alice', 'POST', '/v1/AUTH_p-alice/c', { 'x-container-read': '.referrer : *.example.com , .rlistings', 'x-container-write': 'p-bob:u-bob ,, p-carol:*' }));
    assert.equal((await p).status, 200);
    assert.equal(p.seen[0]!.headers['x-container-read'], '.r:.example.com,.rlistings');
    assert.equal(p.seen[0]!.headers['x-container-write'], 'p-bob:u-bob,p-carol:*');

    const bad = await run({}, as('alice', 'PUT', '/v1/AUTH_p-alice/c', { 'x-container-write': '.r:*' }));
    assert.equal(bad.status, 400);
    assert.match(String(bad.body), /Referrers not allowed in write ACL/);
    assert.equal((await run({}, as('alice', 'POST', '/v1/AUTH_p-alice/c', { 'x-container-read': '.r:' }))).status, 400);
  });

  test('a container PUT records the project\'s domain on the account; a client cannot forge it', async () => {
    const p = run({}, as('alice', 'PUT', '/v1/AUTH_p-alice/c', { [DOMAIN_SYSMETA]: 'forged' }));
    assert.equal((await p).status, 201);
    assert.equal(p.seen[0]!.headers[DOMAIN_SYSMETA], 'default');
    const q = run({ c: { write: '*:*' } }, as('bob', 'PUT', '/v1/AUTH_p-alice/c/o', { [DOMAIN_SYSMETA]: 'forged' }), { 'AUTH_p-alice': 'default' });
    assert.equal((await q).status, 201);
    assert.equal(q.seen.at(-1)!.headers[DOMAIN_SYSMETA], undefined);
  });
});
