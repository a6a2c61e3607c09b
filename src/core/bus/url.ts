// Bus URLs: which transport, and for amqp:// the connection parameters. Errors name the URL
// with its password masked, since URLs end up in logs and API error bodies.
import { BusUrlError } from './errors.ts';

/** The URL with any password replaced by "***"; works on URLs too broken to parse. */
export function maskUrl(url: string): string {
  return String(url).replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

export interface AmqpParams {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
  heartbeat: number;
  /** host:port, for messages. */
  address: string;
}

/**
 * Parses amqp://user:pass@host:port/vhost (amqps:// for TLS; rabbit:// as oslo.messaging's
 * transport_url spells it). A missing or "/" path is the default vhost "/"; "%2F" also means "/".
 * Query: heartbeat=<seconds> (default 10, so a dead broker is noticed quickly).
 */
export function parseAmqpUrl(url: string): AmqpParams {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BusUrlError(`malformed bus URL ${maskUrl(url)}`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  const protocol = scheme === 'amqps' ? 'amqps' : 'amqp';
  if (!u.hostname) throw new BusUrlError(`bus URL ${maskUrl(url)} names no host`);
  if (u.hostname.includes(',') || u.username.includes(',')) {
    throw new BusUrlError(`bus URL ${maskUrl(url)}: several brokers in one URL are not supported`);
  }
  const port = u.port ? Number(u.port) : protocol === 'amqps' ? 5671 : 5672;
  const path = u.pathname.replace(/^\//, '');
  if (path.includes('/')) throw new BusUrlError(`bus URL ${maskUrl(url)}: the vhost must be one path segment (write "/" as %2F)`);
  let vhost: string;
  try {
    vhost = path === '' ? '/' : decodeURIComponent(path);
  } catch {
    throw new BusUrlError(`bus URL ${maskUrl(url)}: malformed vhost`);
  }
  const heartbeatParam = u.searchParams.get('heartbeat');
  const heartbeat = heartbeatParam === null ? 10 : Number(heartbeatParam);
  if (!Number.isInteger(heartbeat) || heartbeat < 0) throw new BusUrlError(`bus URL ${maskUrl(url)}: heartbeat must be whole seconds`);
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  return {
    protocol,
    hostname,
    port,
    username: u.username ? decodeURIComponent(u.username) : 'guest',
    password: u.password ? decodeURIComponent(u.password) : u.username ? '' : 'guest',
    vhost,
    heartbeat,
    address: `${u.hostname}:${port}`,
  };
}
