// Errors the bus raises. Remote failures carry only a name and a message across the wire,
// never a stack: the caller learns what went wrong, not the server's internals.

/** `call` got no reply within its timeout. */
export class BusTimeoutError extends Error {
  override name = 'BusTimeoutError';
}

/** The handler on the other side threw; `remoteName` is the name of what it threw. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  readonly remoteName: string;
  constructor(remoteName: string, message: string) {
    super(message);
    this.remoteName = remoteName;
  }
}

/** The server of the topic has no handler of that name. */
export class NoSuchMethodError extends RemoteError {
  override name = 'NoSuchMethodError';
  constructor(message: string) {
    super('NoSuchMethodError', message);
  }
}

/** Unknown scheme or malformed bus URL; the message names the URL with its password masked. */
export class BusUrlError extends Error {
  override name = 'BusUrlError';
}

/** The broker could not be reached (first open), or stayed away longer than a publish may wait. */
export class BusUnavailableError extends Error {
  override name = 'BusUnavailableError';
}

/**
 * The connection dropped while a call was waiting for its reply. The remote method may or
 * may not have run; the caller decides whether to retry.
 */
export class BusConnectionLostError extends Error {
  override name = 'BusConnectionLostError';
}

/** The bus was closed (by its owner) while the operation was pending, or before it started. */
export class BusClosedError extends Error {
  override name = 'BusClosedError';
}
