// A small in-memory stand-in for the proxy and storage below a middleware, for unit tests:
// accounts, containers and objects with metadata and counts, authorization asked of
// req.env.authorize the way the proxy asks it, and every request it saw kept for inspection.
import { createHash } from 'node:crypto';
import { parseSwiftPath } from '../../path.ts';
import { readBody, textResponse, type Handler, type SwiftRequest, type SwiftResponse } from '../../pipeline.ts';

interface StoredObject {
  data: Buffer;
  headers: Record<string, string>;
}

interface StoredContainer {
  headers: Record<string, string>;
  objects: Map<string, StoredObject>;
}

interface StoredAccount {
  headers: Record<string, string>;
  containers: Map<string, StoredContainer>;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  source?: string;
  preauthorized: boolean;
}

const META = /^x-(account|container|object)-(meta|sysmeta)-|^x-container-(read|write)$|^content-(type|disposition|encoding)$|^x-delete-at$/;

export class MemorySwift {
  readonly accounts = new Map<string, StoredAccount>();
  readonly seen: SeenRequest[] = [];
  /** answers by path and method for requests the test wants to fail ("DELETE /v1/a/c/o" → 503) */
  readonly failures = new Map<string, number>();

  account(name: string, headers: Record<string, string> = {}): StoredAccount {
    let account = this.accounts.get(name);
    if (!account) this.accounts.set(name, (account = { headers: {}, containers: new Map() }));
    Object.assign(account.headers, headers);
    return account;
  }

  container(account: string, name: string, headers: Record<string, string> = {}): StoredContainer {
    const a = this.account(account);
    let container = a.containers.get(name);
    if (!container) a.containers.set(name, (container = { headers: {}, objects: new Map() }));
    Object.assign(container.headers, headers);
    return container;
  }

  object(account: string, container: string, name: string): StoredObject | undefined {
    return this.accounts.get(account)?.containers.get(container)?.objects.get(name);
  }

  putObject(account: string, container: string, name: string, data: string | Buffer, headers: Record<string, string> = {}): void {
    const body = Buffer.from(data);
    this.container(account, container).objects.set(name, {
      data: body,
      headers: { 'content-type': 'application/octet-stream', ...headers, etag: createHash('md5').update(body).digest('hex') },
    });
  }

  readonly handler: Handler = async (req) => {
    this.seen.push({
      method: req.method, path: req.path, query: req.query.toString(), headers: { ...req.headers },
      source: req.env.source, preauthorized: req.env.authorizeOverride === true,
    });
    const failure = this.failures.get(`${req.method} ${req.path}`);
    if (failure !== undefined) return textResponse(failure, 'failing on purpose');
    const p = parseSwiftPath(req.path);
    if (!p) return textResponse(404);
    if (p.container === undefined) return this.accountRequest(req, p.account);
    if (p.object === undefined) return this.containerRequest(req, p.account, p.container);
    return this.objectRequest(req, p.account, p.container, p.object);
  };

  private accountRequest(req: SwiftRequest, name: string): SwiftResponse {
    const refused = req.env.authorize?.(req);
    if (refused) return refused;
    const account = this.accounts.get(name);
    if (req.method === 'POST' || req.method === 'PUT') {
      const a = this.account(name);
      setMeta(a.headers, req.headers);
      return { status: req.method === 'PUT' ? 201 : 204, headers: {} };
    }
    if (!account) return textResponse(404);
    let objects = 0;
    let bytes = 0;
    for (const c of account.containers.values()) {
      for (const o of c.objects.values()) {
        objects++;
        bytes += o.data.length;
      }
    }
    return {
      status: 204,
      headers: {
        ...account.headers,
        'x-account-container-count': String(account.containers.size),
        'x-account-object-count': String(objects),
        'x-account-bytes-used': String(bytes),
      },
    };
  }

  private containerRequest(req: SwiftRequest, account: string, name: string): SwiftResponse {
    const refused = req.env.authorize?.(req);
    if (refused) return refused;
    const container = this.accounts.get(account)?.containers.get(name);
    switch (req.method) {
      case 'PUT': {
        const existed = container !== undefined;
        setMeta(this.container(account, name).headers, req.headers);
        return { status: existed ? 202 : 201, headers: {} };
      }
      case 'POST':
        if (!container) return textResponse(404);
        setMeta(container.headers, req.headers);
        return { status: 204, headers: {} };
      case 'DELETE':
        if (!container) return textResponse(404);
        if (container.objects.size > 0) return textResponse(409, 'There was a conflict when trying to complete your request.');
        this.accounts.get(account)!.containers.delete(name);
        return { status: 204, headers: {} };
      case 'HEAD':
      case 'GET': {
        if (!container) return textResponse(404);
        let bytes = 0;
        for (const o of container.objects.values()) bytes += o.data.length;
        const names = [...container.objects.keys()].sort();
        const body = req.method === 'GET' ? JSON.stringify(names.map((n) => ({ name: n }))) : undefined;
        return {
          status: req.method === 'GET' ? 200 : 204,
          headers: { ...container.headers, 'x-container-object-count': String(container.objects.size), 'x-container-bytes-used': String(bytes) },
          body,
        };
      }
    }
    return textResponse(405);
  }

  private async objectRequest(req: SwiftRequest, account: string, containerName: string, name: string): Promise<SwiftResponse> {
    const container = this.accounts.get(account)?.containers.get(containerName);
    const writing = req.method === 'PUT' || req.method === 'POST' || req.method === 'DELETE';
    const refused = req.env.authorize?.(req, writing ? container?.headers['x-container-write'] : container?.headers['x-container-read']);
    if (refused) return refused;
    if (!container) return textResponse(404);
    const stored = container.objects.get(name);
    switch (req.method) {
      case 'PUT': {
        let data: Buffer;
        try {
          data = await readBody(req.body, 64 * 1024 * 1024);
        } catch {
          return textResponse(499);
        }
        const headers: Record<string, string> = {};
        setMeta(headers, req.headers);
        this.putObject(account, containerName, name, data, headers);
        return { status: 201, headers: { etag: container.objects.get(name)!.headers.etag! } };
      }
      case 'POST':
        if (!stored) return textResponse(404);
        setMeta(stored.headers, req.headers);
        return { status: 202, headers: {} };
      case 'DELETE':
        if (!stored) return textResponse(404);
        container.objects.delete(name);
        return { status: 204, headers: {} };
      case 'GET':
      case 'HEAD':
        if (!stored) return textResponse(404);
        return {
          status: 200,
          headers: { ...stored.headers, 'content-length': String(stored.data.length) },
          body: req.method === 'GET' ? stored.data : undefined,
        };
    }
    return textResponse(405);
  }
}

function setMeta(target: Record<string, string>, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!META.test(name)) continue;
    if (value === '') delete target[name];
    else target[name] = value;
  }
}

/** A request as the HTTP server would hand it to the pipeline. */
export function request(method: string, url: string, headers: Record<string, string> = {}, body?: SwiftRequest['body']): SwiftRequest {
  const q = url.indexOf('?');
  return {
    method,
    path: decodeURIComponent(q < 0 ? url : url.slice(0, q)),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers,
    body,
    env: { transId: 'txtest', remoteAddr: '127.0.0.1', infoCache: new Map() },
  };
}

/** The whole body of a response, as text. */
export async function bodyText(res: SwiftResponse): Promise<string> {
  return (await readBody(res.body, 1 << 30)).toString('utf8');
}
