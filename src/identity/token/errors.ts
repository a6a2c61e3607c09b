/**
 * Errors of the token layer.
 *
 * `TokenExpired` is a subclass of `InvalidToken` on purpose: a caller that only
 * checks `instanceof InvalidToken` rejects expired tokens too (the safe default),
 * and a caller that wants Keystone's `allow_expired` behaviour checks
 * `instanceof TokenExpired` first and reads `.data`.
 */
import type { TokenData } from './token-provider.ts';

/** The token is garbage, tampered with, truncated, or signed by no key we hold. */
export class InvalidToken extends Error {
  constructor(message = 'invalid token') {
    super(message);
    this.name = 'InvalidToken';
  }
}

/** The token is authentic but its expires_at has passed; `data` is the decoded payload. */
export class TokenExpired extends InvalidToken {
  readonly data: TokenData;
  constructor(data: TokenData) {
    super(`token expired at ${data.expiresAt.toISOString()}`);
    this.name = 'TokenExpired';
    this.data = data;
  }
}

/** A Fernet key (from configuration or the key repository) is malformed: an operator fault, not a token fault. */
export class InvalidFernetKey extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidFernetKey';
  }
}
