// Which errors the operator must fix (and so see as one line, without a stack trace), as
// opposed to bugs. Loaded only once a command has failed.
import { ConfigError } from '../core/config/index.ts';
import { DatabaseConnectionError, DatabaseUrlError, MigrationError } from '../core/db/index.ts';
import { BusUnavailableError, BusUrlError } from '../core/bus/index.ts';
import { ListenError } from '../core/service.ts';
import { KeyRepositoryError } from '../identity/token/key-repository.ts';
import { ImageConfigError } from '../image/service.ts';
import { RingFileError } from '../object-store/ring/file.ts';
import { CliError } from './command.ts';

const operatorErrors = [
  CliError,
  ConfigError,
  DatabaseUrlError,
  DatabaseConnectionError,
  MigrationError,
  BusUrlError,
  BusUnavailableError,
  ListenError,
  KeyRepositoryError,
  ImageConfigError,
  RingFileError,
];

/** The line to show for an error the operator can act on; undefined for a bug. */
export function operatorMessage(err: unknown): string | undefined {
  if (operatorErrors.some((type) => err instanceof type)) return (err as Error).message;
  // The system said no (EACCES on the state directory, ENOSPC, ...): its message names the path.
  const e = err as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string') return e.message;
  return undefined;
}
