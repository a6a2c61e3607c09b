// Writes that go to every replica at once (container and account changes, object POST and
// DELETE): one request per primary, a handoff taking the place of any primary that fails, and
// the answer the majority agrees on (Swift's make_requests and best_response).
import type { SwiftResponse } from '../pipeline.ts';
import type { Ring, RingDevice } from '../ring/types.ts';
import { backendRequest, discardResponse, nodeName, readSmallBody, type BackendClient } from './backend.ts';
import { NodeIter } from './nodes.ts';
import { passOnHeaders, serviceUnavailable } from './responses.ts';

/** How long the stragglers get once a quorum has answered. */
const POST_QUORUM_MS = 500;

export interface NodeResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** undefined for the stand-in 503 of a replica nobody could reach */
  node?: RingDevice;
  handoff?: boolean;
}

/** Answers needed to agree, as Swift counts them for replicated data: 2 of 3, 1 of 1 or 2. */
export function quorumSize(replicas: number): number {
  return Math.ceil(replicas / 2);
}

const statusClass = (status: number) => Math.floor(status / 100) * 100;

export function haveQuorum(statuses: number[], nodeCount: number): boolean {
  const quorum = quorumSize(nodeCount);
  if (statuses.length < quorum) return false;
  return [100, 200, 300, 400].some((cls) => statuses.filter((s) => statusClass(s) === cls).length >= quorum);
}

/**
 * The answer a quorum agrees on (the highest status of the agreeing class, with its headers and
 * body); `overrides` count some statuses as others when nothing agrees (a 404 to a DELETE is as
 * good as a 204). A 503 when no quorum agrees.
 */
export function bestResponse(results: NodeResult[], quorum: number, overrides?: Record<number, number>): SwiftResponse {
  const pick = (statuses: number[], avoid: Set<number>): SwiftResponse | undefined => {
    for (const cls of [200, 300, 400]) {
      const members = statuses.map((s, i) => [s, i] as const).filter(([s]) => statusClass(s) === cls);
      if (members.length < quorum) continue;
      const usable = members.filter(([, i]) => !avoid.has(i));
      if (!usable.length) continue;
      const [, index] = usable.reduce((best, m) => (m[0] > best[0] ? m : best));
      const chosen = results[index]!;
      return {
        status: chosen.status,
        headers: {
          ...passOnHeaders(chosen.headers),
          'content-type': 'text/html; charset=UTF-8',
          'content-length': String(chosen.body.length),
        },
        body: chosen.body,
      };
    }
    return undefined;
  };
  const statuses = results.map((r) => r.status);
  let response = pick(statuses, new Set());
  if (!response && overrides) {
    const faked = new Set(statuses.flatMap((s, i) => (overrides[s] !== undefined ? [i] : [])));
    response = pick(statuses.map((s) => overrides[s] ?? s), faked);
  }
  return response ?? serviceUnavailable();
}

/**
 * One request per primary of the partition, each with its own header set (or a copy of the one
 * given), answered as the quorum agrees: the account and container writes.
 */
export async function quorumWrite(
  client: BackendClient,
  ring: Ring,
  partition: number,
  method: string,
  path: string,
  headers: Record<string, string> | Record<string, string>[],
): Promise<SwiftResponse> {
  const perNode = Array.isArray(headers) ? headers : ring.getPartNodes(partition).map(() => ({ ...headers }));
  const results = await makeRequests(client, ring, partition, method, path, perNode);
  return bestResponse(results, quorumSize(results.length));
}

export interface FanOutOptions {
  query?: URLSearchParams;
  body?: Buffer;
}

/**
 * Sends one request per entry of `headers` (one per replica), each to the next node that
 * answers below 500. Returns once all have answered, or a quorum has and the rest had a
 * moment more; replicas left without an answer count as 503s.
 */
export async function makeRequests(
  client: BackendClient,
  ring: Ring,
  partition: number,
  method: string,
  path: string,
  headers: Record<string, string>[],
  opts: FanOutOptions = {},
): Promise<NodeResult[]> {
  const nodes = new NodeIter(ring, partition);
  const attempt = async (nodeHeaders: Record<string, string>): Promise<NodeResult | undefined> => {
    for (let choice = nodes.next(); choice; choice = nodes.next()) {
      try {
        const res = await backendRequest(client, choice.node, partition, method, path, { headers: nodeHeaders, query: opts.query, body: opts.body });
        if (res.status >= 500) {
          client.logger.warn({ node: nodeName(choice.node), status: res.status, method, path }, 'storage node error');
          discardResponse(res);
          continue;
        }
        return { status: res.status, headers: res.headers, body: await readSmallBody(res), node: choice.node, handoff: choice.handoff };
      } catch (err) {
        client.logger.warn({ node: nodeName(choice.node), err: (err as Error).message, method, path }, 'storage node unreachable');
      }
    }
    return undefined;
  };
  // A handoff that has never seen the data answers 404 without a timestamp: that proves nothing.
  const useful = (r: NodeResult | undefined): r is NodeResult =>
    r !== undefined && !(r.handoff && r.status === 404 && r.headers['x-backend-timestamp'] === undefined);

  const results: NodeResult[] = [];
  await new Promise<void>((resolve) => {
    let pending = headers.length;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      resolve();
    };
    if (pending === 0) finish();
    for (const nodeHeaders of headers) {
      void attempt(nodeHeaders).then((result) => {
        pending -= 1;
        if (done) return;
        if (useful(result)) results.push(result);
        if (pending === 0) finish();
        else if (!timer && haveQuorum(results.map((r) => r.status), headers.length)) timer = setTimeout(finish, POST_QUORUM_MS);
      });
    }
  });
  while (results.length < headers.length) {
    const unavailable = serviceUnavailable();
    results.push({ status: 503, headers: {}, body: Buffer.from(unavailable.body as string) });
  }
  return results;
}
