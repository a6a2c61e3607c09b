// Password hashing with scrypt (Node's own, memory-hard). N = 2^15, r = 8, p = 1 costs about
// 30 ms and 32 MiB per hash on this class of machine: slow for an attacker, while token issue
// stays far above what bcrypt at Keystone's default cost allows. The format carries its
// parameters, so the cost can rise later without invalidating stored hashes.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const DEFAULT = { logN: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, cost: { logN?: number } = {}): Promise<string> {
  const logN = cost.logN ?? DEFAULT.logN;
  const salt = randomBytes(16);
  const key = await derive(password, salt, logN, DEFAULT.r, DEFAULT.p);
  return `$scrypt$ln=${logN},r=${DEFAULT.r},p=${DEFAULT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(stored ?? '');
  if (!m) {
    // Spend the same time as a real check so an unknown user is not told apart by timing.
    await derive(password, Buffer.alloc(16), DEFAULT.logN, DEFAULT.r, DEFAULT.p);
    return false;
  }
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), Number(m[1]), Number(m[2]), Number(m[3]));
  return key.length === expected.length && timingSafeEqual(key, expected);
}
