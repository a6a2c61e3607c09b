import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRepositoryError, rotate, setup } from './key-repository.ts';
import { InvalidToken, MAX_TOKEN_LENGTH, TokenExpired, TokenProvider, type IssueRequest } from './token-provider.ts';

const root = mkdtempSync(join(tmpdir(), 'tenrec-tokens-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function repository(): string {
  const dir = join(root, `keys-${n++}`);
  setup(dir);
  return dir;
}

const uuid = () => randomBytes(16).toString('hex');
const inAnHour = () => new Date(Date.now() + 3600_000);

/** InvalidToken proper: not the TokenExpired subclass. */
const invalid = (err: unknown) => err instanceof InvalidToken && !(err instanceof TokenExpired);

const scopes: [string, Partial<IssueRequest>][] = [
  ['unscoped', {}],
  ['domain-scoped', { domainId: uuid() }],
  ['project-scoped', { projectId: uuid() }],
  ['system-scoped', { system: 'all' }],
  ['application-credential-scoped', { projectId: uuid(), appCredId: uuid(), methods: ['application_credential'] }],
];

describe('TokenProvider', () => {
  const provider = new TokenProvider({ keyRepository: repository() });
  const request = (extra: Partial<IssueRequest> = {}): IssueRequest => ({
    userId: uuid(),
    methods: ['password'],
    expiresAt: inAnHour(),
    ...extra,
  });

  for (const [name, scope] of scopes) {
    test(`${name} tokens round-trip`, () => {
      const before = Math.floor(Date.now() / 1000) * 1000;
      const req = request(scope);
      const { token, data } = provider.issue(req);
      assert.match(token, /^[A-Za-z0-9_-]+$/, 'urlsafe base64 without padding');
      assert.ok(token.length <= 255, `${token.length} chars, Keystone's max_token_size is 255`);
      assert.deepEqual(provider.validate(token), data);
      assert.equal(data.userId, req.userId);
      assert.equal(data.projectId, req.projectId);
      assert.equal(data.domainId, req.domainId);
      assert.equal(data.system, req.system);
      assert.equal(data.appCredId, req.appCredId);
      assert.deepEqual(data.methods, req.methods);
      assert.equal(data.expiresAt.getTime(), req.expiresAt.getTime());
      assert.equal(data.auditIds.length, 1);
      assert.match(data.auditIds[0]!, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(data.issuedAt.getTime() % 1000, 0, 'issuedAt is the Fernet timestamp, whole seconds');
      assert.ok(data.issuedAt.getTime() >= before && data.issuedAt.getTime() <= Date.now());
    });
  }

  test('only the fields of the scope are present', () => {
    const { token } = provider.issue(request({ projectId: uuid() }));
    assert.deepEqual(Object.keys(provider.validate(token)).sort(), ['auditIds', 'expiresAt', 'issuedAt', 'methods', 'projectId', 'userId']);
  });

  test('non-UUID ids round-trip unchanged', () => {
    for (const id of ['default', 'admin', 'cn=alice,ou=people', uuid().toUpperCase(), 'ü'.repeat(64)]) {
      for (const scope of [{ domainId: id }, { projectId: id }, { projectId: id, appCredId: id }]) {
        const { token, data } = provider.issue(request({ userId: id, ...scope }));
        assert.deepEqual(provider.validate(token), data);
        assert.equal(data.userId, id);
      }
    }
  });

  test('each token gets its own audit id; a rescoped one keeps the parent\'s as its second', () => {
    const parent = provider.issue(request());
    const other = provider.issue(request());
    assert.notEqual(parent.data.auditIds[0], other.data.auditIds[0]);
    const child = provider.issue(request({ projectId: uuid(), parentAuditId: parent.data.auditIds[0] }));
    const data = provider.validate(child.token);
    assert.equal(data.auditIds.length, 2);
    assert.notEqual(data.auditIds[0], parent.data.auditIds[0]);
    assert.equal(data.auditIds[1], parent.data.auditIds[0]);
  });

  test('methods come back in the canonical order', () => {
    const { token, data } = provider.issue(request({ methods: ['totp', 'password'] }));
    assert.deepEqual(data.methods, ['password', 'totp']);
    assert.deepEqual(provider.validate(token).methods, ['password', 'totp']);
  });

  test('impossible requests are refused when issuing', () => {
    assert.throws(() => provider.issue(request({ methods: ['kerberos'] })), TypeError);
    assert.throws(() => provider.issue(request({ projectId: uuid(), domainId: uuid() })), TypeError);
    assert.throws(() => provider.issue(request({ appCredId: uuid() })), TypeError);
  });

  test('a padded token (as the Fernet spec writes it) is accepted too', () => {
    const { token, data } = provider.issue(request());
    const padded = token + '='.repeat((4 - (token.length % 4)) % 4);
    assert.deepEqual(provider.validate(padded), data);
  });

  test('an expired token throws TokenExpired carrying its data', () => {
    const { token, data } = provider.issue(request({ projectId: uuid(), expiresAt: new Date(Date.now() - 1000) }));
    assert.throws(
      () => provider.validate(token),
      (err: unknown) => {
        assert.ok(err instanceof TokenExpired);
        assert.ok(err instanceof InvalidToken, 'callers that only check InvalidToken still reject it');
        assert.deepEqual(err.data, data);
        return true;
      },
    );
  });

  test('tampering with any character or any byte gives InvalidToken', () => {
    const { token } = provider.issue(request({ projectId: uuid() }));
    for (let i = 0; i < token.length; i++) {
      const c = token[i] === 'A' ? 'B' : 'A';
      assert.throws(() => provider.validate(token.slice(0, i) + c + token.slice(i + 1)), invalid, `char ${i}`);
    }
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i]! ^= 0x01;
      assert.throws(() => provider.validate(bad.toString('base64url')), invalid, `byte ${i}`);
    }
    for (let len = 0; len < token.length; len++) {
      assert.throws(() => provider.validate(token.slice(0, len)), invalid, `truncated to ${len}`);
    }
  });

  test('tampering with an expired token gives InvalidToken, not TokenExpired', () => {
    const { token } = provider.issue(request({ expiresAt: new Date(0) }));
    const bad = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    assert.throws(() => provider.validate(bad), invalid);
  });

  test('garbage, empty, unicode and very long strings give InvalidToken', () => {
    const { token } = provider.issue(request());
    const garbage: unknown[] = [
      '',
      ' ',
      '=',
      'null',
      'Bearer ' + token,
      token + ' ',
      token + '===',
      token + 'A',
      'gAAAAA',
      '日本語のトークン',
      '🔑'.repeat(50),
      token.slice(0, 20) + 'é' + token.slice(21),
      '\u0000'.repeat(200),
      'A'.repeat(MAX_TOKEN_LENGTH + 1),
      'A'.repeat(1_000_000),
      token.repeat(30),
      undefined,
      null,
      123,
      [token],
    ];
    for (const g of garbage) {
      assert.throws(() => provider.validate(g as string), invalid, String(g).slice(0, 40));
    }
  });

  test('a token from another key repository gives InvalidToken', () => {
    const elsewhere = new TokenProvider({ keyRepository: repository() });
    const { token } = elsewhere.issue(request());
    assert.throws(() => provider.validate(token), invalid);
  });

  test('a missing key repository is a clear error at construction', () => {
    assert.throws(() => new TokenProvider({ keyRepository: join(root, 'nope') }), KeyRepositoryError);
  });
});

describe('TokenProvider across key rotations', () => {
  const request = (): IssueRequest => ({ userId: uuid(), methods: ['password'], projectId: uuid(), expiresAt: inAnHour() });

  test('tokens survive one rotation; after two (maxActiveKeys 3) a removed key\'s tokens fail', () => {
    const dir = repository(); // 0 staged, 1 primary
    const provider = new TokenProvider({ keyRepository: dir });
    const byKey1 = provider.issue(request());

    rotate(dir, 3); // 0 new staged, 2 primary (the old staged), 1 secondary
    provider.reload();
    assert.equal(provider.validate(byKey1.token).userId, byKey1.data.userId);
    const byKey2 = provider.issue(request());

    rotate(dir, 3); // 0 new staged, 3 primary, 2 secondary; 1 removed
    provider.reload();
    assert.throws(() => provider.validate(byKey1.token), invalid);
    assert.deepEqual(provider.validate(byKey2.token), byKey2.data);
    const byKey3 = provider.issue(request());
    assert.deepEqual(provider.validate(byKey3.token), byKey3.data);
  });

  test('without reload() the provider keeps the keys it read', () => {
    const dir = repository();
    const provider = new TokenProvider({ keyRepository: dir });
    const old = provider.issue(request());
    rotate(dir, 2);
    rotate(dir, 2);
    assert.deepEqual(provider.validate(old.token), old.data);
    provider.reload();
    assert.throws(() => provider.validate(old.token), invalid);
  });

  test('a node that has not yet seen a rotation accepts tokens from the rotated node (the staged key)', () => {
    const nodeA = repository();
    const nodeB = join(root, `keys-${n++}`);
    cpSync(nodeA, nodeB, { recursive: true });
    const a = new TokenProvider({ keyRepository: nodeA });
    const b = new TokenProvider({ keyRepository: nodeB });
    rotate(nodeA);
    a.reload();
    const fromA = a.issue(request());
    assert.deepEqual(b.validate(fromA.token), fromA.data);
    const fromB = b.issue(request());
    assert.deepEqual(a.validate(fromB.token), fromB.data);
  });

  test('a failed reload keeps the keys in use', () => {
    const dir = join(root, `keys-${n++}`);
    setup(dir);
    const provider = new TokenProvider({ keyRepository: dir });
    const { token, data } = provider.issue(request());
    rmSync(dir, { recursive: true });
    assert.throws(() => provider.reload(), KeyRepositoryError);
    assert.deepEqual(provider.validate(token), data);
  });
});
