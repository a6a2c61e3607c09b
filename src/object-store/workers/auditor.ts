// The object auditor (Swift's obj/auditor.py): walks every object on this node's devices at a
// bounded rate (files and bytes per second, so clients keep the disks), reads each .data whole
// and checks its MD5 against the ETag stored with it. A file that does not match, or whose
// metadata cannot be read or does not fit the data, is moved to
// <device>/quarantined/objects/<hash>/; that changes its suffix's hash (nothing is cached), so
// the next replication pass of another primary sends a good copy back.
// It also removes files left in <device>/tmp by uploads a crash cut short, once a day old.
import { createHash } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DeviceSet } from '../storage/devices.ts';
import { OBJECTS_DIR, TMP_DIR } from '../storage/layout.ts';
import { listDir } from '../storage/list-dir.ts';
import { quarantineFile } from '../storage/quarantine.ts';
import { readLocalObject } from './local-object.ts';
import { RateLimiter } from './rate-limiter.ts';
import { allHashDirs, type HashDir } from './walk.ts';

export interface AuditorOptions {
  devices: DeviceSet;
  logger: Logger;
  /** objects checked per second (Swift's files_per_second, 20) */
  filesPerSecond?: number;
  /** bytes read per second (Swift's bytes_per_second, 10 MB) */
  bytesPerSecond?: number;
  /** how old a leftover temp file must be to go (a day) */
  tmpAgeSeconds?: number;
  now?: () => number;
  /** stops a pass in progress at the next object or rate-limit wait (the storage server is shutting down) */
  signal?: AbortSignal;
}

export interface AuditStats {
  objects: number;
  bytes: number;
  quarantined: number;
  tmpRemoved: number;
}

const CHUNK = 65536;

export class ObjectAuditor {
  private readonly files: RateLimiter;
  private readonly bytes: RateLimiter;
  private readonly now: () => number;

  constructor(private readonly opts: AuditorOptions) {
    this.files = new RateLimiter(opts.filesPerSecond ?? 20);
    this.bytes = new RateLimiter(opts.bytesPerSecond ?? 10_000_000);
    this.now = opts.now ?? (() => Date.now() / 1000);
  }

  private get stopped(): boolean {
    return this.opts.signal?.aborted === true;
  }

  async runOnce(): Promise<AuditStats> {
    const stats: AuditStats = { objects: 0, bytes: 0, quarantined: 0, tmpRemoved: 0 };
    devices: for (const name of this.opts.devices.names) {
      const devicePath = this.opts.devices.path(name);
      if (devicePath === undefined) continue; // not mounted
      for await (const dir of allHashDirs(join(devicePath, OBJECTS_DIR))) {
        await this.files.wait(1, this.opts.signal);
        if (this.stopped) break devices;
        try {
          await this.auditObject(devicePath, dir, stats);
        } catch (err) {
          this.opts.logger.error({ err, dir: dir.path }, 'auditing an object failed');
        }
      }
      stats.tmpRemoved += await this.removeOldTemps(join(devicePath, TMP_DIR));
    }
    this.opts.logger.info(stats, `object audit pass ${this.stopped ? 'stopped' : 'done'}`);
    return stats;
  }

  private async auditObject(devicePath: string, dir: HashDir, stats: AuditStats): Promise<void> {
    // Reading the object quarantines a file whose trailer is bad or whose size is not its metadata's.
    const obj = await readLocalObject(devicePath, dir, this.opts.logger, () => (stats.quarantined += 1));
    const data = obj?.data;
    if (!data) return;
    let handle;
    try {
      handle = await open(data.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // replaced by a newer write meanwhile
      throw err;
    }
    const md5 = createHash('md5');
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (let at = 0; at < data.dataLength; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, data.dataLength - at), at);
        if (bytesRead === 0) break;
        await this.bytes.wait(bytesRead, this.opts.signal);
        if (this.stopped) return; // no verdict on a file not read to its end
        md5.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
        stats.bytes += bytesRead;
      }
    } finally {
      await handle.close();
    }
    stats.objects += 1;
    const etag = md5.digest('hex');
    if (etag === data.metadata.etag) return;
    const moved = await quarantineFile(devicePath, 'objects', dir.hash, data.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined; // gone meanwhile: nothing left to serve
      throw err;
    });
    if (!moved) return;
    stats.quarantined += 1;
    this.opts.logger.error({ object: obj.name, file: data.path, quarantined: moved, expected: data.metadata.etag, actual: etag }, 'object failed audit (ETag mismatch) and was quarantined');
  }

  private async removeOldTemps(dir: string): Promise<number> {
    const cutoff = (this.now() - (this.opts.tmpAgeSeconds ?? 86_400)) * 1000;
    let removed = 0;
    for (const name of await listDir(dir)) {
      const path = join(dir, name);
      try {
        const info = await stat(path);
        if (info.isFile() && info.mtimeMs < cutoff) {
          await unlink(path);
          removed += 1;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return removed;
  }
}

