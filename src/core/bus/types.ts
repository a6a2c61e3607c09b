// The bus's public shapes. Both transports (memory://, amqp://) implement `Bus` the same way,
// so a service never knows which one it runs on.
import type { Logger } from 'pino';

export interface CallOptions {
  /** How long `call` waits for the reply (default 60000 ms). */
  timeoutMs?: number;
  /** Request context carried to the handler (request id, user, project ...); JSON only. */
  context?: Record<string, unknown>;
}

export interface HandlerContext {
  /** The topic the server was started with (without `.<host>`). */
  topic: string;
  method: string;
  context: Record<string, unknown>;
}

export type Handler = (args: any, ctx: HandlerContext) => unknown | Promise<unknown>;

export interface BusServer {
  readonly topic: string;
  readonly host: string;
  /** Stops consuming, lets running handlers finish, then returns. */
  stop(): Promise<void>;
}

export interface Bus {
  /**
   * Request/response: one server of `topic` (or of `topic.<host>` when topic is written that
   * way) runs handler `method`; resolves with its return value.
   */
  call<T = unknown>(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<T>;
  /** Fire and forget to one server of the topic; resolves once the transport has accepted it. */
  cast(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<void>;
  /** To every server listening on the topic (only those listening now). */
  fanout(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<void>;
  /** Listens on `topic` (shared), `topic.<host>` (this server only) and the topic's fanout. */
  serve(topic: string, host: string, handlers: Record<string, Handler>): Promise<BusServer>;
  /** Stops this bus's servers, fails its pending calls with BusClosedError, disconnects. */
  close(): Promise<void>;
}

export interface OpenBusOptions {
  logger?: Logger;
  /**
   * amqp:// only. How long a publish (cast, fanout, a call's request) waits for the broker
   * while the connection is down before failing with BusUnavailableError. Default 30000 ms.
   */
  publishTimeoutMs?: number;
  /** amqp:// only. How long the first connection may take before openBus rejects. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** amqp:// only. Reconnect backoff: first delay and cap (defaults 250 ms and 5000 ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Unacknowledged messages a server holds per queue (default 16; memory:// honours it too). */
  prefetch?: number;
  /** amqp:// only. The topic exchange for call and cast (default "tenrec"). */
  exchange?: string;
}
