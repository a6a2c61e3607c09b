// A whole-object GET checks the bytes against the ETag stored with them as they go out, as
// Swift's DiskFileReader does: each chunk is held back until the next is read, so the last one
// leaves only once the MD5 of everything is known. On a mismatch the data file is quarantined
// (the replicator then restores a good copy) and the body fails, cutting the response: a
// client never gets a corrupt object as a complete one — and for an object of one chunk, not
// a byte of it. Range reads are not checked (only the auditor can check a part).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { quarantineFile } from '../quarantine.ts';
import type { ObjectContext, ObjectRequest } from './context.ts';
import type { OpenObject } from './disk-object.ts';
import { objectFileName } from './ondisk.ts';

export class CorruptObjectData extends Error {}

export async function* verifiedRead(ctx: ObjectContext, r: ObjectRequest, object: OpenObject): AsyncGenerator<Buffer> {
  const md5 = createHash('md5');
  let held: Buffer | undefined;
  for await (const chunk of object.read()) {
    md5.update(chunk);
    if (held) yield held;
    held = chunk;
  }
  const etag = md5.digest('hex');
  const expected = object.dataMetadata.etag;
  if (etag !== expected) {
    // The file we hold open is the one named for its data timestamp (a newer write would have a new name).
    const file = join(ctx.disk.dir(r.location), objectFileName(object.dataTimestamp, 'data'));
    const moved = await quarantineFile(r.location.devicePath, 'objects', r.location.hash, file).catch(() => undefined);
    ctx.logger.error({ path: r.location.name, file, quarantined: moved, expected, actual: etag }, 'object data does not match its ETag; quarantined, response cut');
    throw new CorruptObjectData(`${r.location.name}: data does not match its ETag`);
  }
  if (held) yield held;
}
