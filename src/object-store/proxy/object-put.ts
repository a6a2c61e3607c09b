// Object PUT: the body is streamed to every replica at once, never held whole. Each replica's
// server first says 100 Continue (a handoff takes the place of one that cannot), then gets each
// chunk as it arrives from the client, the client waiting while the slowest takes it. The last
// chunk is held back until the whole body is seen: if the client went away or sent less than it
// announced, the uploads are cut short and no replica keeps anything. Each replica's server
// hashes what it stores and refuses (422) a body whose MD5 is not the client's ETag.
import type { Readable } from 'node:stream';
import { applyDeleteHeaders, checkObjectCreation, MAX_FILE_SIZE } from '../constraints.ts';
import { textResponse, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import type { Ring } from '../ring/types.ts';
import { isTrue } from '../storage/header-families.ts';
import { finishUpload, nodeName, openUpload, readSmallBody, writeChunk, type Upload } from './backend.ts';
import { authorize, type ProxyContext } from './context.ts';
import type { ContainerInfo } from './info.ts';
import { guessContentType } from './mime.ts';
import { NodeIter } from './nodes.ts';
import { objectBackendHeaders, withContainerUpdates, type ObjectTarget } from './object-headers.ts';
import { bestResponse, quorumSize, type NodeResult } from './quorum.ts';
import { accepted, isSuccess, notFound, preconditionFailed, ResponseError, serviceUnavailable } from './responses.ts';
import { headerTimestamp } from './timestamp.ts';

const normalizeEtag = (etag: string | undefined) => etag?.replaceAll('"', '').toLowerCase();

/** A missing Content-Type (or X-Detect-Content-Type: true) is guessed from the name. */
function settleContentType(req: SwiftRequest, name: string): void {
  const detect = isTrue(req.headers['x-detect-content-type']);
  if (detect || !req.headers['content-type']) req.headers['content-type'] = guessContentType(name) ?? 'application/octet-stream';
  delete req.headers['x-detect-content-type'];
}

/** Opens one upload per header set, each on the first node (primaries, then handoffs) that takes it. */
async function openUploads(ctx: ProxyContext, ring: Ring, partition: number, path: string, headers: Record<string, string>[]): Promise<Upload[]> {
  const nodes = new NodeIter(ring, partition);
  const open = async (nodeHeaders: Record<string, string>): Promise<Upload | undefined> => {
    for (let choice = nodes.next(); choice; choice = nodes.next()) {
      try {
        const upload = await openUpload(ctx.client, choice.node, partition, path, nodeHeaders);
        const early = upload.early?.status;
        // An answer instead of 100 Continue: a conflict or failed condition is an answer about
        // the object; anything else (507, 503) means try another node.
        if (early === undefined || early === 409 || early === 412 || isSuccess(early)) return upload;
        ctx.logger.warn({ node: nodeName(choice.node), status: early, path }, 'storage node refused an object PUT');
        upload.req.destroy();
      } catch (err) {
        ctx.logger.warn({ node: nodeName(choice.node), err: (err as Error).message, path }, 'storage node unreachable');
      }
    }
    return undefined;
  };
  const uploads = await Promise.all(headers.map(open));
  return uploads.filter((u): u is Upload => u !== undefined);
}

/**
 * Copies the client's body to every live upload; uploads that fail are dropped, and fewer than
 * `quorum` left is a 503. Throws a ResponseError for the client: 413 past max_file_size, 499
 * when the client disconnects or sends less than it said.
 */
async function streamBody(ctx: ProxyContext, body: Readable | undefined, live: Upload[], quorum: number, length: number | undefined): Promise<Buffer | undefined> {
  let bytes = 0;
  let last: Buffer | undefined;
  const send = async (chunk: Buffer) => {
    const outcomes = await Promise.allSettled(live.map((upload) => writeChunk(ctx.client, upload, chunk)));
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') ctx.logger.warn({ node: nodeName(live[i]!.node), err: outcome.reason?.message }, 'object PUT failed during send');
    });
    live.splice(0, live.length, ...live.filter((_, i) => outcomes[i]!.status === 'fulfilled'));
    if (live.length < quorum) throw new ResponseError(serviceUnavailable());
  };
  try {
    // Not destroyed when the loop stops early: the client must still get the error answer.
    for await (const chunk of body?.iterator({ destroyOnReturn: false }) ?? []) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      bytes += data.length;
      if (bytes > MAX_FILE_SIZE) throw new ResponseError(textResponse(413, 'Your request is too large.'));
      if (last) await send(last);
      last = data;
    }
  } catch (err) {
    if (err instanceof ResponseError) throw err;
    ctx.logger.warn({ err: (err as Error).message }, 'client disconnected during object PUT');
    throw new ResponseError(textResponse(499, 'The client disconnected during the request.'));
  }
  if (length !== undefined && bytes < length) {
    ctx.logger.warn({ bytes, length }, 'client sent less than its Content-Length');
    throw new ResponseError(textResponse(499, 'The client disconnected during the request.'));
  }
  return last;
}

/** Ends every live upload and gathers the answers; replicas that gave none count as 503s. */
async function finishUploads(ctx: ProxyContext, live: Upload[], last: Buffer | undefined, replicas: number): Promise<NodeResult[]> {
  const answers = await Promise.allSettled(live.map((upload) => finishUpload(ctx.client, upload, last)));
  const results: NodeResult[] = [];
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 'rejected') {
      ctx.logger.warn({ node: nodeName(live[i]!.node), err: answer.reason?.message }, 'no answer to object PUT');
      continue;
    }
    const res = answer.value;
    results.push({ status: res.status, headers: res.headers, body: await readSmallBody(res), node: res.node });
  }
  while (results.length < replicas) results.push({ status: 503, headers: {}, body: Buffer.alloc(0) });
  return results;
}

export async function putObject(ctx: ProxyContext, req: SwiftRequest, target: ObjectTarget, info: ContainerInfo): Promise<SwiftResponse> {
  const refused = authorize(req, info.writeAcl);
  if (refused) return refused;
  if (!isSuccess(info.status)) return notFound();
  settleContentType(req, target.object);
  const invalid = checkObjectCreation(req.headers, target.object, { contentTypeOverridden: req.env.contentTypeOverridden === true }) ?? applyDeleteHeaders(req.headers, headerTimestamp(req.headers['x-timestamp']).seconds);
  if (invalid) return invalid;

  const ring = ctx.rings().object;
  const { partition, nodes } = ring.getNodes(target.account, target.container, target.object);
  if (!nodes.length) return notFound();
  const quorum = quorumSize(nodes.length);
  const chunked = req.headers['content-length'] === undefined;
  const length = chunked ? undefined : Number(req.headers['content-length']);
  const base = objectBackendHeaders(req, info);
  // A zero-length body goes chunked, so the replicas cannot take it as complete before the
  // proxy has checked it (the held-back last chunk does that for longer ones).
  if (length) base['content-length'] = String(length);
  const uploads = await openUploads(ctx, ring, partition, target.path, withContainerUpdates(ctx, base, nodes.length, target));
  try {
    const early = uploads.flatMap((u) => (u.early ? [u.early.status] : []));
    if (req.headers['if-none-match']?.includes('*') && early.includes(412)) return preconditionFailed();
    if (early.includes(409)) return accepted();
    const live = uploads.filter((u) => !u.early);
    if (live.length < quorum) {
      ctx.logger.error({ path: target.path, connected: live.length, quorum }, 'object PUT returning 503: too few storage nodes');
      return serviceUnavailable();
    }
    const last = await streamBody(ctx, req.body, live, quorum, length);
    // Each storage server hashes what it stored and checks the client's ETag (422 when it
    // differs); the proxy only makes sure the replicas agree, as Swift's does.
    const results = await finishUploads(ctx, live, last, nodes.length);
    const stored = new Set(results.filter((r) => isSuccess(r.status) && r.headers['etag']).map((r) => normalizeEtag(r.headers['etag'])));
    if (stored.size > 1) {
      ctx.logger.error({ path: target.path, etags: [...stored] }, 'object servers returned mismatched etags');
      return textResponse(500, 'An error occurred');
    }
    const best = bestResponse(results, quorum);
    if (best.status === 422) return textResponse(422, 'Unable to process the contained instructions');
    if (!isSuccess(best.status)) return best;
    const etag = [...stored][0] ?? '';
    return {
      status: best.status,
      headers: { 'content-type': 'text/html; charset=UTF-8', 'content-length': '0', etag, 'last-modified': headerTimestamp(req.headers['x-timestamp']).httpDate },
      body: '',
    };
  } catch (err) {
    if (err instanceof ResponseError) return err.response;
    throw err;
  } finally {
    // Whatever was not finished is cut, so its server discards the partial upload.
    for (const upload of uploads) if (!upload.req.writableFinished) upload.req.destroy();
  }
}
