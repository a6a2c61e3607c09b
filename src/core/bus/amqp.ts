// The RabbitMQ transport (amqp://). Topology, all declared by whoever needs it first:
//   exchange `tenrec` (topic, durable)      call and cast, routing key = target topic
//   queue `<topic>`, `<topic>.<host>`        durable, bound with their own name as key
//   exchange `<topic>_fanout` (fanout)       each server binds an exclusive auto-delete queue
//   queue `reply_<uuid>`                     per client and per connection, exclusive
// Senders declare the target queue before publishing, so a cast sent before any server ever
// started waits in the durable queue. Casts are persistent and confirmed by the broker.
//
// Across a connection drop (broker restart, network): the connection re-opens with backoff;
// casts and fanouts issued meanwhile wait up to `publishTimeoutMs` and then go out; a cast
// whose confirm was outstanding when the link died is published again (at least once, never
// lost). A call whose request already went out fails at once with BusConnectionLostError
// (it may or may not have run; the caller decides whether repeating it is safe); a call not
// yet sent waits like a cast, within its own timeout. Calls carry a per-message TTL equal to
// their timeout, so a server never runs a call whose caller has stopped waiting.
import type { ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AmqpConnection, describe } from './amqp-connection.ts';
import type { Link } from './amqp-connection.ts';
import { AmqpServer } from './amqp-server.ts';
import { encodeRequest, settleReply } from './envelope.ts';
import { BusClosedError, BusConnectionLostError, BusTimeoutError } from './errors.ts';
import { checkServerNames, checkTarget, fanoutExchange } from './names.ts';
import * as defaults from './options.ts';
import { callTimeout, positive } from './options.ts';
import type { Bus, BusServer, CallOptions, Handler, OpenBusOptions } from './types.ts';
import type { AmqpParams } from './url.ts';

interface PendingCall {
  topic: string;
  method: string;
  /** The link the request went out on, once it did. */
  sentOn?: Link;
  settle(err: Error | null, body?: string): void;
}

const JSON_TYPE = 'application/json';

export class AmqpBus implements Bus {
  private readonly conn: AmqpConnection;
  private readonly exchange: string;
  private readonly prefetch: number;
  private readonly publishTimeoutMs: number;
  private readonly pending = new Map<string, PendingCall>();
  private readonly servers = new Set<AmqpServer>();
  private closed = false;

  private constructor(params: AmqpParams, opts: OpenBusOptions, private readonly logger: Logger) {
    this.exchange = opts.exchange ?? defaults.DEFAULT_EXCHANGE;
    this.prefetch = Math.floor(positive('prefetch', opts.prefetch, defaults.DEFAULT_PREFETCH));
    this.publishTimeoutMs = positive('publishTimeoutMs', opts.publishTimeoutMs, defaults.DEFAULT_PUBLISH_TIMEOUT_MS);
    this.conn = new AmqpConnection(
      params,
      {
        connectTimeoutMs: positive('connectTimeoutMs', opts.connectTimeoutMs, defaults.DEFAULT_CONNECT_TIMEOUT_MS),
        reconnectMinMs: positive('reconnectMinMs', opts.reconnectMinMs, defaults.DEFAULT_RECONNECT_MIN_MS),
        reconnectMaxMs: positive('reconnectMaxMs', opts.reconnectMaxMs, defaults.DEFAULT_RECONNECT_MAX_MS),
        prepare: (link) => this.prepare(link),
      },
      logger,
    );
    this.conn.on('down', (link: Link) => this.failCallsSentOn(link));
  }

  static async open(params: AmqpParams, opts: OpenBusOptions, logger: Logger): Promise<AmqpBus> {
    const bus = new AmqpBus(params, opts, logger);
    await bus.conn.open();
    return bus;
  }

  /** Per link: the shared exchange, and this client's reply queue and its consumer. */
  private async prepare(link: Link): Promise<void> {
    const ch = await link.conn.createChannel();
    ch.on('error', (err: Error) => this.logger.warn({ err: describe(err) }, 'bus reply channel error'));
    await ch.assertExchange(this.exchange, 'topic', { durable: true });
    const replyTo = `reply_${randomUUID()}`;
    await ch.assertQueue(replyTo, { exclusive: true, autoDelete: true, durable: false });
    await ch.consume(replyTo, (msg) => this.receiveReply(msg), { noAck: true });
    link.replyTo = replyTo;
    // Without its reply consumer the link is useless for calls: start over.
    ch.on('close', () => {
      if (!link.dead && !this.closed) link.conn.close().catch(() => {});
    });
  }

  private receiveReply(msg: ConsumeMessage | null): void {
    if (!msg) return;
    // Unknown ids are replies to calls that timed out, or a redelivered request's second reply.
    this.pending.get(String(msg.properties.correlationId))?.settle(null, msg.content.toString('utf8'));
  }

  private failCallsSentOn(link: Link): void {
    for (const call of [...this.pending.values()]) {
      if (call.sentOn === link) call.settle(this.lostError(call));
    }
  }

  private lostError(call: PendingCall): Error {
    return new BusConnectionLostError(
      `connection to RabbitMQ at ${this.conn.address} lost while ${call.topic}.${call.method} awaited its reply; it may or may not have run`,
    );
  }

  private ensureOpen(): void {
    if (this.closed) throw new BusClosedError('bus is closed');
  }

  /** Declares the durable queue a call or cast targets, so it waits there for a server. */
  private targetQueue(topic: string) {
    return {
      key: `queue:${topic}`,
      run: async (ch: import('amqplib').Channel) => {
        await ch.assertQueue(topic, { durable: true });
        await ch.bindQueue(topic, this.exchange, topic);
      },
    };
  }

  async call<T = unknown>(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<T> {
    this.ensureOpen();
    checkTarget(topic);
    const timeoutMs = callTimeout(opts);
    const body = Buffer.from(encodeRequest(method, args, opts?.context));
    const id = randomUUID();
    const deadline = Date.now() + timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const call: PendingCall = {
        topic,
        method,
        settle: (err, replyBody) => {
          if (!this.pending.delete(id)) return;
          clearTimeout(timer);
          if (err) return reject(err);
          try {
            resolve(settleReply(replyBody!) as T);
          } catch (remote) {
            reject(remote);
          }
        },
      };
      const timer = setTimeout(() => {
        const why = call.sentOn ? '' : ` (not sent: RabbitMQ at ${this.conn.address} unreachable)`;
        call.settle(new BusTimeoutError(`no reply from ${topic} to ${method} within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      this.pending.set(id, call);
      this.conn
        .publish({
          exchange: this.exchange,
          routingKey: topic,
          body,
          props: (link) => ({
            correlationId: id,
            replyTo: link.replyTo,
            contentType: JSON_TYPE,
            expiration: String(Math.max(1, Math.ceil(deadline - Date.now()))),
          }),
          declare: this.targetQueue(topic),
          deadline: Math.min(deadline, Date.now() + this.publishTimeoutMs),
          retryUnconfirmed: false,
          onSent: (link) => {
            call.sentOn = link;
          },
        })
        .catch((err: Error) => call.settle(call.sentOn?.dead && !this.closed ? this.lostError(call) : err));
    });
  }

  async cast(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<void> {
    this.ensureOpen();
    checkTarget(topic);
    await this.conn.publish({
      exchange: this.exchange,
      routingKey: topic,
      body: Buffer.from(encodeRequest(method, args, opts?.context)),
      props: () => ({ persistent: true, contentType: JSON_TYPE }),
      declare: this.targetQueue(topic),
      deadline: Date.now() + this.publishTimeoutMs,
      retryUnconfirmed: true,
    });
  }

  async fanout(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<void> {
    this.ensureOpen();
    checkTarget(topic);
    const exchange = fanoutExchange(topic);
    await this.conn.publish({
      exchange,
      routingKey: '',
      body: Buffer.from(encodeRequest(method, args, opts?.context)),
      props: () => ({ contentType: JSON_TYPE }),
      declare: { key: `exchange:${exchange}`, run: (ch) => ch.assertExchange(exchange, 'fanout', { durable: true }).then(() => {}) },
      deadline: Date.now() + this.publishTimeoutMs,
      retryUnconfirmed: true,
    });
  }

  async serve(topic: string, host: string, handlers: Record<string, Handler>): Promise<BusServer> {
    this.ensureOpen();
    checkServerNames(topic, host);
    const settings = { exchange: this.exchange, prefetch: this.prefetch };
    const server = new AmqpServer(this.conn, settings, topic, host, handlers, this.logger, (s) => this.servers.delete(s));
    this.servers.add(server);
    this.conn.register(server);
    const deadline = Date.now() + this.publishTimeoutMs;
    for (;;) {
      let link: Link | undefined;
      try {
        link = await this.conn.ready(deadline);
        await server.attach(link);
        return server;
      } catch (err) {
        if (link?.dead && !this.closed) continue;
        await server.stop();
        throw err;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.servers].map((s) => s.stop()));
    for (const call of [...this.pending.values()]) call.settle(new BusClosedError('bus closed while the call was waiting for its reply'));
    await this.conn.close();
  }
}
