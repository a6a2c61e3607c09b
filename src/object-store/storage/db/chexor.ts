// Swift's chexor: each row's MD5 of "<name>-<timestamps>" XORed into a hash of the whole
// table, kept by triggers, so two replicas of a DB compare equal in one value whatever the
// order their rows arrived in. The replicator compares it before syncing rows.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export const EMPTY_HASH = '0'.repeat(32);

export function chexor(old: string, name: string, timestamp: string): string {
  const digest = createHash('md5').update(`${name}-${timestamp}`, 'utf8').digest('hex');
  return (BigInt(`0x${old}`) ^ BigInt(`0x${digest}`)).toString(16).padStart(32, '0');
}

/** Makes chexor() callable from SQL (the triggers need it on every connection). */
export function registerChexor(db: Database.Database): void {
  db.function('chexor', { deterministic: true }, (old: unknown, name: unknown, timestamp: unknown) => chexor(String(old), String(name), String(timestamp)));
}
