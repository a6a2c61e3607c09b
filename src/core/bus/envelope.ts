// The wire format both transports share, and running a handler for one message.
// A request body is JSON {method, args, context}; a reply body is JSON {result} or
// {error: {name, message, noSuchMethod?}}. memory:// serialises too, so a value that would
// not survive RabbitMQ does not silently work in the all-in-one either.
import type { Logger } from 'pino';
import { NoSuchMethodError, RemoteError } from './errors.ts';
import type { Handler, HandlerContext } from './types.ts';

export interface Request {
  method: string;
  args?: unknown;
  context: Record<string, unknown>;
}

export interface ReplyError {
  name: string;
  message: string;
  noSuchMethod?: boolean;
}

export type Reply = { result?: unknown; error?: undefined } | { error: ReplyError };

/** Serialises a request; throws a TypeError naming the method when args are not JSON. */
export function encodeRequest(method: string, args: unknown, context: Record<string, unknown> | undefined): string {
  if (typeof method !== 'string' || method === '') throw new TypeError('bus method must be a non-empty string');
  try {
    return JSON.stringify({ method, args, context: context ?? {} });
  } catch (err) {
    throw new TypeError(`arguments of ${method} are not JSON-serialisable: ${(err as Error).message}`);
  }
}

export function decodeRequest(body: string): Request {
  const parsed = JSON.parse(body) as Partial<Request> | null;
  if (!parsed || typeof parsed !== 'object' || typeof parsed.method !== 'string') {
    throw new Error('bus message without a method');
  }
  const context = parsed.context && typeof parsed.context === 'object' ? parsed.context : {};
  return { method: parsed.method, args: parsed.args, context };
}

/** Serialises a reply; a result that is not JSON becomes an error reply instead. */
export function encodeReply(reply: Reply): string {
  try {
    return JSON.stringify(reply);
  } catch (err) {
    return JSON.stringify({ error: { name: 'TypeError', message: `result is not JSON-serialisable: ${(err as Error).message}` } });
  }
}

/** Turns a decoded reply into the call's value, or throws the RemoteError it carries. */
export function settleReply(body: string): unknown {
  const reply = JSON.parse(body) as Reply;
  if (reply.error) {
    const { name, message, noSuchMethod } = reply.error;
    throw noSuchMethod ? new NoSuchMethodError(String(message)) : new RemoteError(String(name), String(message));
  }
  return reply.result;
}

function errorName(err: unknown): string {
  if (!(err instanceof Error)) return 'Error';
  // A subclass that does not set `name` still says what it is through its constructor.
  if (err.name === 'Error' && err.constructor && err.constructor.name && err.constructor.name !== 'Error') {
    return err.constructor.name;
  }
  return err.name;
}

/** Runs the handler a request names; never throws, the outcome is the reply. */
export async function dispatch(
  handlers: Record<string, Handler>,
  topic: string,
  request: Request,
  logger: Logger,
): Promise<Reply> {
  const handler = Object.hasOwn(handlers, request.method) ? handlers[request.method] : undefined;
  if (typeof handler !== 'function') {
    return { error: { name: 'NoSuchMethodError', message: `topic ${topic} has no method ${request.method}`, noSuchMethod: true } };
  }
  const ctx: HandlerContext = { topic, method: request.method, context: request.context };
  try {
    return { result: await handler(request.args, ctx) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.debug({ err, topic, method: request.method }, 'bus handler failed');
    return { error: { name: errorName(err), message } };
  }
}
