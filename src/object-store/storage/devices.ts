// The devices a storage server serves: each a directory, named by its last path component.
// Swift answers 507 for a device it does not have or that is not mounted; we check the
// directory on every request, so a disk that goes away is refused rather than written
// into the root filesystem's empty mount point.
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';

export class DeviceSet {
  private readonly paths = new Map<string, string>();

  constructor(directories: readonly string[]) {
    for (const directory of directories) {
      const path = resolve(directory);
      const name = basename(path);
      if (this.paths.has(name)) throw new Error(`two devices are named ${name}: ${this.paths.get(name)} and ${path}`);
      this.paths.set(name, path);
    }
  }

  get names(): string[] {
    return [...this.paths.keys()];
  }

  /** The directory of a device we serve and that is there; undefined means 507. */
  path(name: string): string | undefined {
    const path = this.paths.get(name);
    if (path === undefined) return undefined;
    try {
      return statSync(path).isDirectory() ? path : undefined;
    } catch {
      return undefined;
    }
  }
}
