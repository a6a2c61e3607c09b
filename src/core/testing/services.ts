// Which real backing services the test suites may use. A suite skips a service that is not
// reachable, unless TENREC_REQUIRE_SERVICES is set (CI), where an unreachable one is a failure.
import { connect } from 'node:net';

export const requireServices = ['1', 'true', 'yes'].includes(
  (process.env.TENREC_REQUIRE_SERVICES ?? '').toLowerCase(),
);

export const serviceUrls = {
  postgresql: process.env.TENREC_TEST_POSTGRESQL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  mysql: process.env.TENREC_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306/mysql',
  rabbitmq: process.env.TENREC_TEST_RABBITMQ ?? 'amqp://guest:guest@127.0.0.1:5672/',
};

/** True when something accepts TCP connections at the URL's host and port. */
export function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  const defaults: Record<string, number> = { 'postgresql:': 5432, 'mysql:': 3306, 'amqp:': 5672 };
  const port = Number(u.port || defaults[u.protocol] || 0);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Returns the `skip` option for a suite that needs the service at `url`: false when it is
 * reachable, a reason string when not. Throws when services are required (CI).
 */
export async function skipUnlessReachable(name: string, url: string): Promise<false | string> {
  if (await reachable(url)) return false;
  if (requireServices) throw new Error(`${name} at ${url} is required (TENREC_REQUIRE_SERVICES) but unreachable`);
  return `${name} unreachable at ${url}`;
}

export interface DatabaseBackend {
  name: 'sqlite' | 'postgresql' | 'mysql';
  /** 'sqlite://' or a server URL scratch databases are made on */
  url: string;
  skip: false | string;
}

/** The databases service suites run on: SQLite always, PostgreSQL and MySQL when reachable (required in CI). */
export async function databaseBackends(): Promise<DatabaseBackend[]> {
  return [
    { name: 'sqlite', url: 'sqlite://', skip: false },
    { name: 'postgresql', url: serviceUrls.postgresql, skip: await skipUnlessReachable('PostgreSQL', serviceUrls.postgresql) },
    { name: 'mysql', url: serviceUrls.mysql, skip: await skipUnlessReachable('MySQL', serviceUrls.mysql) },
  ];
}
