// Requests a worker makes through the proxy's pipeline in its own process (Swift's
// InternalClient): no HTTP hop, no auth, the proxy doing the placement, quorum and container
// updates as for any client. Marked with a source, so the proxy keeps the X-Timestamp the
// worker sets (the expirer deletes "as of" the expiry time).
import { newTransId } from '../http-server.ts';
import { readBody, type Handler, type SwiftRequest } from '../pipeline.ts';

export interface InternalResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const MAX_BODY = 64 << 20;

export class InternalClient {
  constructor(
    private readonly handler: Handler,
    /** names the worker in the proxy's logs (Swift's swift.source) */
    private readonly source: string,
  ) {}

  async request(method: string, path: string, opts: { headers?: Record<string, string>; query?: Record<string, string> } = {}): Promise<InternalResponse> {
    const req: SwiftRequest = {
      method,
      path,
      query: new URLSearchParams(opts.query ?? {}),
      headers: { 'user-agent': `tenrec-${this.source}`, ...(opts.headers ?? {}) },
      env: { transId: newTransId(), source: this.source, infoCache: new Map() },
    };
    const res = await this.handler(req);
    const body = method === 'HEAD' ? Buffer.alloc(0) : await readBody(res.body, MAX_BODY);
    return { status: res.status, headers: res.headers, body };
  }

  /**
   * Every entry of an account or container listing (`path` = /v1/<a> or /v1/<a>/<c>), page by
   * page; a listing that is not there (404) is empty. Other failures throw.
   */
  async *listing<T extends { name: string }>(path: string, query: Record<string, string> = {}): AsyncGenerator<T> {
    let marker = '';
    for (;;) {
      const res = await this.request('GET', path, { query: { ...query, format: 'json', ...(marker ? { marker } : {}) } });
      if (res.status === 404) return;
      if (res.status === 204) return;
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
      const page = JSON.parse(res.body.toString('utf8')) as T[];
      if (!page.length) return;
      for (const entry of page) yield entry;
      marker = page[page.length - 1]!.name;
    }
  }
}
