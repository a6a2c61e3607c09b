import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, identityBackends, type IdentityHarness } from '../testing/harness.ts';
import { createRole, grant, memberUser } from '../testing/fixtures.ts';
import { ensureServiceUser } from '../bootstrap.ts';
import { createHmac } from 'node:crypto';
import { sha256Hex, sigV2Signature, sigV4SigningKey } from '../credential/aws-signature.ts';
import { ec2Signature, ec2SignedRequest } from '../credential/ec2-signature.ts';
import type { Ec2Credential } from '../../clients/identity.ts';

/** X-Amz-Date of now (20240102T030405Z) and its date. */
function amzNow(): { amzDate: string; date: string } {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  return { amzDate, date: amzDate.slice(0, 8) };
}

/** The s3tokens body for an S3 request signed with SigV4 (as swift's s3api forwards it). */
function s3SigV4(c: { access: string; secret: string }, service = 's3') {
  const { amzDate, date } = amzNow();
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/RegionOne/${service}/aws4_request`, sha256Hex('GET\n/bucket/key\n\nhost:s3\n\nhost\nUNSIGNED-PAYLOAD')].join('\n');
  // signed here for any service, so that a test can name one identity must refuse
  const signature = createHmac('sha256', sigV4SigningKey(c.secret, date, 'RegionOne', service)).update(stringToSign).digest('hex');
  return { access: c.access, token: Buffer.from(stringToSign).toString('base64url'), signature };
}

/** The s3tokens body for an S3 request signed with SigV2. */
function s3SigV2(c: { access: string; secret: string }) {
  const stringToSign = `GET\n\n\n${new Date().toUTCString()}\n/bucket/key`;
  return { access: c.access, token: Buffer.from(stringToSign).toString('base64'), signature: sigV2Signature(stringToSign, c.secret) };
}

/** The ec2tokens body for an EC2 API request signed with SigV4 now; `host` is the one signed. */
function ec2SigV4(c: { access: string; secret: string }, host = 'ec2.example.com:8788') {
  const { amzDate, date } = amzNow();
  const request: Record<string, unknown> = {
    access: c.access, verb: 'GET', host, path: '/', params: { Action: 'DescribeRegions', Version: '2016-11-15' },
    headers: { Host: host, 'X-Amz-Date': amzDate, Authorization: `AWS4-HMAC-SHA256 Credential=${c.access}/${date}/RegionOne/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=` },
    body_hash: sha256Hex(''),
  };
  return { ...request, signature: ec2Signature(ec2SignedRequest(request), c.secret) };
}

/** The ec2tokens body for an EC2 API request signed with SigV2 over `signedHost`, received at `host`. */
function ec2SigV2(c: { access: string; secret: string }, signedHost: string, host = signedHost) {
  const params = { Action: 'DescribeImages', Version: '2016-11-15', AWSAccessKeyId: c.access, SignatureVersion: '2', SignatureMethod: 'HmacSHA256', Timestamp: new Date().toISOString() };
  const signature = ec2Signature(ec2SignedRequest({ verb: 'GET', host: signedHost, path: '/', params }), c.secret);
  return { access: c.access, verb: 'GET', host, path: '/', params, signature };
}

for (const backend of await identityBackends()) {
  describe(`ec2tokens and s3tokens on ${backend.name}`, { skip: backend.skip }, () => {
    let h: IdentityHarness;
    let serviceToken: string;
    let alice: Awaited<ReturnType<typeof memberUser>>;
    let key: Ec2Credential;
    const s3tokens = (credentials: unknown, token = serviceToken) => h.admin.send('POST', '/v3/s3tokens', { token, body: { credentials } });
    const ec2tokens = (credentials: unknown, token = serviceToken) => h.admin.send('POST', '/v3/ec2tokens', { token, body: { credentials } });

    before(async () => {
      h = await startIdentity(backend.url);
      await ensureServiceUser(h.service.deps.store, { username: 'swift', password: 'swift-pw', passwordHashCost: 10 });
      serviceToken = (await h.anonymous().passwordLogin({ username: 'swift', password: 'swift-pw', project: 'service' })).token;
      alice = await memberUser(h);
      key = await h.admin.createEc2Credential(alice.user.id, alice.project.id);
    });
    after(async () => { await h?.stop(); });

    test("s3tokens: a SigV4 signature made with the secret gives a token for the key's user and project", async () => {
      const res = await h.admin.s3Token(s3SigV4(key));
      assert.equal(res.status, 200);
      const t = res.body.token;
      assert.deepEqual(t.methods, ['ec2credential']);
      assert.equal(t.user.id, alice.user.id);
      assert.equal(t.project.id, alice.project.id);
      assert.deepEqual(t.roles.map((r: any) => r.name).sort(), ['member', 'reader']);
      assert.ok(Array.isArray(t.catalog));
      // the token itself, usable like any other
      const subject = res.headers.get('x-subject-token')!;
      const validated = await h.admin.validate(subject);
      assert.equal(validated.status, 200);
      assert.deepEqual(validated.body.token.methods, ['ec2credential']);
      assert.equal(validated.body.token.project.id, alice.project.id);
      // iam and sts scopes are accepted as keystone accepts them
      assert.equal((await s3tokens(s3SigV4(key, 'sts'))).status, 200);
    });

    test('s3tokens: a SigV2 signature works too, with the body under any of the names keystone reads', async () => {
      assert.equal((await s3tokens(s3SigV2(key))).status, 200);
      for (const name of ['credential', 'ec2Credentials']) {
        const res = await h.admin.send('POST', '/v3/s3tokens', { token: serviceToken, body: { [name]: s3SigV2(key) } });
        assert.equal(res.status, 200, name);
      }
    });

    test('s3tokens: a wrong signature or scope is 401, an unknown access key 404, no access key 401, no body 400', async () => {
      const good = s3SigV4(key);
      const wrongSecret = await s3tokens(s3SigV4({ ...key, secret: `${key.secret}0` }));
      assert.equal(wrongSecret.status, 401);
      assert.equal(wrongSecret.body.error.message, 'Credential signature mismatch');
      assert.equal((await s3tokens({ ...good, signature: good.signature.toUpperCase() })).status, 401);
      assert.equal((await s3tokens({ ...good, signature: undefined })).status, 401);
      assert.equal((await s3tokens({ ...good, token: undefined })).status, 401);
      assert.equal((await s3tokens(s3SigV4(key, 'ec2'))).status, 401);
      assert.equal((await s3tokens({ ...s3SigV2(key), signature: s3SigV2({ ...key, secret: 'x' }).signature })).status, 401);
      const unknown = await s3tokens({ ...good, access: 'no-such-access-key' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.message, 'EC2 access key not found.');
      assert.equal((await s3tokens({ token: good.token, signature: good.signature })).status, 401);
      assert.equal((await h.admin.send('POST', '/v3/s3tokens', { token: serviceToken, body: {} })).status, 400);
      assert.equal((await h.admin.send('POST', '/v3/s3tokens', { token: serviceToken, rawBody: '{"credentials": ' })).status, 400);
      assert.equal((await h.admin.send('GET', '/v3/s3tokens', { token: serviceToken })).status, 405);
      assert.equal((await h.admin.send('GET', '/v3/ec2tokens', { token: serviceToken })).status, 405);
    });

    test('only a service or an admin may turn a signature into a token', async () => {
      assert.equal((await s3tokens(s3SigV4(key), '')).status, 401);
      assert.equal((await s3tokens(s3SigV4(key), alice.token)).status, 403);
      assert.equal((await ec2tokens(ec2SigV4(key), alice.token)).status, 403);
      assert.equal((await s3tokens(s3SigV4(key), h.adminToken)).status, 200);
    });

    test('ec2tokens: SigV4 and SigV2 requests give a token, also in X-Subject-Token; a port the client did not sign is forgiven', async () => {
      const v4 = await ec2tokens(ec2SigV4(key));
      assert.equal(v4.status, 200);
      assert.equal(v4.body.token.project.id, alice.project.id);
      assert.deepEqual(v4.body.token.methods, ['ec2credential']);
      assert.equal((await h.admin.validate(v4.headers.get('x-subject-token')!)).body.token.user.id, alice.user.id);
      assert.equal((await ec2tokens(ec2SigV2(key, 'ec2.example.com:8788'))).status, 200);
      assert.equal((await ec2tokens(ec2SigV2(key, 'ec2.example.com', 'EC2.example.com:8788'))).status, 200);
    });

    test('ec2tokens: a wrong signature, none, or a timestamp older than 15 minutes is 401', async () => {
      const wrong = await ec2tokens({ ...ec2SigV4(key), signature: ec2SigV4({ ...key, secret: 'x' }).signature });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.message, 'Invalid EC2 signature.');
      assert.equal((await ec2tokens({ ...ec2SigV4(key), signature: undefined })).status, 401);
      assert.equal((await ec2tokens({ ...ec2SigV2(key, 'a:1'), host: 'b:1' })).status, 401);
      assert.equal((await ec2tokens({ access: key.access, signature: 'x', params: { SignatureVersion: '1' } })).status, 401);

      // signed correctly, long ago
      const old = ec2SigV2(key, 'ec2.example.com');
      const stale = { ...old.params, Timestamp: '2020-01-01T00:00:00Z' };
      const signature = ec2Signature(ec2SignedRequest({ ...old, params: stale }), key.secret);
      const expired = await ec2tokens({ ...old, params: stale, signature });
      assert.equal(expired.status, 401);
      assert.equal(expired.body.error.message, 'Credential is expired');
      const garbled = { ...old.params, Timestamp: 'yesterday' };
      const res = await ec2tokens({ ...old, params: garbled, signature: ec2Signature(ec2SignedRequest({ ...old, params: garbled }), key.secret) });
      assert.equal(res.status, 401);
    });

    test('a key whose user has no role on its project, or is disabled, or that was deleted, gives no token', async () => {
      const bob = await memberUser(h);
      const stray = await h.admin.createEc2Credential(bob.user.id, alice.project.id);
      const noRole = await s3tokens(s3SigV4(stray));
      assert.equal(noRole.status, 401);
      assert.equal(noRole.body.error.message, 'User not valid for project.');

      const own = await h.admin.createEc2Credential(bob.user.id, bob.project.id);
      assert.equal((await s3tokens(s3SigV4(own))).status, 200);
      await h.admin.call('PATCH', `/v3/users/${bob.user.id}`, { body: { user: { enabled: false } } });
      assert.equal((await s3tokens(s3SigV4(own))).status, 401);
      await h.admin.call('PATCH', `/v3/users/${bob.user.id}`, { body: { user: { enabled: true } } });

      await h.admin.call('DELETE', `/v3/users/${bob.user.id}/credentials/OS-EC2/${own.access}`);
      assert.equal((await s3tokens(s3SigV4(own))).status, 404);
    });

    test("a key made with an application credential's token carries only that application credential's roles", async () => {
      const carol = await memberUser(h);
      const auditor = await createRole(h);
      await grant(h, 'UserProject', carol.user.id, carol.project.id, auditor.name);
      const token = (await h.anonymous().passwordLogin({ username: carol.user.name, password: carol.password, projectId: carol.project.id })).token;
      const plain = await h.admin.createEc2Credential(carol.user.id, carol.project.id);
      const roleNames = (res: { body: any }) => res.body.token.roles.map((r: any) => r.name).sort();
      assert.deepEqual(roleNames(await s3tokens(s3SigV4(plain))), [auditor.name, 'member', 'reader'].sort());

      const base = `/v3/users/${carol.user.id}/application_credentials`;
      const appCredLogin = async (body: Record<string, unknown>) => {
        const ac = (await h.admin.call('POST', base, { token, body: { application_credential: body } })).body.application_credential;
        const auth = { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } } } };
        return { ac, token: (await h.anonymous().authenticate(auth)).token };
      };
      const restricted = await appCredLogin({ name: 'restricted-s3', roles: [{ name: 'member' }] });
      const refused = await h.admin.send('POST', `/v3/users/${carol.user.id}/credentials/OS-EC2`, { token: restricted.token, body: { tenant_id: carol.project.id } });
      assert.equal(refused.status, 403);

      const delegated = await appCredLogin({ name: 'member-s3', unrestricted: true, roles: [{ name: 'member' }] });
      const bound = (await h.admin.call('POST', `/v3/users/${carol.user.id}/credentials/OS-EC2`, { token: delegated.token, body: { tenant_id: carol.project.id } })).body.credential;
      const res = await s3tokens(s3SigV4(bound));
      assert.equal(res.status, 200);
      assert.deepEqual(roleNames(res), ['member', 'reader']);
      assert.equal(res.body.token.application_credential.id, delegated.ac.id);
      // and it is only as good as the application credential
      await h.admin.call('DELETE', `${base}/${delegated.ac.id}`);
      assert.equal((await s3tokens(s3SigV4(bound))).status, 404);
    });
  });
}
