// Reads (GET and HEAD of accounts, containers and objects): ask one node at a time, primaries
// first, until one has a good answer; a tombstone newer than what was found means the thing is
// gone. With X-Newest every node is asked and the newest copy wins (Swift's GETorHEAD_base).
import type { SwiftResponse } from '../pipeline.ts';
import type { Ring } from '../ring/types.ts';
import { Timestamp } from '../storage/timestamp.ts';
import { backendRequest, discardResponse, nodeName, readSmallBody, watchBody, type BackendClient, type BackendResponse } from './backend.ts';
import { NodeIter } from './nodes.ts';
import { bestResponse, quorumSize, type NodeResult } from './quorum.ts';
import { passOnHeaders } from './responses.ts';
import { headerTimestamp } from './timestamp.ts';

export interface ReadOptions {
  serverType: 'account' | 'container' | 'object';
  method: 'GET' | 'HEAD';
  /** /a[/c[/o]] */
  path: string;
  headers: Record<string, string>;
  query?: URLSearchParams;
  /** ask every node and keep the newest (X-Newest) */
  newest?: boolean;
}

/** Answers a read may stop at: it found the thing (or the condition it was asked about). */
function isGoodStatus(status: number, serverType: ReadOptions['serverType']): boolean {
  if (serverType === 'object' && (status === 416 || status === 412)) return true;
  return status >= 200 && status < 400;
}

/** The time a copy was written, to pick the newest and to compare with tombstones. */
function sourceTimestamp(headers: Record<string, string>): Timestamp {
  return headerTimestamp(headers['x-backend-data-timestamp'] ?? headers['x-backend-timestamp'] ?? headers['x-put-timestamp'] ?? headers['x-timestamp']);
}

/** The client's response built from the chosen node's: its status and headers, its body streamed. */
async function sourceResponse(client: BackendClient, source: BackendResponse, opts: ReadOptions): Promise<SwiftResponse> {
  const { method } = opts;
  const headers = passOnHeaders(source.headers);
  headers['accept-ranges'] = 'bytes';
  // a container was last modified when it was last PUT or POSTed (its listing changes do not count)
  if (opts.serverType === 'container' && !headers['last-modified'] && source.headers['x-put-timestamp']) {
    headers['last-modified'] = headerTimestamp(source.headers['x-put-timestamp']).httpDate;
  }
  if (source.headers['content-type']) headers['content-type'] = source.headers['content-type'];
  const streamed = method === 'GET' && (source.status === 200 || source.status === 206);
  if (streamed) {
    if (source.headers['content-length'] !== undefined) headers['content-length'] = source.headers['content-length'];
    return { status: source.status, headers, body: watchBody(client, source) };
  }
  if (method === 'HEAD') {
    if (source.headers['content-length'] !== undefined) headers['content-length'] = source.headers['content-length'];
    discardResponse(source);
    return { status: source.status, headers };
  }
  const body = await readSmallBody(source);
  headers['content-length'] = String(body.length);
  return { status: source.status, headers, body };
}

export async function readFromNodes(client: BackendClient, ring: Ring, partition: number, opts: ReadOptions): Promise<SwiftResponse> {
  const nodes = new NodeIter(ring, partition);
  const errors: NodeResult[] = [];
  let sources: { res: BackendResponse; timestamp: Timestamp }[] = [];
  let latestTombstone = Timestamp.zero();

  for (let choice = nodes.next(); choice; choice = nodes.next()) {
    let res: BackendResponse;
    try {
      res = await backendRequest(client, choice.node, partition, opts.method, opts.path, { headers: opts.headers, query: opts.query });
    } catch (err) {
      client.logger.warn({ node: nodeName(choice.node), err: (err as Error).message, path: opts.path }, 'storage node unreachable');
      continue;
    }
    if (isGoodStatus(res.status, opts.serverType)) {
      // An account or container database that was never put (only replicated into being) is not there.
      if (res.headers['x-put-timestamp'] !== undefined && !Number(res.headers['x-put-timestamp'])) {
        discardResponse(res);
        errors.push({ status: 404, headers: {}, body: Buffer.alloc(0), node: choice.node, handoff: choice.handoff });
        continue;
      }
      const timestamp = sourceTimestamp(res.headers);
      if (!latestTombstone.newerThan(timestamp)) {
        sources.push({ res, timestamp });
        if (!opts.newest) break;
      } else {
        discardResponse(res);
      }
      continue;
    }
    const tombstone = headerTimestamp(res.headers['x-backend-timestamp']);
    const noTombstone = !tombstone.newerThan(Timestamp.zero());
    if (choice.handoff && (res.status >= 500 || res.status === 404) && noTombstone) {
      // a handoff that never held the data knows nothing about it
      discardResponse(res);
      continue;
    }
    if (res.status >= 500) client.logger.warn({ node: nodeName(choice.node), status: res.status, path: opts.path }, 'storage node error');
    errors.push({ status: res.status, headers: res.headers, body: await readSmallBody(res), node: choice.node, handoff: choice.handoff });
    if (opts.serverType === 'object' && res.status === 404 && tombstone.newerThan(latestTombstone)) latestTombstone = tombstone;
  }

  // A copy older than a deletion seen elsewhere is a stale replica, not the object.
  const stale = sources.filter((s) => latestTombstone.newerThan(s.timestamp));
  for (const s of stale) discardResponse(s.res);
  sources = sources.filter((s) => !stale.includes(s));
  if (sources.length) {
    sources.sort((a, b) => a.timestamp.compare(b.timestamp));
    const chosen = sources.pop()!;
    for (const s of sources) discardResponse(s.res);
    return sourceResponse(client, chosen.res, opts);
  }
  return bestResponse(errors, quorumSize(errors.length));
}
