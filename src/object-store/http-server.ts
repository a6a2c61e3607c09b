// Serves a pipeline Handler over HTTP, for the proxy and the storage servers alike. Swift's
// wire is not Fastify's: any method (COPY, REPLICATE), raw paths with slashes and %-escapes,
// bodies streamed whatever their type. So every request is taken over (hijacked) at once and
// handed to the pipeline as it came; Fastify is kept for what the launcher needs of it
// (listening, graceful close).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { textResponse, type Handler, type SwiftRequest, type SwiftResponse } from './pipeline.ts';

export interface HandlerAppOptions {
  /** names the process in logs: 'object-store:proxy', 'object-store:storage' */
  service: string;
  logger: Logger;
  /** appended to transaction ids (Swift's trans_id_suffix) */
  transIdSuffix?: string;
}

/** tx + 21 hex digits + '-' + the time in hex, as Swift makes them. */
export function newTransId(suffix = ''): string {
  const time = Math.floor(Date.now() / 1000).toString(16).padStart(10, '0');
  return `tx${randomBytes(11).toString('hex').slice(0, 21)}-${time}${suffix}`;
}

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH'];
/** Swift's COPY, and REPORT for the storage servers' replication calls (Node cannot parse Swift's REPLICATE verb). */
const EXTRA_METHODS = ['COPY', 'REPORT'];

export class BadPathError extends Error {}

/** The decoded path and query of a raw request URL; a path that is not valid UTF-8 or holds NUL is refused (412 in Swift). */
export function splitUrl(rawUrl: string): { path: string; query: URLSearchParams } {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new BadPathError('Invalid UTF8 or contains NULL');
  }
  if (path.includes('\0')) throw new BadPathError('Invalid UTF8 or contains NULL');
  return { path, query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)) };
}

function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** A request has a body when it says so: a length above zero or chunked transfer. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

async function send(res: ServerResponse, response: SwiftResponse, head: boolean): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  const body = response.body;
  if (head || body === undefined || response.status === 204 || response.status === 304) {
    if (body && typeof body !== 'string' && !Buffer.isBuffer(body)) body.destroy();
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = body as Readable;
    const stop = (err?: Error) => {
      // A body that fails midway can only be cut short: the status line is gone.
      if (err) res.destroy(err);
      resolve();
    };
    stream.once('error', stop);
    res.once('close', () => {
      if (!stream.readableEnded) stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

export function handlerApp(handler: Handler, opts: HandlerAppOptions): FastifyInstance {
  const logger = opts.logger.child({ service: opts.service });
  const app = Fastify({
    logger: false,
    routerOptions: { maxParamLength: 65536 },
    // Fastify refuses a path it cannot decode before any hook runs; Swift's answer is a 412.
    frameworkErrors: (err: { code?: string }, _req: unknown, reply: any) => {
      const refused = textResponse(err.code === 'FST_ERR_BAD_URL' ? 412 : 400, err.code === 'FST_ERR_BAD_URL' ? 'Invalid UTF8 or contains NULL' : 'Bad request');
      reply.status(refused.status).headers(refused.headers).send(refused.body);
    },
  } as any) as unknown as FastifyInstance;

  const handle = async (raw: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const transId = typeof raw.headers['x-trans-id'] === 'string' && raw.headers['x-trans-id'] ? raw.headers['x-trans-id'] : newTransId(opts.transIdSuffix);
    let response: SwiftResponse;
    let req: SwiftRequest | undefined;
    try {
      const { path, query } = splitUrl(raw.url ?? '/');
      req = {
        method: (raw.method ?? 'GET').toUpperCase(),
        path,
        query,
        headers: requestHeaders(raw),
        body: hasBody(raw) ? raw : undefined,
        env: { transId, remoteAddr: raw.socket.remoteAddress, infoCache: new Map() },
      };
      response = await handler(req);
    } catch (err) {
      if (err instanceof BadPathError) response = textResponse(412, err.message);
      else {
        logger.error({ err, trans_id: transId }, 'unhandled error');
        response = textResponse(500, 'An error occurred');
      }
    }
    response.headers['x-trans-id'] ??= transId;
    response.headers['x-openstack-request-id'] ??= transId;
    // An unread request body would otherwise stall the connection for the next request.
    if (req?.body && !raw.readableEnded) raw.resume();
    await send(res, response, req?.method === 'HEAD');
    logger.info(
      { method: raw.method, url: raw.url, status: response.status, ms: Math.round((performance.now() - started) * 10) / 10, trans_id: transId, source: req?.env.source },
      'request',
    );
  };

  app.addHook('onRequest', (request, reply, done) => {
    reply.hijack();
    handle(request.raw, reply.raw).catch((err) => {
      logger.error({ err }, 'response failed');
      reply.raw.destroy();
    });
    done();
  });
  // Routing never decides anything here; the route exists so every method reaches the hook.
  for (const method of EXTRA_METHODS) (app as any).addHttpMethod(method, { hasBody: true });
  app.route({ method: [...METHODS, ...EXTRA_METHODS] as any, url: '*', handler: async () => undefined });
  return app;
}
