import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import { InvalidToken } from './errors.ts';
import { AUTH_METHODS, decodePayload, encodePayload, newAuditId, payloadVersion, type Payload } from './payload.ts';

const uuid = () => randomBytes(16).toString('hex');
const expiresAt = new Date('2030-01-02T03:04:05.678Z');

const scopes: [string, number, Partial<Payload>][] = [
  ['unscoped', 0, {}],
  ['domain', 1, { domainId: uuid() }],
  ['project', 2, { projectId: uuid() }],
  ['system', 8, { system: 'all' }],
  ['application credential', 9, { projectId: uuid(), appCredId: uuid() }],
];

function payload(extra: Partial<Payload> = {}): Payload {
  return { userId: uuid(), methods: ['password'], expiresAt, auditIds: [newAuditId()], ...extra };
}

describe('payload encoding', () => {
  for (const [name, version, scope] of scopes) {
    test(`${name}: version ${version}, round trip, UUIDs packed as 16 raw bytes`, () => {
      const p = payload(scope);
      const bytes = encodePayload(p);
      assert.deepEqual(decodePayload(bytes), p);
      const raw = decode(bytes) as unknown[];
      assert.equal(raw[0], version);
      assert.equal(payloadVersion(p), version);
      const [flag, userBytes] = raw[1] as [boolean, Uint8Array];
      assert.equal(flag, true);
      assert.equal(Buffer.from(userBytes).toString('hex'), p.userId);
      // Small enough that the whole token stays well under Keystone's 255-char max_token_size.
      assert.ok(bytes.length < 100, `${bytes.length} bytes`);
    });
  }

  test('ids that are not lowercase 32-hex UUIDs are kept as strings, exactly', () => {
    const odd = ['default', 'admin', 'Δ-user', 'A'.repeat(32), uuid().toUpperCase(), '12345678-1234-5678-1234-567812345678', uuid() + '0', 'x'];
    for (const id of odd) {
      for (const scope of [{ domainId: id }, { projectId: id }, { projectId: id, appCredId: id }, {}]) {
        const p = payload({ ...scope, userId: id });
        assert.deepEqual(decodePayload(encodePayload(p)), p);
      }
    }
    const raw = decode(encodePayload(payload({ domainId: 'default' }))) as unknown[];
    assert.deepEqual(raw[3], [false, 'default']);
  });

  test('methods are a bitmask over the method list and come back in that order', () => {
    const raw = decode(encodePayload(payload({ methods: ['password'] }))) as unknown[];
    assert.equal(raw[2], 1 << AUTH_METHODS.indexOf('password'));
    const p = decodePayload(encodePayload(payload({ methods: ['totp', 'password', 'token', 'password'] })));
    assert.deepEqual(p.methods, ['token', 'password', 'totp']);
    const all = decodePayload(encodePayload(payload({ methods: [...AUTH_METHODS] })));
    assert.deepEqual(all.methods, [...AUTH_METHODS]);
  });

  test('audit ids: ours travel as 16 bytes, a foreign parent id as its string', () => {
    const own = newAuditId();
    assert.match(own, /^[A-Za-z0-9_-]{22}$/);
    const parent = 'not-one-of-ours';
    const p = payload({ auditIds: [own, parent] });
    const raw = decode(encodePayload(p)) as unknown[];
    const [a, b] = raw[4] as [Uint8Array, string];
    assert.equal(a.length, 16);
    assert.equal(b, parent);
    assert.deepEqual(decodePayload(encodePayload(p)).auditIds, [own, parent]);
  });

  test('expires_at is float seconds and keeps milliseconds', () => {
    const raw = decode(encodePayload(payload())) as unknown[];
    assert.equal(raw[3], expiresAt.getTime() / 1000);
    for (const ms of [0, 1, 999, 1_700_000_000_001, 4_102_444_800_999]) {
      assert.equal(decodePayload(encodePayload(payload({ expiresAt: new Date(ms) }))).expiresAt.getTime(), ms);
    }
  });

  test('impossible payloads are refused when issuing', () => {
    assert.throws(() => encodePayload(payload({ projectId: uuid(), domainId: uuid() })), TypeError);
    assert.throws(() => encodePayload(payload({ system: 'all', projectId: uuid() })), TypeError);
    assert.throws(() => encodePayload(payload({ appCredId: uuid() })), TypeError);
    assert.throws(() => encodePayload(payload({ appCredId: uuid(), domainId: uuid() })), TypeError);
    assert.throws(() => encodePayload(payload({ system: 'some' as 'all' })), TypeError);
    assert.throws(() => encodePayload(payload({ methods: [] })), TypeError);
    assert.throws(() => encodePayload(payload({ methods: ['kerberos'] })), /unknown authentication method/);
    assert.throws(() => encodePayload(payload({ userId: '' })), TypeError);
    assert.throws(() => encodePayload(payload({ expiresAt: new Date(NaN) })), TypeError);
    assert.throws(() => encodePayload(payload({ auditIds: [] })), TypeError);
    assert.throws(() => encodePayload(payload({ auditIds: ['a', 'b', 'c'] })), TypeError);
  });

  test('anything but the exact shapes decodes to InvalidToken', () => {
    const user = [true, randomBytes(16)];
    const audit = [randomBytes(16)];
    const shapes: unknown[] = [
      null,
      42,
      'string',
      [],
      [3, user, 1, 1e9, audit],
      [0, user, 1, 1e9],
      [0, user, 1, 1e9, audit, 'extra'],
      [2, user, 1, 1e9, audit],
      [0, [true, randomBytes(15)], 1, 1e9, audit],
      [0, [false, ''], 1, 1e9, audit],
      [0, [1, 'x'], 1, 1e9, audit],
      [0, 'plain-id', 1, 1e9, audit],
      [0, user, 0, 1e9, audit],
      [0, user, 1 << AUTH_METHODS.length, 1e9, audit],
      [0, user, -1, 1e9, audit],
      [0, user, 1.5, 1e9, audit],
      [0, user, 1, 'tomorrow', audit],
      [0, user, 1, 1e300, audit],
      [0, user, 1, 1e9, []],
      [0, user, 1, 1e9, [randomBytes(16), randomBytes(16), randomBytes(16)]],
      [0, user, 1, 1e9, [randomBytes(8)]],
      [0, user, 1, 1e9, ['']],
      [8, user, 1, 'some', 1e9, audit],
      [9, user, 1, user, 1e9, audit],
      { 0: 0 },
    ];
    for (const shape of shapes) {
      assert.throws(() => decodePayload(encode(shape)), InvalidToken, JSON.stringify(shape));
    }
    for (const bytes of [new Uint8Array(0), Uint8Array.of(0xc1), Uint8Array.of(0x95, 0x00), Buffer.concat([encode([0]), Uint8Array.of(1)])]) {
      assert.throws(() => decodePayload(bytes), InvalidToken);
    }
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(1 + (i % 64));
      try {
        decodePayload(bytes);
      } catch (err) {
        assert.ok(err instanceof InvalidToken, String(err));
      }
    }
  });
});
