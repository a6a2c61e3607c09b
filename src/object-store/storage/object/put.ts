// Object PUT: checks as Swift's check_object_creation, the newest-timestamp rule, then the
// body streamed into a temp file (hashed as it goes) that only becomes the object once it is
// whole, matches its ETag, and is fsynced and renamed into place.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { SwiftResponse } from '../../pipeline.ts';
import { applyDeleteHeaders, checkObjectCreation, MAX_FILE_SIZE } from '../../constraints.ts';
import { isTrue } from '../header-families.ts';
import { TempFile } from '../durable-file.ts';
import { tmpDir } from '../layout.ts';
import { bare, HttpError, plain } from '../responses.ts';
import type { Timestamp } from '../timestamp.ts';
import type { ObjectContext, ObjectRequest } from './context.ts';
import { unquoteEtag, parseEtagList } from './conditional.ts';
import { encodeTrailer, type ObjectMetadata } from './file-format.ts';
import { applyUpdateOverrides, metadataFromRequest } from './request-metadata.ts';
import { requiredTimestamp } from '../request-timestamp.ts';

class ClientDisconnect extends Error {}
class ClientTimeout extends Error {}
class TooLarge extends Error {}
/** The disk, not the client, failed: passed on as it came. */
class WriteFailed extends Error {
  constructor(readonly original: unknown) {
    super('write failed');
  }
}

export async function putObject(ctx: ObjectContext, r: ObjectRequest): Promise<SwiftResponse> {
  const headers = r.req.headers;
  const timestamp = requiredTimestamp(headers);
  const size = checkUpload(headers, r.object, timestamp);

  const state = await ctx.disk.open(r.location, timestamp.seconds);
  let existing: ObjectMetadata | undefined;
  let existingTimestamp: Timestamp | undefined;
  if (state.kind === 'found') {
    existing = state.object.metadata;
    existingTimestamp = state.object.dataTimestamp;
    await state.object.close();
  } else if (state.kind !== 'missing') {
    existingTimestamp = state.timestamp;
  }
  const ifNoneMatch = parseEtagList(headers['if-none-match']);
  if (ifNoneMatch && existing && (ifNoneMatch.has('*') || ifNoneMatch.has(existing.etag!))) return plain(412);
  if (existingTimestamp && existingTimestamp.compare(timestamp) >= 0) return bare(409, { 'x-backend-timestamp': existingTimestamp.internal });

  const file = await TempFile.create(tmpDir(r.devicePath));
  try {
    let etag: string;
    try {
      etag = await receiveBody(r.req.body, file, ctx.clientTimeoutMs);
    } catch (err) {
      if (err instanceof TooLarge) return plain(413, 'Your request is too large.');
      if (err instanceof ClientTimeout) return plain(408, 'The server has waited too long for the request to be sent by the client.');
      if (err instanceof ClientDisconnect) return plain(499, 'Client disconnected');
      throw err instanceof WriteFailed ? err.original : err;
    }
    if (size !== undefined && file.size !== size) return plain(499, 'Client disconnected');
    const metadata: ObjectMetadata = {
      'x-timestamp': timestamp.internal,
      'content-type': headers['content-type']!,
      'content-length': String(file.size),
      etag,
      ...metadataFromRequest(headers, true),
      name: r.location.name,
    };
    const expected = headers.etag === undefined ? '' : unquoteEtag(headers.etag);
    if (expected && expected !== etag) return plain(422, 'The entity could not be processed');
    await file.write(encodeTrailer(metadata));
    await ctx.disk.install(r.location, file, timestamp, 'data');

    const update: Record<string, string> = {
      'x-size': metadata['content-length']!,
      'x-content-type': metadata['content-type']!,
      'x-timestamp': metadata['x-timestamp']!,
      'x-etag': etag,
    };
    applyUpdateOverrides(update, headers);
    await ctx.sendContainerUpdate(r, 'PUT', update, timestamp);
    await ctx.updateExpirerQueue(r, timestamp, existing?.['x-delete-at'], metadata['x-delete-at'], metadata);
    return bare(201, { etag: `"${etag}"` });
  } finally {
    await file.discard();
  }
}

/**
 * The request's Content-Length (undefined when chunked); throws the 4xx Swift answers for a bad
 * upload. The proxy may put swift_bytes in the type (SLO manifests), and a replicating sender
 * copies an object whose X-Delete-At may have passed already.
 */
function checkUpload(headers: Record<string, string>, object: string, timestamp: Timestamp): number | undefined {
  const refused = checkObjectCreation(headers, object, { contentTypeOverridden: true }) ?? (isTrue(headers['x-backend-replication']) ? undefined : applyDeleteHeaders(headers, timestamp.seconds));
  if (refused) throw new HttpError(refused);
  const chunked = headers['transfer-encoding'] !== undefined;
  return chunked ? undefined : Number(headers['content-length']);
}

/**
 * Copies the body into `file` and returns its MD5. A client that goes away mid-body, or
 * sends nothing for `idleMs`, makes this throw; the caller then drops the temp file.
 */
async function receiveBody(body: Readable | undefined, file: TempFile, idleMs: number): Promise<string> {
  const md5 = createHash('md5');
  if (!body) return md5.digest('hex');
  let idle: NodeJS.Timeout | undefined;
  let timedOut = false;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      body.destroy(new Error('client idle'));
    }, idleMs);
  };
  arm();
  try {
    for await (const chunk of body) {
      arm();
      const data = chunk as Buffer;
      if (file.size + data.length > MAX_FILE_SIZE) throw new TooLarge();
      md5.update(data);
      await file.write(data).catch((err: unknown) => {
        throw new WriteFailed(err);
      });
    }
  } catch (err) {
    if (err instanceof TooLarge || err instanceof WriteFailed) throw err;
    if (timedOut) throw new ClientTimeout();
    throw new ClientDisconnect(String(err));
  } finally {
    clearTimeout(idle);
  }
  // A socket closed mid-body can end the stream without an error; the length check catches that for sized uploads.
  if ((body as Readable & { aborted?: boolean }).aborted) throw new ClientDisconnect('aborted');
  return md5.digest('hex');
}
