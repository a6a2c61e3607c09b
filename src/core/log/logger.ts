// Structured JSON logs (pino). Every service gets a child logger carrying its name; request
// loggers add the request id (see core/http/app.ts).
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** file descriptor or path; default stderr so stdout stays for command output */
  destination?: number | string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.TENREC_LOG_LEVEL ?? 'info';
  const destination = pino.destination({ dest: opts.destination ?? 2, sync: false });
  return pino(
    {
      level,
      base: { pid: process.pid },
      // Never let a password or token reach a log line, whatever an object carries.
      redact: {
        paths: ['password', '*.password', '*.*.password', 'headers["x-auth-token"]', 'headers["x-subject-token"]', 'secret', '*.secret'],
        censor: '****',
      },
    },
    destination,
  );
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = pino({ level: 'silent' });
