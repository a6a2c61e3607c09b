// The Fastify app factory every service's API is built on: request ids, upstream fault bodies,
// /healthcheck, JSON logs with the request id, and never a stack trace to a client.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyError } from 'fastify';
import type { Logger } from 'pino';
import { HttpError } from './errors.ts';
import type { FaultRenderer } from './faults.ts';

export interface AppOptions {
  /** catalog service type, e.g. 'identity' */
  service: string;
  fault: FaultRenderer;
  logger: Logger;
  /** extra response headers that repeat the request id (nova sends x-compute-request-id too) */
  requestIdHeaders?: string[];
  /** the largest request body accepted, bytes */
  bodyLimit?: number;
  /** treat /x/ as /x (Keystone does); Glance answers /v2/images/ with 404, so it turns this off */
  ignoreTrailingSlash?: boolean;
}

const REQUEST_ID = /^req-[0-9a-f-]{36}$/;

export function createApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ service: opts.service }),
    // One log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // A caller's own request id is kept when it has the upstream form (as oslo.middleware does).
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-openstack-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req-${randomUUID()}`;
    },
    routerOptions: { maxParamLength: 1000, ignoreTrailingSlash: opts.ignoreTrailingSlash ?? true },
    // Errors Fastify raises before routing (a malformed %-escape in the path, a bad
    // Content-Type) are answered in the service's own fault shape too.
    frameworkErrors: (err: FastifyError, _req: unknown, reply: { status(n: number): any }) => {
      const status = typeof err.statusCode === 'number' && err.statusCode < 500 ? err.statusCode : 400;
      reply.status(status).type('application/json').send(opts.fault(status, err.message));
    },
    // Bodies are checked as sent: no type coercion, no silent removal of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  } as any) as unknown as FastifyInstance;

  const idHeaders = ['x-openstack-request-id', ...(opts.requestIdHeaders ?? [])];
  app.addHook('onRequest', async (req, reply) => {
    for (const h of idHeaders) reply.header(h, req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  // Fastify rejects a JSON body that is empty; OpenStack services accept an empty body on
  // bodiless verbs, so only a non-empty body is parsed.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new HttpError(400, 'Malformed request body: the body is not valid JSON.'), undefined);
    }
  });

  app.setErrorHandler((err: FastifyError | HttpError | Error, req, reply) => {
    let status = 500;
    let message = 'An unexpected error prevented the server from fulfilling your request.';
    let type: string | undefined;
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
      type = err.type;
      reply.headers(err.headers);
    } else if ((err as FastifyError).validation) {
      status = 400;
      message = `Invalid input for field/attribute: ${err.message}`;
    } else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
      status = (err as FastifyError).statusCode!;
      message = err.message;
    }
    if (status >= 500) req.log.error({ err }, 'unhandled error');
    reply.status(status).type('application/json').send(opts.fault(status, message, type));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).type('application/json').send(opts.fault(404, 'The resource could not be found.'));
  });

  app.get('/healthcheck', async (_req, reply) => {
    reply.type('text/plain').send('OK');
  });

  return app;
}
