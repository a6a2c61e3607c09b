// A replicator's requests to the storage servers of its peers (objects and databases alike).
// A peer that cannot be reached is logged and answers undefined: the pass goes on with the
// others and the next one tries again. A 507 — the peer's device is unmounted or missing — is
// thrown as DeviceUnavailable, so the caller may send that replica to a handoff instead.
import type { Logger } from 'pino';
import { backendRequest, nodeName, readSmallBody, type BackendClient } from '../proxy/backend.ts';
import type { RingDevice } from '../ring/types.ts';

/** The remote device answered 507: unmounted or missing. The caller may try a handoff instead. */
export class DeviceUnavailable extends Error {}

export interface PeerAnswer {
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  /** the start of the body, up to the request's maxBody */
  body: Buffer;
}

export interface PeerRequest {
  headers?: Record<string, string>;
  body?: Buffer;
  /** the most of the answer's body that is read (default 4 KiB: enough for an error's text) */
  maxBody?: number;
}

export class PeerClient {
  constructor(
    readonly backend: BackendClient,
    readonly logger: Logger,
    /** who asks, in the peers' logs (User-Agent) and in ours */
    readonly agent: string,
  ) {}

  /** `method` on /<device>/<partition><path> of `node`; undefined when it cannot be reached. */
  async request(node: RingDevice, partition: number, method: string, path: string, req: PeerRequest = {}): Promise<PeerAnswer | undefined> {
    let answer: PeerAnswer;
    try {
      const res = await backendRequest(this.backend, node, partition, method, path, { headers: { ...req.headers, 'user-agent': `${this.agent} ${process.pid}` }, body: req.body });
      answer = { status: res.status, headers: res.headers, body: await readSmallBody(res, req.maxBody ?? 4096) };
    } catch (err) {
      this.logger.warn({ node: nodeName(node), partition, method, path, err: (err as Error).message }, `${this.agent}: node unreachable`);
      return undefined;
    }
    if (answer.status === 507) throw new DeviceUnavailable(node.device);
    return answer;
  }
}
