import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac } from 'node:crypto';
import {
  decodeBase64Url,
  decrypt,
  decryptWithTimestamp,
  encrypt,
  generateKey,
  InvalidFernetKey,
  InvalidToken,
  OFFSETS,
  parseKey,
} from './fernet.ts';

// The published vectors of the Fernet spec (github.com/fernet/spec: generate.json, verify.json, invalid.json).
const SECRET = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const VECTOR_TOKEN =
  'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
const VECTOR_IV = Uint8Array.from({ length: 16 }, (_, i) => i);
const seconds = (iso: string) => Date.parse(iso) / 1000;
const GENERATED_AT = seconds('1985-10-26T01:20:00-07:00');
const VERIFIED_AT = seconds('1985-10-26T01:20:01-07:00');

const INVALID_VECTORS: { desc: string; token: string; now: string }[] = [
  { desc: 'incorrect mac', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==', now: '1985-10-26T01:20:01-07:00' },
  { desc: 'too short', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==', now: '1985-10-26T01:20:01-07:00' },
  { desc: 'invalid base64', token: '%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==', now: '1985-10-26T01:20:01-07:00' },
  { desc: 'payload size not multiple of block size', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm', now: '1985-10-26T01:20:01-07:00' },
  { desc: 'payload padding error', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==', now: '1985-10-26T01:20:01-07:00' },
  { desc: 'far-future TS (unacceptable clock skew)', token: 'gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==', now: '1985-10-26T01:20:01-07:00' },
  { desc: 'expired TTL', token: 'gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==', now: '1985-10-26T01:21:31-07:00' },
  { desc: 'incorrect IV (causes padding error)', token: 'gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==', now: '1985-10-26T01:20:01-07:00' },
];

function rawOf(token: string): Buffer {
  const raw = decodeBase64Url(token);
  assert.ok(raw);
  return raw;
}

function isInvalidToken(err: unknown): boolean {
  return err instanceof InvalidToken;
}

/** Deterministic PRNG so a failing fuzz case can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

describe('Fernet spec test vectors', () => {
  test('generate.json: same secret, time, IV and message give the published token', () => {
    assert.equal(encrypt([SECRET], 'hello', { now: GENERATED_AT, iv: VECTOR_IV }), VECTOR_TOKEN);
  });

  test('verify.json: the published token decrypts to "hello" within its 60 s TTL', () => {
    const { plaintext, timestamp } = decryptWithTimestamp([SECRET], VECTOR_TOKEN, { ttlSeconds: 60, now: VERIFIED_AT });
    assert.equal(plaintext.toString('utf8'), 'hello');
    assert.equal(timestamp, GENERATED_AT);
  });

  test('the published token has every field at its spec offset', () => {
    const raw = rawOf(VECTOR_TOKEN);
    const key = Buffer.from(SECRET, 'base64url');
    const signing = key.subarray(0, 16);
    const encryption = key.subarray(16);
    assert.equal(raw.length, 1 + 8 + 16 + 16 + 32);
    assert.equal(raw[OFFSETS.version], 0x80);
    assert.equal(raw.readBigUInt64BE(OFFSETS.timestamp), BigInt(GENERATED_AT));
    assert.deepEqual(raw.subarray(OFFSETS.iv, OFFSETS.iv + 16), Buffer.from(VECTOR_IV));
    const ciphertext = raw.subarray(OFFSETS.ciphertext, raw.length - 32);
    assert.equal(ciphertext.length, 16);
    const hmac = createHmac('sha256', signing).update(raw.subarray(0, raw.length - 32)).digest();
    assert.deepEqual(raw.subarray(raw.length - 32), hmac);
    const decipher = createDecipheriv('aes-128-cbc', encryption, VECTOR_IV);
    assert.equal(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString(), 'hello');
  });

  for (const vector of INVALID_VECTORS) {
    test(`invalid.json: ${vector.desc}`, () => {
      assert.throws(() => decrypt([SECRET], vector.token, { ttlSeconds: 60, now: seconds(vector.now) }), isInvalidToken);
    });
  }
});

describe('Fernet round trips and keys', () => {
  test('keys are 32 bytes, 44 chars of urlsafe base64, split signing | encryption', () => {
    const key = generateKey();
    assert.equal(key.length, 44);
    assert.match(key, /^[A-Za-z0-9_-]{43}=$/);
    const parsed = parseKey(key);
    const bytes = Buffer.from(key, 'base64url');
    assert.deepEqual(parsed.signing, bytes.subarray(0, 16));
    assert.deepEqual(parsed.encryption, bytes.subarray(16));
    assert.notEqual(generateKey(), key);
  });

  test('malformed keys are a configuration error, not InvalidToken', () => {
    for (const bad of ['', 'short', SECRET.slice(0, 40), SECRET.replace('_', '/'), SECRET + 'AAAA']) {
      assert.throws(() => parseKey(bad), InvalidFernetKey);
    }
    assert.throws(() => encrypt([], 'x'), InvalidFernetKey);
    assert.throws(() => decrypt([], VECTOR_TOKEN), InvalidFernetKey);
  });

  test('messages of every length up to a few blocks round-trip', () => {
    const key = generateKey();
    for (let n = 0; n <= 70; n++) {
      const message = Buffer.alloc(n, n);
      const token = encrypt([key], message);
      assert.equal((rawOf(token).length - 57) % 16, 0);
      assert.deepEqual(decrypt([key], token), message);
    }
  });

  test('encrypt uses the first key; decrypt accepts a token from any key given', () => {
    const [a, b, c] = [generateKey(), generateKey(), generateKey()];
    const token = encrypt([a, b], 'msg');
    assert.equal(decrypt([a], token).toString(), 'msg');
    assert.throws(() => decrypt([b], token), isInvalidToken);
    assert.equal(decrypt([c, b, a], token).toString(), 'msg');
    assert.equal(decrypt([parseKey(c), parseKey(a)], token).toString(), 'msg');
  });

  test('the IV is fresh for every token', () => {
    const key = generateKey();
    const ivs = new Set<string>();
    for (let i = 0; i < 200; i++) ivs.add(rawOf(encrypt([key], 'same', { now: 1 })).subarray(9, 25).toString('hex'));
    assert.equal(ivs.size, 200);
  });

  test('without a TTL, old and future timestamps are accepted (expiry is the payload\'s business)', () => {
    const key = generateKey();
    assert.equal(decrypt([key], encrypt([key], 'x', { now: 0 })).toString(), 'x');
    assert.equal(decrypt([key], encrypt([key], 'x', { now: 2 ** 40 })).toString(), 'x');
  });
});

describe('Fernet rejects anything not made with a key it holds', () => {
  const key = generateKey();
  const token = encrypt([key], 'a message of a few blocks, to have some ciphertext to tamper with');
  const raw = rawOf(token);

  test('flipping any bit of any byte', () => {
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(raw);
        bad[i]! ^= bit;
        assert.throws(() => decrypt([key], bad.toString('base64url')), isInvalidToken, `byte ${i}`);
      }
    }
  });

  test('changing any character of the text', () => {
    for (let i = 0; i < token.length; i++) {
      for (const c of ['A', 'B', '_', '-', '=', '0', '+', '/', '.']) {
        if (token[i] === c) continue;
        const bad = token.slice(0, i) + c + token.slice(i + 1);
        assert.throws(() => decrypt([key], bad), isInvalidToken, `char ${i} -> ${c}`);
      }
    }
  });

  test('truncating or extending the token', () => {
    for (let n = 0; n < raw.length; n++) {
      assert.throws(() => decrypt([key], raw.subarray(0, n).toString('base64url')), isInvalidToken, `length ${n}`);
    }
    for (const extra of [Buffer.from([0]), Buffer.alloc(16), Buffer.alloc(32)]) {
      assert.throws(() => decrypt([key], Buffer.concat([raw, extra]).toString('base64url')), isInvalidToken);
    }
  });

  test('a wrong version byte, even with a valid HMAC over it', () => {
    const bad = Buffer.from(raw);
    bad[0] = 0x81;
    const signing = Buffer.from(key, 'base64url').subarray(0, 16);
    createHmac('sha256', signing).update(bad.subarray(0, bad.length - 32)).digest().copy(bad, bad.length - 32);
    assert.throws(() => decrypt([key], bad.toString('base64url')), isInvalidToken);
  });

  test('garbage, empty, unicode, whitespace, standard base64, huge and non-string input', () => {
    const garbage: unknown[] = [
      '',
      '=',
      '====',
      'a',
      'not a token',
      ' ' + token,
      token + '\n',
      token.replace(/-/g, '+').replace(/_/g, '/'),
      'é'.repeat(100),
      '🔑' + token.slice(2),
      '\u0000'.repeat(80),
      'A'.repeat(100_000),
      'gA'.repeat(50_000) + '==',
      undefined,
      null,
      42,
      {},
      Buffer.from(token),
    ];
    for (const g of garbage) {
      assert.throws(() => decrypt([key], g as string), isInvalidToken, String(g).slice(0, 30));
    }
  });

  test('non-canonical base64 (stray low bits in the last character) is refused', () => {
    // 73 bytes -> the last base64 char carries 2 unused bits; set one.
    const short = encrypt([key], '');
    const body = short.replace(/=+$/, '');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(body[body.length - 1]!);
    const sloppy = body.slice(0, -1) + alphabet[last | 1] + '=';
    assert.notEqual(sloppy, short);
    assert.deepEqual(Buffer.from(sloppy, 'base64url'), Buffer.from(short, 'base64url'));
    assert.throws(() => decrypt([key], sloppy), isInvalidToken);
  });

  test('fuzz: random strings and random mutations only ever throw InvalidToken', () => {
    const rand = prng(20240601);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ %é';
    for (let i = 0; i < 2000; i++) {
      let candidate: string;
      if (i % 2 === 0) {
        const n = Math.floor(rand() * 300);
        candidate = Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      } else {
        const bad = Buffer.from(raw);
        const edits = 1 + Math.floor(rand() * 4);
        for (let e = 0; e < edits; e++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
        if (bad.equals(raw)) continue;
        candidate = bad.toString('base64url');
      }
      assert.throws(() => decrypt([key], candidate), isInvalidToken, candidate);
    }
  });
});
