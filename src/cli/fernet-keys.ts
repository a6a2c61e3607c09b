// How `tenrec identity fernet-*` shows a key repository: one line per key, primary first.
import { keyIndices, STAGED_KEY_INDEX } from '../identity/token/key-repository.ts';
import { KEY_CHECK_INTERVAL_MS } from './identity-runtime.ts';

export function describeKeys(dir: string, notes: Record<number, string> = {}): string {
  const indices = keyIndices(dir);
  const primary = indices.at(-1);
  const order = [...indices].reverse(); // primary, newest secondaries ..., staged last
  const role = (i: number) =>
    i === primary && i !== STAGED_KEY_INDEX ? 'primary    signs new tokens'
      : i === STAGED_KEY_INDEX ? 'staged     next primary; already accepted'
        : 'secondary  accepted for tokens signed before';
  return [
    `Fernet keys in ${dir}:`,
    ...order.map((i) => `  ${String(i).padStart(3)}  ${role(i)}${notes[i] ? ` (${notes[i]})` : ''}`),
  ].join('\n');
}

export const RELOAD_HINT =
  `Running tenrec processes load new keys by themselves within ${KEY_CHECK_INTERVAL_MS / 1000} s, ` +
  'or at once on SIGHUP (kill -HUP <pid>). Copy the directory to every identity node.';
