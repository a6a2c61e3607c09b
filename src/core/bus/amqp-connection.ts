// One self-healing connection to RabbitMQ. It owns the reconnect loop (exponential backoff
// with jitter, forever while the bus is open), hands out the live `Link` to publishers
// (waiting, bounded, while the broker is away), publishes with publisher confirms, and
// re-attaches registered consumers each time a new link comes up.
import amqplib from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { BusClosedError, BusUnavailableError } from './errors.ts';
import type { AmqpParams } from './url.ts';

/** One live connection and its channels; replaced wholesale after a drop. */
export interface Link {
  readonly gen: number;
  readonly conn: ChannelModel;
  readonly pub: ConfirmChannel;
  /** Where replies to calls sent on this link go (a fresh exclusive queue per link). */
  replyTo: string;
  /** Set as soon as the connection or its publishing channel is gone. */
  dead: boolean;
  /** Declarations made on this link (queue/exchange name -> done). */
  readonly declared: Map<string, Promise<void>>;
  /** Channel for declarations; re-made if a declaration error closes it. */
  decl?: Promise<Channel>;
}

/** Something with broker-side state (a server's consumers) to re-create on every new link. */
export interface Attachable {
  attach(link: Link): Promise<void>;
}

export interface ConnectionSettings {
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Runs on each new link before publishers may use it (exchange, reply queue). */
  prepare: (link: Link) => Promise<void>;
}

export interface PublishRequest {
  exchange: string;
  routingKey: string;
  body: Buffer;
  /** Properties for the link that carries it (replies go to that link's reply queue). */
  props: (link: Link) => Options.Publish;
  /** Declares what the message needs (once per link), e.g. the durable target queue. */
  declare?: { key: string; run: (ch: Channel) => Promise<void> };
  /** No later than this (epoch ms) the publish is confirmed or fails. */
  deadline: number;
  /** Publish again on the next link if the link dies before the broker confirms. */
  retryUnconfirmed: boolean;
  /** Told which link carried the message, the moment it is handed to the socket. */
  onSent?: (link: Link) => void;
  /** Wait for the broker's confirm (default true). */
  confirm?: boolean;
}

/** Emits 'up' (link) after a (re)connect and 'down' (link, err) when a link is lost. */
export class AmqpConnection extends EventEmitter {
  private link?: Link;
  private gen = 0;
  private closing = false;
  private reconnecting?: Promise<void>;
  private readonly waiters = new Set<{ resolve: (link: Link) => void; reject: (err: Error) => void }>();
  private readonly attachables = new Set<Attachable>();
  /** Ends backoff sleeps early on close, so no timer outlives the bus. */
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly params: AmqpParams,
    private readonly settings: ConnectionSettings,
    private readonly logger: Logger,
  ) {
    super();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  get address(): string {
    return this.params.address;
  }

  /** First connection: fails fast (BusUnavailableError) instead of retrying. */
  async open(): Promise<void> {
    try {
      this.setLink(await this.connectOnce());
    } catch (err) {
      throw new BusUnavailableError(
        `cannot connect to RabbitMQ at ${this.address} (vhost ${JSON.stringify(this.params.vhost)}): ${describe(err)}`,
      );
    }
  }

  private async connectOnce(): Promise<Link> {
    const { protocol, hostname, port, username, password, vhost, heartbeat } = this.params;
    const timeoutMs = this.settings.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const connecting = amqplib.connect(
      { protocol, hostname, port, username, password, vhost, heartbeat },
      { timeout: timeoutMs, clientProperties: { connection_name: `tenrec pid ${process.pid}` } },
    );
    let gaveUp = false;
    const conn = await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          gaveUp = true;
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    // A connection that completes after we gave up on it is closed, not leaked.
    connecting.then(
      (late) => {
        if (gaveUp) late.close().catch(() => {});
      },
      () => {},
    );

    let link: Link | undefined;
    let lostEarly = false;
    // The 'close' that follows an 'error' carries the same error and is what we act on.
    conn.on('error', (err: Error) => this.logger.debug({ err: describe(err), broker: this.address }, 'RabbitMQ connection error'));
    conn.on('blocked', (reason: string) => this.logger.warn({ reason, broker: this.address }, 'RabbitMQ blocked publishing'));
    conn.on('unblocked', () => this.logger.info({ broker: this.address }, 'RabbitMQ unblocked publishing'));
    conn.on('close', (err?: Error) => {
      if (link) this.lost(link, err);
      else lostEarly = true;
    });
    try {
      const pub = await conn.createConfirmChannel();
      link = { gen: ++this.gen, conn, pub, replyTo: '', dead: lostEarly, declared: new Map() };
      const self = link;
      pub.on('error', (err: Error) => this.logger.warn({ err: describe(err) }, 'RabbitMQ publishing channel error'));
      pub.on('close', () => {
        // Unconfirmed publishes learn of this before their retry check runs (see publish).
        self.dead = true;
        if (!this.closing) conn.close().catch(() => {});
      });
      if (lostEarly) throw new Error('connection closed while opening');
      await this.settings.prepare(link);
      if (link.dead) throw new Error('connection closed while opening');
      return link;
    } catch (err) {
      if (link) link.dead = true;
      await conn.close().catch(() => {});
      throw err;
    }
  }

  private setLink(link: Link): void {
    this.link = link;
    for (const waiter of [...this.waiters]) waiter.resolve(link);
    this.emit('up', link);
    for (const a of this.attachables) void this.attachWithRetry(a, link);
  }

  private lost(link: Link, err?: Error): void {
    link.dead = true;
    if (this.link !== link) return;
    this.link = undefined;
    this.emit('down', link, err);
    if (this.closing) return;
    this.logger.warn({ broker: this.address, err: err && describe(err) }, 'RabbitMQ connection lost; reconnecting');
    this.reconnect();
  }

  private reconnect(): void {
    this.reconnecting ??= (async () => {
      let delay = this.settings.reconnectMinMs;
      let attempt = 0;
      while (!this.closing && !this.link) {
        // Jitter keeps a fleet of agents from reconnecting in lockstep.
        await this.sleep(delay * (0.8 + Math.random() * 0.4));
        if (this.closing) break;
        attempt++;
        try {
          const link = await this.connectOnce();
          if (this.closing) {
            await link.conn.close().catch(() => {});
            break;
          }
          this.logger.info({ broker: this.address, attempt }, 'RabbitMQ connection restored');
          this.reconnecting = undefined;
          this.setLink(link);
          return;
        } catch (err) {
          // Quiet while backing off; once at the cap, every attempt says the broker is still away.
          const level = delay >= this.settings.reconnectMaxMs ? 'warn' : 'debug';
          this.logger[level]({ broker: this.address, attempt, err: describe(err) }, 'RabbitMQ still unreachable');
          delay = Math.min(delay * 2, this.settings.reconnectMaxMs);
        }
      }
      this.reconnecting = undefined;
    })();
  }

  /** The live link, waiting (until `deadline`, epoch ms) while reconnecting. */
  ready(deadline: number): Promise<Link> {
    if (this.closing) return Promise.reject(new BusClosedError('bus is closed'));
    if (this.link && !this.link.dead) return Promise.resolve(this.link);
    return new Promise<Link>((resolve, reject) => {
      const waiter = {
        resolve: (link: Link) => done(() => resolve(link)),
        reject: (err: Error) => done(() => reject(err)),
      };
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        settle();
      };
      const waitMs = Math.max(0, deadline - Date.now());
      const timer = setTimeout(
        () => waiter.reject(new BusUnavailableError(`RabbitMQ at ${this.address} unreachable for ${waitMs} ms`)),
        waitMs,
      );
      this.waiters.add(waiter);
    });
  }

  /** Declares once per link; a failed declaration is retried next time. */
  async declare(link: Link, key: string, run: (ch: Channel) => Promise<void>): Promise<void> {
    let done = link.declared.get(key);
    if (!done) {
      done = (async () => run(await this.declChannel(link)))();
      link.declared.set(key, done);
      done.catch(() => link.declared.delete(key));
    }
    return done;
  }

  private declChannel(link: Link): Promise<Channel> {
    if (!link.decl) {
      const made = link.conn.createChannel().then((ch) => {
        ch.on('error', (err: Error) => this.logger.warn({ err: describe(err) }, 'RabbitMQ declaration failed'));
        ch.on('close', () => {
          if (link.decl === made) link.decl = undefined;
        });
        return ch;
      });
      link.decl = made;
      made.catch(() => {
        if (link.decl === made) link.decl = undefined;
      });
    }
    return link.decl;
  }

  /**
   * Publishes with a publisher confirm. Everything before the message is handed to the socket
   * is retried on the next link; after that, only when `retryUnconfirmed` (casts: at least once).
   */
  async publish(req: PublishRequest): Promise<void> {
    for (;;) {
      const link = await this.ready(req.deadline);
      try {
        if (req.declare) await this.declare(link, req.declare.key, req.declare.run);
      } catch (err) {
        if (link.dead) continue;
        throw err;
      }
      const attempt = { sent: false };
      try {
        await this.confirmPublish(link, req, attempt);
        return;
      } catch (err) {
        if (this.closing) throw new BusClosedError('bus closed before the broker confirmed the message');
        if (link.dead && (req.retryUnconfirmed || !attempt.sent)) continue;
        throw err;
      }
    }
  }

  private confirmPublish(link: Link, req: PublishRequest, attempt: { sent: boolean }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      try {
        link.pub.publish(req.exchange, req.routingKey, req.body, req.props(link), (err) => settle(err ?? null));
      } catch (err) {
        // A closed channel throws at once; the message never left.
        return settle(err as Error);
      }
      attempt.sent = true;
      req.onSent?.(link);
      if (req.confirm === false) return settle(null);
      const waitMs = Math.max(0, req.deadline - Date.now());
      timer = setTimeout(() => settle(new BusUnavailableError(`RabbitMQ at ${this.address} did not confirm within ${waitMs} ms`)), waitMs);
    });
  }

  register(a: Attachable): void {
    this.attachables.add(a);
  }

  unregister(a: Attachable): void {
    this.attachables.delete(a);
  }

  /** (Re-)attaches on `link`; a failure is logged and retried while the link lives. */
  async attachWithRetry(a: Attachable, link: Link): Promise<void> {
    let delay = this.settings.reconnectMinMs;
    while (!link.dead && this.attachables.has(a) && !this.closing) {
      try {
        await a.attach(link);
        return;
      } catch (err) {
        if (link.dead) return;
        this.logger.error({ err: describe(err), broker: this.address }, 're-attaching a bus server failed; retrying');
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.settings.reconnectMaxMs);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const wake of [...this.wakers]) wake();
    for (const waiter of [...this.waiters]) waiter.reject(new BusClosedError('bus closed while waiting for RabbitMQ'));
    const link = this.link;
    this.link = undefined;
    if (link && !link.dead) {
      link.dead = true;
      this.emit('down', link, undefined);
      await link.conn.close().catch(() => {});
    }
  }
}

/** A short, credential-free description of a connection failure. */
export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return describe(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
