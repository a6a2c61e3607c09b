// The message bus: OpenStack-style RPC (call / cast / fanout) over topics "x" and "x.<host>".
// openBus picks the transport from the URL:
//   memory://[name]                       in-process; buses with the same URL share queues
//   amqp://user:pass@host:port/vhost      RabbitMQ (amqps:// for TLS, rabbit:// as oslo writes it)
import pino from 'pino';
import type { Logger } from 'pino';
import { AmqpBus } from './amqp.ts';
import { BusUrlError } from './errors.ts';
import { MemoryBus } from './memory.ts';
import { DEFAULT_PREFETCH, positive } from './options.ts';
import type { Bus, OpenBusOptions } from './types.ts';
import { maskUrl, parseAmqpUrl } from './url.ts';

export type { Bus, BusServer, CallOptions, Handler, HandlerContext, OpenBusOptions } from './types.ts';
export {
  BusClosedError,
  BusConnectionLostError,
  BusTimeoutError,
  BusUnavailableError,
  BusUrlError,
  NoSuchMethodError,
  RemoteError,
} from './errors.ts';
export { maskUrl } from './url.ts';

function defaultLogger(): Logger {
  return pino({ name: 'tenrec.bus', level: process.env.TENREC_BUS_LOG_LEVEL ?? 'warn' }, pino.destination(2));
}

/**
 * Opens a bus. For amqp:// the first connection must succeed (BusUnavailableError within
 * `connectTimeoutMs` otherwise, naming host:port); later drops are healed by reconnecting.
 */
export async function openBus(url: string, opts: OpenBusOptions = {}): Promise<Bus> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(String(url))?.[1]?.toLowerCase();
  const logger = opts.logger ?? defaultLogger();
  switch (scheme) {
    case 'memory':
      if (!String(url).startsWith('memory://')) throw new BusUrlError(`malformed bus URL ${maskUrl(url)}: write memory://[name]`);
      return new MemoryBus(url, logger, Math.floor(positive('prefetch', opts.prefetch, DEFAULT_PREFETCH)));
    case 'amqp':
    case 'amqps':
    case 'rabbit':
      return AmqpBus.open(parseAmqpUrl(url), opts, logger);
    default:
      throw new BusUrlError(
        `unsupported bus URL ${maskUrl(url)}: expected memory:// or amqp://user:pass@host:port/vhost`,
      );
  }
}
