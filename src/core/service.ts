// The launcher: what every Tenrec process runs its HTTP APIs and periodic tasks under.
//
//   SIGTERM, SIGINT  stop accepting connections, let the requests in flight finish, stop the
//                    periodic tasks, run the stop hooks (close the database, the bus), exit 0.
//                    A second signal while stopping exits at once (1); so does a stop that
//                    takes longer than shutdownTimeoutMs (oslo.service's graceful_shutdown_timeout).
//   SIGHUP           run the reload hooks (e.g. re-read the Fernet keys after a rotation) and
//                    keep serving, as OpenStack services do.
//
//   const launcher = new Launcher({ logger });
//   launcher.add({ name: 'identity', app, port: 5000, host: '127.0.0.1' });
//   launcher.onStop(() => db.close());
//   launcher.every(60_000, () => purgeExpired(), 'purge expired tokens');
//   await launcher.start();            // ListenError when a port is taken
//   launcher.installSignalHandlers();
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createLogger } from './log/logger.ts';

/** An HTTP API to serve: the catalog service name, its app and where it listens. */
export interface ServiceEndpoint {
  name: string;
  app: FastifyInstance;
  /** 0 picks a free port */
  port: number;
  host: string;
}

export interface ListeningEndpoint {
  name: string;
  host: string;
  port: number;
  /** http://host:port, IPv6 hosts bracketed */
  url: string;
}

/** A port could not be bound: taken, privileged, or an address this host does not have. */
export class ListenError extends Error {
  override name = 'ListenError';
  readonly code?: string;

  constructor(service: string, host: string, port: number, code: string | undefined, detail: string) {
    const reasons: Record<string, string> = {
      EADDRINUSE: 'address already in use (is another tenrec or service running on that port?)',
      EACCES: 'permission denied (ports below 1024 need privileges)',
      EADDRNOTAVAIL: 'this host has no such address',
    };
    super(`cannot listen on ${hostPort(host, port)} for ${service}: ${(code && reasons[code]) ?? detail}`);
    this.code = code;
  }
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function endpointUrl(host: string, port: number): string {
  return `http://${hostPort(host, port)}`;
}

/** Stops a periodic task; resolves once a run in progress has finished. */
export type Stopper = () => Promise<void>;

export interface PeriodicOptions {
  logger?: Logger;
  /** named in log lines */
  name?: string;
  /** run once right away instead of after the first interval */
  runAtStart?: boolean;
}

let fallbackLogger: Logger | undefined;

/**
 * Runs `fn` every `ms` milliseconds, measured from the start of one run to the start of the
 * next. Runs never overlap: a run that takes longer than `ms` is followed by the next one at
 * once, never by two. A run that throws is logged and the schedule goes on.
 */
export function every(ms: number, fn: () => unknown, opts: PeriodicOptions = {}): Stopper {
  if (!(Number.isFinite(ms) && ms > 0)) throw new RangeError(`periodic interval must be a positive number of ms, got ${ms}`);
  const logger = opts.logger ?? (fallbackLogger ??= createLogger());
  const name = opts.name ?? (fn.name || 'periodic task');
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = (delay: number) => {
    if (!stopped) timer = setTimeout(tick, delay);
  };
  const tick = () => {
    timer = undefined;
    const started = Date.now();
    running = (async () => {
      try {
        await fn();
      } catch (err) {
        logger.error({ err, task: name }, `periodic task failed: ${name}`);
      }
    })().finally(() => {
      running = undefined;
      schedule(Math.max(0, ms - (Date.now() - started)));
    });
  };
  schedule(opts.runAtStart ? 0 : ms);

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    await running;
  };
}

export interface LauncherOptions {
  logger: Logger;
  /** how the process ends once stopped; default process.exit (tests pass their own) */
  exit?: (code: number) => void;
  /** how long stopping (requests in flight, stop hooks) may take before the process exits anyway */
  shutdownTimeoutMs?: number;
}

type Hook = () => unknown;

export class Launcher {
  readonly #logger: Logger;
  readonly #exit: (code: number) => void;
  readonly #shutdownTimeoutMs: number;
  readonly #endpoints: ServiceEndpoint[] = [];
  readonly #listening: ListeningEndpoint[] = [];
  readonly #stopHooks: Hook[] = [];
  readonly #reloadHooks: Hook[] = [];
  readonly #periodic: Stopper[] = [];
  readonly #signalHandlers = new Map<NodeJS.Signals, () => void>();
  #stopping: Promise<number> | undefined;

  constructor(opts: LauncherOptions) {
    this.#logger = opts.logger;
    this.#exit = opts.exit ?? ((code) => process.exit(code));
    this.#shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 60_000;
  }

  /** Serves `endpoint` once start() is called. */
  add(endpoint: ServiceEndpoint): void {
    this.#endpoints.push(endpoint);
  }

  /** Runs at stop, after the HTTP servers have closed; hooks run last-added first. */
  onStop(hook: Hook): void {
    this.#stopHooks.push(hook);
  }

  /** Runs on SIGHUP (or reload()); a failing hook is logged and the others still run. */
  onReload(hook: Hook): void {
    this.#reloadHooks.push(hook);
  }

  /** A periodic task (see every()) that stop() ends, waiting for a run in progress. */
  every(ms: number, fn: () => unknown, name?: string): void {
    this.#periodic.push(every(ms, fn, { logger: this.#logger, name }));
  }

  /** Where each endpoint listens, once started. */
  get endpoints(): readonly ListeningEndpoint[] {
    return this.#listening;
  }

  /**
   * Listens on every endpoint's port. When one cannot be bound, everything started so far
   * is closed, the stop hooks run, and the ListenError is thrown (the process does not exit).
   */
  async start(): Promise<readonly ListeningEndpoint[]> {
    try {
      for (const endpoint of this.#endpoints) this.#listening.push(await this.#listen(endpoint));
    } catch (err) {
      // Nothing was announced yet: close quietly, and make a later stop() a no-op.
      this.#stopping = this.#shutdown().then(() => 1);
      await this.#stopping;
      throw err;
    }
    return this.#listening;
  }

  async #listen({ name, app, port, host }: ServiceEndpoint): Promise<ListeningEndpoint> {
    try {
      await app.listen({ port, host });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ListenError(name, host, port, e.code, e.message);
    }
    const bound = (app.server.address() as AddressInfo).port;
    const url = endpointUrl(host, bound);
    this.#logger.info({ service: name, url }, `${name} listening on ${url}`);
    return { name, host, port: bound, url };
  }

  /** SIGTERM and SIGINT stop the process gracefully; SIGHUP reloads. */
  installSignalHandlers(): void {
    const stopOn = (signal: NodeJS.Signals) => () => {
      if (this.#stopping) {
        this.#logger.warn({ signal }, 'second stop signal: exiting without waiting');
        this.#exit(1);
        return;
      }
      void this.stop(signal);
    };
    this.#signalHandlers.set('SIGTERM', stopOn('SIGTERM'));
    this.#signalHandlers.set('SIGINT', stopOn('SIGINT'));
    if (process.platform !== 'win32') this.#signalHandlers.set('SIGHUP', () => void this.reload());
    for (const [signal, handler] of this.#signalHandlers) process.on(signal, handler);
  }

  /**
   * What a stop signal does: stop accepting connections, let requests in flight finish,
   * stop periodic tasks, run the stop hooks, then exit with 0 (1 when something failed or
   * the shutdown timeout passed). Calling it again returns the same promise.
   */
  stop(reason: string): Promise<number> {
    if (this.#stopping) return this.#stopping;
    this.#logger.info({ reason }, 'stopping: no new connections, waiting for requests in flight');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        this.#logger.error({ timeoutMs: this.#shutdownTimeoutMs }, 'stop did not finish in time; exiting anyway');
        resolve(1);
      }, this.#shutdownTimeoutMs);
      timer.unref();
    });
    this.#stopping = Promise.race([this.#shutdown(), timeout]).then(async (code) => {
      clearTimeout(timer);
      this.#logger.info({ code }, 'stopped');
      await new Promise<void>((resolve) => this.#logger.flush(() => resolve()));
      for (const [signal, handler] of this.#signalHandlers) process.off(signal, handler);
      this.#exit(code);
      return code;
    });
    return this.#stopping;
  }

  /** What SIGHUP does: runs every reload hook. */
  async reload(): Promise<void> {
    this.#logger.info('reloading');
    for (const hook of this.#reloadHooks) {
      try {
        await hook();
      } catch (err) {
        this.#logger.error({ err }, 'reload failed; carrying on with what was loaded before');
      }
    }
  }

  /** Closes everything; 0 when all went well, 1 when something failed (and was logged). */
  async #shutdown(): Promise<number> {
    let code = 0;
    const failed = (what: string) => (err: unknown) => {
      this.#logger.error({ err }, `stopping: ${what} failed`);
      code = 1;
    };
    await Promise.all([
      ...this.#periodic.map((stop) => stop()),
      ...this.#endpoints.map((e) => closeGracefully(e.app).catch(failed(`closing ${e.name}`))),
    ]);
    for (const hook of [...this.#stopHooks].reverse()) {
      try {
        await hook();
      } catch (err) {
        failed('a stop hook')(err);
      }
    }
    return code;
  }
}

/**
 * app.close() closes the listening socket at once, answers 503 (Connection: close) to new
 * requests on kept-alive connections, and closes the connections idle at that moment. A
 * connection whose request is in flight would stay open after its answer until the client
 * or the keep-alive timeout (72 s in Fastify) closes it, so it is closed once it turns idle.
 */
async function closeGracefully(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}

export interface RunServiceOptions extends ServiceEndpoint {
  logger: Logger;
  /** close what the service holds (database, bus) once its requests are done */
  onStop?: Hook;
  /** SIGHUP */
  onReload?: Hook;
  exit?: (code: number) => void;
  shutdownTimeoutMs?: number;
}

/** Serves one app until SIGTERM/SIGINT; the launcher returned can also be stopped directly. */
export async function runService(opts: RunServiceOptions): Promise<Launcher> {
  const launcher = new Launcher({ logger: opts.logger, exit: opts.exit, shutdownTimeoutMs: opts.shutdownTimeoutMs });
  launcher.add({ name: opts.name, app: opts.app, port: opts.port, host: opts.host });
  if (opts.onStop) launcher.onStop(opts.onStop);
  if (opts.onReload) launcher.onReload(opts.onReload);
  await launcher.start();
  launcher.installSignalHandlers();
  return launcher;
}
