// A bus server on RabbitMQ: one channel per server (re-made on every new link) consuming the
// durable queues `<topic>` and `<topic>.<host>` and an exclusive auto-delete queue bound to
// `<topic>_fanout`. A message is acknowledged only after its handler ran (and its reply was
// handed to the broker), so a server or connection that dies mid-handler gets the message
// redelivered: delivery is at least once, handlers should tolerate a repeat.
import type { Channel, ConsumeMessage } from 'amqplib';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AmqpConnection, Attachable, Link } from './amqp-connection.ts';
import { describe } from './amqp-connection.ts';
import { decodeRequest, dispatch, encodeReply } from './envelope.ts';
import { fanoutExchange, hostQueue } from './names.ts';
import type { BusServer, Handler } from './types.ts';

export interface ServerSettings {
  exchange: string;
  prefetch: number;
}

interface Attached {
  link: Link;
  ch: Channel;
  tags: string[];
}

export class AmqpServer implements BusServer, Attachable {
  readonly topic: string;
  readonly host: string;
  private current?: Attached;
  private attaching?: { gen: number; promise: Promise<void> };
  private readonly running = new Set<Promise<void>>();
  private stopping?: Promise<void>;

  constructor(
    private readonly conn: AmqpConnection,
    private readonly settings: ServerSettings,
    topic: string,
    host: string,
    private readonly handlers: Record<string, Handler>,
    private readonly logger: Logger,
    private readonly onStop: (server: AmqpServer) => void,
  ) {
    this.topic = topic;
    this.host = host;
  }

  /** Consumes on `link`; idempotent per link, so the reconnect path and serve() may race. */
  attach(link: Link): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.attaching?.gen === link.gen) return this.attaching.promise;
    const promise = this.consumeOn(link);
    this.attaching = { gen: link.gen, promise };
    promise.catch(() => {
      if (this.attaching?.promise === promise) this.attaching = undefined;
    });
    return promise;
  }

  private async consumeOn(link: Link): Promise<void> {
    const { exchange, prefetch } = this.settings;
    const ch = await link.conn.createChannel();
    const state: Attached = { link, ch, tags: [] };
    ch.on('error', (err: Error) => this.logger.warn({ err: describe(err), topic: this.topic }, 'bus server channel error'));
    ch.on('close', () => this.channelClosed(state));
    try {
      await ch.prefetch(prefetch);
      const shared = this.topic;
      const own = hostQueue(this.topic, this.host);
      for (const queue of [shared, own]) {
        await ch.assertQueue(queue, { durable: true });
        await ch.bindQueue(queue, exchange, queue);
      }
      const fanout = fanoutExchange(this.topic);
      await ch.assertExchange(fanout, 'fanout', { durable: true });
      const mine = `${fanout}_${this.host}_${randomBytes(4).toString('hex')}`;
      await ch.assertQueue(mine, { exclusive: true, autoDelete: true, durable: false });
      await ch.bindQueue(mine, fanout, '');
      this.current = state;
      for (const queue of [shared, own, mine]) {
        const { consumerTag } = await ch.consume(queue, (msg) => this.receive(state, msg));
        state.tags.push(consumerTag);
      }
    } catch (err) {
      if (this.current === state) this.current = undefined;
      await ch.close().catch(() => {});
      throw err;
    }
  }

  /** A channel that dies while its link lives (a channel error, a deleted queue) is re-made. */
  private channelClosed(state: Attached): void {
    if (this.current !== state) return;
    this.current = undefined;
    this.attaching = undefined;
    if (state.link.dead || this.stopping) return;
    this.logger.warn({ topic: this.topic, host: this.host }, 'bus server channel closed; re-attaching');
    void this.conn.attachWithRetry(this, state.link);
  }

  private receive(state: Attached, msg: ConsumeMessage | null): void {
    if (!msg) {
      // The broker cancelled the consumer (queue deleted): start over on a fresh channel.
      state.ch.close().catch(() => {});
      return;
    }
    const run = this.handle(state, msg);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async handle(state: Attached, msg: ConsumeMessage): Promise<void> {
    try {
      let request;
      try {
        request = decodeRequest(msg.content.toString('utf8'));
      } catch (err) {
        this.logger.error({ err: describe(err), topic: this.topic }, 'dropping malformed bus message');
        return;
      }
      const reply = await dispatch(this.handlers, this.topic, request, this.logger);
      const { replyTo, correlationId } = msg.properties;
      if (replyTo) {
        try {
          // Only on a live link: if ours died, the unacknowledged request comes back anyway.
          await this.conn.publish({
            exchange: '',
            routingKey: String(replyTo),
            body: Buffer.from(encodeReply(reply)),
            props: () => ({ correlationId, contentType: 'application/json' }),
            deadline: Date.now(),
            retryUnconfirmed: false,
            confirm: false,
          });
        } catch (err) {
          this.logger.debug({ err: describe(err), topic: this.topic, method: request.method }, 'bus reply not sent');
        }
      } else if (reply.error) {
        this.logger.warn({ topic: this.topic, method: request.method, error: reply.error }, 'bus cast handler failed');
      }
    } finally {
      try {
        state.ch.ack(msg);
      } catch {
        // Channel gone with its link: the broker requeues the message itself.
      }
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.conn.unregister(this);
      await this.attaching?.promise.catch(() => {});
      const state = this.current;
      this.current = undefined;
      if (state && !state.link.dead) {
        for (const tag of state.tags) await state.ch.cancel(tag).catch(() => {});
      }
      await Promise.allSettled([...this.running]);
      if (state) await state.ch.close().catch(() => {});
      this.onStop(this);
    })();
    return this.stopping;
  }
}
