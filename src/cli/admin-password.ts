// The all-in-one's admin password. Given (--admin-password, $TENREC_ADMIN_PASSWORD or
// $OS_PASSWORD): used, and saved so that later runs keep it. Not given: the saved one. Neither:
// a random one, generated on the first run, saved and shown once.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from './files.ts';

export interface AdminPassword {
  password: string;
  /** made up by this run: the only time it is shown */
  generated: boolean;
  /** <state>/admin-password (mode 0600) */
  file: string;
}

export function givenAdminPassword(flag: string | undefined, env: Record<string, string | undefined>): string | undefined {
  return flag || env.TENREC_ADMIN_PASSWORD || env.OS_PASSWORD || undefined;
}

export function adminPassword(stateDir: string, given: string | undefined): AdminPassword {
  const file = join(stateDir, 'admin-password');
  const saved = readSaved(file);
  if (given !== undefined) {
    if (given !== saved) writeFileAtomic(file, `${given}\n`);
    return { password: given, generated: false, file };
  }
  if (saved !== undefined) return { password: saved, generated: false, file };
  const password = randomBytes(18).toString('base64url');
  writeFileAtomic(file, `${password}\n`);
  return { password, generated: true, file };
}

function readSaved(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const password = text.replace(/\r?\n$/, '');
  return password === '' ? undefined : password;
}
