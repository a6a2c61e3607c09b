/**
 * Issues and validates Keystone-style Fernet tokens: a msgpack payload
 * (payload.ts) sealed with Fernet (fernet.ts) under the keys of a Keystone
 * key repository (key-repository.ts). Tokens are stateless: validation needs
 * only the keys, no database; revocation (by audit id) is the caller's check.
 *
 * As Keystone does, the token string has its base64 `=` padding stripped
 * (tokens travel in headers and URLs); validation restores it, and accepts a
 * padded token as well.
 */
import { decryptWithTimestamp, encrypt, parseKey, type FernetKey } from './fernet.ts';
import { InvalidToken, TokenExpired } from './errors.ts';
import { load } from './key-repository.ts';
import { AUTH_METHODS, decodePayload, encodePayload, newAuditId, type Payload } from './payload.ts';

export { InvalidToken, TokenExpired } from './errors.ts';

export interface TokenData {
  userId: string;
  methods: string[];
  projectId?: string;
  domainId?: string;
  system?: 'all';
  appCredId?: string;
  expiresAt: Date;
  issuedAt: Date;
  /** This token's own audit id first; a second one (the audit chain id) when rescoped from another token. */
  auditIds: string[];
}

export type IssueRequest = Omit<TokenData, 'issuedAt' | 'auditIds'> & {
  /** When rescoping: the parent token's audit chain id (its last audit id), kept as this token's second audit id. */
  parentAuditId?: string;
};

/**
 * Upper bound on what validate() will look at. Real tokens are ~180-250 chars
 * (Keystone's max_token_size is 255); the margin is for long non-UUID ids. It
 * keeps a megabyte of header from costing a megabyte of HMAC.
 */
export const MAX_TOKEN_LENGTH = 4096;

export class TokenProvider {
  readonly keyRepository: string;
  private keys: FernetKey[];

  constructor(opts: { keyRepository: string }) {
    this.keyRepository = opts.keyRepository;
    this.keys = this.readKeys();
  }

  /** Re-reads the key repository (after a rotation). On failure the keys in use are kept and the error is thrown. */
  reload(): void {
    this.keys = this.readKeys();
  }

  private readKeys(): FernetKey[] {
    return load(this.keyRepository).map(parseKey);
  }

  issue(request: IssueRequest): { token: string; data: TokenData } {
    const auditIds = [newAuditId()];
    if (request.parentAuditId !== undefined) auditIds.push(request.parentAuditId);
    const payload: Payload = {
      userId: request.userId,
      methods: request.methods,
      expiresAt: new Date(request.expiresAt.getTime()),
      auditIds,
    };
    if (request.projectId !== undefined) payload.projectId = request.projectId;
    if (request.domainId !== undefined) payload.domainId = request.domainId;
    if (request.system !== undefined) payload.system = request.system;
    if (request.appCredId !== undefined) payload.appCredId = request.appCredId;

    const bytes = encodePayload(payload); // validates: scopes, ids, known methods
    // The bitmask does not keep order or duplicates; hand back what validate() will give.
    payload.methods = AUTH_METHODS.filter((m) => request.methods.includes(m));
    const issuedAtSeconds = Math.floor(Date.now() / 1000);
    const token = encrypt(this.keys, bytes, { now: issuedAtSeconds }).replace(/=+$/, '');
    return { token, data: { ...payload, issuedAt: new Date(issuedAtSeconds * 1000) } };
  }

  /** Returns the token's data, or throws InvalidToken, or TokenExpired (a subclass, carrying the data). */
  validate(token: string): TokenData {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidToken();
    }
    const padded = token + '='.repeat((4 - (token.length % 4)) % 4);
    const { plaintext, timestamp } = decryptWithTimestamp(this.keys, padded);
    const data: TokenData = { ...decodePayload(plaintext), issuedAt: new Date(timestamp * 1000) };
    if (data.expiresAt.getTime() <= Date.now()) throw new TokenExpired(data);
    return data;
  }
}
