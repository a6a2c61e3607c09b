// Test helper: where qemu-img is, if it is installed, so tests can let QEMU judge our images.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const qemuImg = findOnPath('qemu-img');
