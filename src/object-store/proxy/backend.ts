// One HTTP request from the proxy to one storage server, with Swift's two clocks: conn_timeout
// to get a connection, node_timeout for every wait on the server after that (an answer, room
// to write, the next bytes of a body). Storage paths are /<device>/<partition>/<a>[/<c>[/<o>]].
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { RingDevice } from '../ring/types.ts';

export interface BackendClient {
  agent: Agent;
  connTimeoutMs: number;
  nodeTimeoutMs: number;
  logger: Logger;
}

export interface BackendResponse {
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  /** the body, not yet read */
  body: IncomingMessage;
  node: RingDevice;
}

export class BackendError extends Error {}

export function createBackendClient(opts: { connTimeoutMs: number; nodeTimeoutMs: number; logger: Logger }): BackendClient {
  // One connection per request, as Swift's proxy does ("Connection: close"): a storage server
  // that restarts never leaves a stale pooled socket behind.
  return { agent: new Agent({ keepAlive: false }), ...opts };
}

/** /<device>/<partition>/<path>, every path component %-quoted, slashes in object names kept. */
export function storagePath(device: string, partition: number, path: string, query?: URLSearchParams): string {
  const quoted = path.split('/').map(encodeURIComponent).join('/');
  const qs = query?.toString();
  return `/${encodeURIComponent(device)}/${partition}${quoted}${qs ? `?${qs}` : ''}`;
}

export function nodeName(node: RingDevice): string {
  return `${node.ip}:${node.port}/${node.device}`;
}

export function responseHeaders(res: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Fails `req` with `message` after `ms`, unless cleared first. */
function deadline(req: ClientRequest, ms: number, message: string): { clear(): void } {
  const timer = setTimeout(() => req.destroy(new BackendError(message)), ms);
  return { clear: () => clearTimeout(timer) };
}

/** Starts a request; resolves once connected (conn_timeout), the request still open. */
function connect(client: BackendClient, node: RingDevice, method: string, path: string, headers: Record<string, string>): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request({ host: node.ip, port: node.port, method, path, headers: { ...headers, connection: 'close' }, agent: client.agent });
    req.on('error', () => undefined); // each stage reports failures to its own caller; none may crash the process
    const timer = deadline(req, client.connTimeoutMs, `connect timeout to ${nodeName(node)}`);
    req.once('error', (err) => {
      timer.clear();
      reject(err);
    });
    req.once('socket', (socket) => {
      const connected = () => {
        timer.clear();
        resolve(req);
      };
      if (socket.connecting) socket.once('connect', connected);
      else connected();
    });
  });
}

/** Waits for the status line, within node_timeout when `timed`; the body is left unread. */
function awaitResponse(client: BackendClient, node: RingDevice, req: ClientRequest, timed = true): Promise<BackendResponse> {
  return new Promise((resolve, reject) => {
    const timer = timed ? deadline(req, client.nodeTimeoutMs, `timeout waiting for ${nodeName(node)}`) : undefined;
    req.once('error', (err) => {
      timer?.clear();
      reject(err);
    });
    req.once('response', (res) => {
      timer?.clear();
      res.on('error', () => undefined); // reported to whoever reads the body
      resolve({ status: res.statusCode ?? 0, headers: responseHeaders(res), body: res, node });
    });
  });
}

export interface RequestOptions {
  headers: Record<string, string>;
  query?: URLSearchParams;
  /** a small body sent whole (listings updates, metadata); object data goes through openUpload */
  body?: Buffer;
}

/** One request, answered or failed: connection refused, a timeout, a reset. */
export async function backendRequest(
  client: BackendClient,
  node: RingDevice,
  partition: number,
  method: string,
  path: string,
  opts: RequestOptions,
): Promise<BackendResponse> {
  const headers = { ...opts.headers };
  if (opts.body) headers['content-length'] = String(opts.body.length);
  const req = await connect(client, node, method, storagePath(node.device, partition, path, opts.query), headers);
  const answered = awaitResponse(client, node, req);
  req.end(opts.body);
  return answered;
}

/** A PUT whose body is still to come: the server has said 100 Continue (or answered early). */
export interface Upload {
  node: RingDevice;
  req: ClientRequest;
  /** set when the server answered before the body (a 412 for If-None-Match: *, a 409 for an older timestamp) */
  early?: BackendResponse;
  /** the final answer, once the body is sent */
  response: Promise<BackendResponse>;
}

/** Opens an object PUT with Expect: 100-continue, so a server that cannot take it is known before any data moves. */
export async function openUpload(client: BackendClient, node: RingDevice, partition: number, path: string, headers: Record<string, string>): Promise<Upload> {
  const req = await connect(client, node, 'PUT', storagePath(node.device, partition, path), { ...headers, expect: '100-continue' });
  // No clock on the answer while the body streams: that takes as long as the client takes.
  const response = awaitResponse(client, node, req, false);
  response.catch(() => undefined); // looked at by whoever waits on it
  req.flushHeaders();
  return new Promise((resolve, reject) => {
    const timer = deadline(req, client.nodeTimeoutMs, `timeout waiting for 100-continue from ${nodeName(node)}`);
    const done = () => {
      timer.clear();
      req.off('continue', onContinue);
    };
    const onContinue = () => {
      done();
      resolve({ node, req, response });
    };
    req.once('continue', onContinue);
    response.then(
      (early) => {
        done();
        resolve({ node, req, response, early });
      },
      (err) => {
        done();
        reject(err);
      },
    );
  });
}

/** Writes one chunk to an upload, waiting (node_timeout) while the server is slow to take it. */
export function writeChunk(client: BackendClient, upload: Upload, chunk: Buffer): Promise<void> {
  const { req } = upload;
  if (req.destroyed) return Promise.reject(new BackendError(`upload to ${nodeName(upload.node)} closed`));
  if (req.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new BackendError(`write timeout to ${nodeName(upload.node)}`)), client.nodeTimeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      req.off('drain', onDrain);
      req.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => fail(new BackendError(`upload to ${nodeName(upload.node)} closed`));
    const fail = (err: Error) => {
      cleanup();
      req.destroy(err);
      reject(err);
    };
    req.once('drain', onDrain);
    req.once('close', onClose);
  });
}

/** Ends an upload's body and waits (node_timeout) for the server's answer. */
export async function finishUpload(client: BackendClient, upload: Upload, lastChunk?: Buffer): Promise<BackendResponse> {
  const timer = deadline(upload.req, client.nodeTimeoutMs, `timeout waiting for ${nodeName(upload.node)}`);
  try {
    upload.req.end(lastChunk);
    return await upload.response;
  } finally {
    timer.clear();
  }
}

/** Reads a small body whole (error pages, answers to writes); a failure reads as what arrived. */
export async function readSmallBody(res: BackendResponse, limit = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        res.body.destroy();
        break;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return Buffer.concat(chunks);
  }
  return Buffer.concat(chunks);
}

/** Drops a response we will not use, freeing its connection. */
export function discardResponse(res: BackendResponse): void {
  res.body.destroy();
}

/**
 * Guards a body being passed on to the client: if the storage server sends nothing for
 * node_timeout while the client is ready for more, the body is cut (the client sees a short
 * response). Time the client spends not reading (the stream paused) does not count.
 */
export function watchBody(client: BackendClient, res: BackendResponse): IncomingMessage {
  const body = res.body;
  const socket = body.socket;
  if (!socket) return body;
  socket.setTimeout(client.nodeTimeoutMs, () => {
    if (body.readableFlowing !== true || body.isPaused()) socket.setTimeout(client.nodeTimeoutMs);
    else body.destroy(new BackendError(`timeout reading from ${nodeName(res.node)}`));
  });
  body.once('close', () => socket.setTimeout(0));
  return body;
}
