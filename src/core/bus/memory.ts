// The in-process transport (memory://), for the all-in-one and tests. Buses opened with the
// same URL share one broker, so the processes of the all-in-one talk as they would over
// RabbitMQ: named queues with competing consumers, per-server fanout queues, messages kept
// in a queue until a server takes them, at most `prefetch` unfinished messages per consumer.
import type { Logger } from 'pino';
import { decodeRequest, dispatch, encodeReply, encodeRequest, settleReply } from './envelope.ts';
import { BusClosedError, BusTimeoutError } from './errors.ts';
import { checkServerNames, checkTarget, hostQueue } from './names.ts';
import type { Bus, BusServer, CallOptions, Handler } from './types.ts';
import { callTimeout, DEFAULT_PREFETCH } from './options.ts';

interface Message {
  body: string;
  /** Set for calls: where the reply goes. */
  reply?: (body: string) => void;
  /** A call that timed out is dropped rather than run late (AMQP: per-message expiration). */
  expired?: boolean;
}

interface Consumer {
  capacity: number;
  inFlight: number;
  take(message: Message): void;
}

class MemoryQueue {
  readonly messages: Message[] = [];
  readonly consumers: Consumer[] = [];
  private next = 0;
  private readonly onIdle: () => void;

  constructor(onIdle: () => void = () => {}) {
    this.onIdle = onIdle;
  }

  push(message: Message): void {
    this.messages.push(message);
    this.pump();
  }

  /** Hands queued messages to consumers with room, round-robin. */
  pump(): void {
    while (this.messages.length > 0) {
      const consumer = this.nextFree();
      if (!consumer) return;
      const message = this.messages.shift()!;
      if (!message.expired) consumer.take(message);
    }
    if (this.consumers.length === 0) this.onIdle();
  }

  remove(consumer: Consumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i >= 0) this.consumers.splice(i, 1);
    if (this.messages.length === 0 && this.consumers.length === 0) this.onIdle();
  }

  private nextFree(): Consumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const consumer = this.consumers[(this.next + i) % this.consumers.length];
      if (consumer.inFlight < consumer.capacity) {
        this.next = (this.next + i + 1) % this.consumers.length;
        return consumer;
      }
    }
    return undefined;
  }
}

/** One namespace of queues; every bus opened with the same memory:// URL uses the same one. */
class MemoryBroker {
  private readonly queues = new Map<string, MemoryQueue>();
  private readonly fanouts = new Map<string, Set<MemoryQueue>>();

  queue(name: string): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      // An empty queue nobody consumes is forgotten; it is re-made on the next use, which
      // is indistinguishable from a durable queue that stayed.
      const made: MemoryQueue = new MemoryQueue(() => {
        if (made.messages.length === 0 && this.queues.get(name) === made) this.queues.delete(name);
      });
      queue = made;
      this.queues.set(name, queue);
    }
    return queue;
  }

  fanoutQueues(topic: string): MemoryQueue[] {
    return [...(this.fanouts.get(topic) ?? [])];
  }

  bindFanout(topic: string, queue: MemoryQueue): void {
    let set = this.fanouts.get(topic);
    if (!set) this.fanouts.set(topic, (set = new Set()));
    set.add(queue);
  }

  unbindFanout(topic: string, queue: MemoryQueue): void {
    const set = this.fanouts.get(topic);
    set?.delete(queue);
    if (set?.size === 0) this.fanouts.delete(topic);
  }
}

const brokers = new Map<string, MemoryBroker>();

function brokerFor(url: string): MemoryBroker {
  const name = url.slice('memory://'.length);
  let broker = brokers.get(name);
  if (!broker) brokers.set(name, (broker = new MemoryBroker()));
  return broker;
}

class MemoryServer implements BusServer {
  readonly topic: string;
  readonly host: string;
  private readonly running = new Set<Promise<void>>();
  private readonly bindings: Array<{ queue: MemoryQueue; consumer: Consumer }> = [];
  private readonly fanoutQueue = new MemoryQueue();
  private stopped?: Promise<void>;

  constructor(
    private readonly broker: MemoryBroker,
    topic: string,
    host: string,
    private readonly handlers: Record<string, Handler>,
    private readonly prefetch: number,
    private readonly logger: Logger,
    private readonly onStop: (server: MemoryServer) => void,
  ) {
    this.topic = topic;
    this.host = host;
  }

  start(): void {
    this.broker.bindFanout(this.topic, this.fanoutQueue);
    for (const queue of [this.broker.queue(this.topic), this.broker.queue(hostQueue(this.topic, this.host)), this.fanoutQueue]) {
      const consumer: Consumer = { capacity: this.prefetch, inFlight: 0, take: (m) => this.handle(queue, consumer, m) };
      queue.consumers.push(consumer);
      this.bindings.push({ queue, consumer });
      queue.pump();
    }
  }

  private handle(queue: MemoryQueue, consumer: Consumer, message: Message): void {
    consumer.inFlight++;
    const run = (async () => {
      // Never run a handler inside the caller's own stack.
      await new Promise<void>((resolve) => setImmediate(resolve));
      let request;
      try {
        request = decodeRequest(message.body);
      } catch (err) {
        this.logger.error({ err, topic: this.topic }, 'dropping malformed bus message');
        return;
      }
      const reply = await dispatch(this.handlers, this.topic, request, this.logger);
      if (message.reply) message.reply(encodeReply(reply));
      else if (reply.error) this.logger.warn({ topic: this.topic, method: request.method, error: reply.error }, 'bus cast handler failed');
    })();
    this.running.add(run);
    void run.finally(() => {
      this.running.delete(run);
      consumer.inFlight--;
      queue.pump();
    });
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const { queue, consumer } of this.bindings) queue.remove(consumer);
      this.broker.unbindFanout(this.topic, this.fanoutQueue);
      await Promise.allSettled([...this.running]);
      this.onStop(this);
    })();
    return this.stopped;
  }
}

export class MemoryBus implements Bus {
  private readonly broker: MemoryBroker;
  private readonly servers = new Set<MemoryServer>();
  private readonly pending = new Set<(err: Error) => void>();
  private closed = false;

  constructor(
    url: string,
    private readonly logger: Logger,
    private readonly prefetch: number = DEFAULT_PREFETCH,
  ) {
    this.broker = brokerFor(url);
  }

  private ensureOpen(): void {
    if (this.closed) throw new BusClosedError('bus is closed');
  }

  async call<T = unknown>(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<T> {
    this.ensureOpen();
    checkTarget(topic);
    const timeoutMs = callTimeout(opts);
    const body = encodeRequest(method, args, opts?.context);
    return new Promise<T>((resolve, reject) => {
      const message: Message = { body };
      const finish = (err: Error | null, replyBody?: string) => {
        if (!this.pending.delete(fail)) return;
        clearTimeout(timer);
        message.expired = true;
        if (err) return reject(err);
        try {
          resolve(settleReply(replyBody!) as T);
        } catch (remote) {
          reject(remote);
        }
      };
      const fail = (err: Error) => finish(err);
      const timer = setTimeout(() => fail(new BusTimeoutError(`no reply from ${topic} to ${method} within ${timeoutMs} ms`)), timeoutMs);
      message.reply = (replyBody) => finish(null, replyBody);
      this.pending.add(fail);
      this.broker.queue(topic).push(message);
    });
  }

  async cast(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<void> {
    this.ensureOpen();
    checkTarget(topic);
    this.broker.queue(topic).push({ body: encodeRequest(method, args, opts?.context) });
  }

  async fanout(topic: string, method: string, args?: unknown, opts?: CallOptions): Promise<void> {
    this.ensureOpen();
    checkTarget(topic);
    const body = encodeRequest(method, args, opts?.context);
    for (const queue of this.broker.fanoutQueues(topic)) queue.push({ body });
  }

  async serve(topic: string, host: string, handlers: Record<string, Handler>): Promise<BusServer> {
    this.ensureOpen();
    checkServerNames(topic, host);
    const server = new MemoryServer(this.broker, topic, host, handlers, this.prefetch, this.logger, (s) => this.servers.delete(s));
    this.servers.add(server);
    server.start();
    return server;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const fail of [...this.pending]) fail(new BusClosedError('bus closed while the call was waiting for its reply'));
    await Promise.all([...this.servers].map((s) => s.stop()));
  }
}
