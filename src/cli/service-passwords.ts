// The all-in-one's service users' passwords (the image service's today), made up on the
// first run and kept in <state>/service-passwords.json (mode 0600) so that later runs, and
// the tokens the services cache, keep working: { "image": "..." }.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CliError } from './command.ts';
import { writeFileAtomic } from './files.ts';

export const SERVICE_PASSWORDS_FILE = 'service-passwords.json';

/** The saved password of `service`'s user, or a new random one (saved before it is returned). */
export function servicePassword(stateDir: string, service: string): string {
  const file = join(stateDir, SERVICE_PASSWORDS_FILE);
  const saved = readSaved(file);
  const known = saved[service];
  if (typeof known === 'string' && known !== '') return known;
  const password = randomBytes(24).toString('base64url');
  writeFileAtomic(file, `${JSON.stringify({ ...saved, [service]: password }, null, 2)}\n`);
  return password;
}

function readSaved(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file}: not valid JSON (remove it to have the service passwords made anew)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`${file}: expected a JSON object of service name to password`);
  }
  return parsed as Record<string, unknown>;
}
