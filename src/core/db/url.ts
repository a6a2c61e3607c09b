// SQLAlchemy-style database URLs, as OpenStack operators write them in [database] connection.
export type Dialect = 'sqlite' | 'postgresql' | 'mysql';

export interface DatabaseUrl {
  dialect: Dialect;
  /** sqlite: file path, or ':memory:' */
  path?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** the URL with its password replaced by ****, for messages and logs */
  display: string;
}

export class DatabaseUrlError extends Error {}

const schemes: Record<string, Dialect> = {
  sqlite: 'sqlite',
  postgresql: 'postgresql',
  'postgresql+psycopg2': 'postgresql',
  postgres: 'postgresql',
  mysql: 'mysql',
  'mysql+pymysql': 'mysql',
  'mysql+mysqldb': 'mysql',
  mariadb: 'mysql',
};

export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/[^:/@]*):[^@/]*@/i, '$1:****@');
}

export function parseDatabaseUrl(url: string): DatabaseUrl {
  const display = maskUrlPassword(url);
  const m = /^([a-z0-9+.-]+):\/\/(.*)$/i.exec(url);
  if (!m) throw new DatabaseUrlError(`malformed database URL '${display}': expected scheme://...`);
  const dialect = schemes[m[1]!.toLowerCase()];
  if (!dialect) {
    throw new DatabaseUrlError(
      `unsupported database URL scheme '${m[1]}' in '${display}' (use sqlite://, postgresql:// or mysql+pymysql://)`,
    );
  }
  if (dialect === 'sqlite') {
    // sqlite:// is in memory; sqlite:///rel/path is relative; sqlite:////abs/path is absolute.
    const rest = m[2]!.split('?')[0]!;
    if (rest === '' || rest === '/' || rest === '/:memory:') return { dialect, path: ':memory:', display };
    if (!rest.startsWith('/')) throw new DatabaseUrlError(`malformed sqlite URL '${display}': expected sqlite:///path`);
    return { dialect, path: rest.slice(1), display };
  }
  let parsed: URL;
  try {
    parsed = new URL(`tenrec://${m[2]}`);
  } catch {
    throw new DatabaseUrlError(`malformed database URL '${display}'`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!parsed.hostname) throw new DatabaseUrlError(`database URL '${display}' has no host`);
  if (!database) throw new DatabaseUrlError(`database URL '${display}' names no database`);
  return {
    dialect,
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : dialect === 'postgresql' ? 5432 : 3306,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database,
    display,
  };
}
