// Credential blobs are kept encrypted, as Keystone keeps them: Fernet under the keys of their own
// repository (credential-keys, laid out as the token keys are, see token/key-repository.ts), so
// a copy of the database gives no secret away, and token keys can rotate freely without making
// stored secrets unreadable. Each row records a hash of the key that encrypted it (key_hash).
//
// The keys are read at first use and again whenever their directory changes (a rotation renames
// files in it, copying keys in adds them), so a node whose keys arrive after it started needs no
// restart. A directory changed less than RACY_MS before it was read may change again within the
// same timestamp tick, so until it has been quiet that long it is read at every use. Without keys, the operations that need them fail with Keystone's 500
// (CredentialEncryptionError) and the log says which directory is empty; nothing is written.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import { HttpError } from '../../core/http/index.ts';
import { decrypt, encrypt, parseKey, type FernetKey } from '../token/fernet.ts';
import { InvalidToken } from '../token/errors.ts';
import { KeyRepositoryError, load } from '../token/key-repository.ts';

export interface Sealed {
  encryptedBlob: string;
  keyHash: string;
}

/** Keystone's key_hash: the SHA-1 of the primary key's text, naming the key without revealing it. */
export const keyHashOf = (key: string): string => createHash('sha1').update(key, 'utf8').digest('hex');

const RACY_MS = 2_000;

export class CredentialCipher {
  #keys: FernetKey[] = [];
  #primaryHash = '';
  /** the directory's mtime when the keys were read, NaN when it is not to be trusted */
  #seen = Number.NaN;

  constructor(
    readonly keyRepository: string,
    private readonly logger: Logger,
  ) {}

  encrypt(blob: string): Sealed {
    const keys = this.#current('encrypted');
    return { encryptedBlob: encrypt(keys, blob), keyHash: this.#primaryHash };
  }

  decrypt(sealed: string): string {
    const keys = this.#current('decrypted');
    try {
      return decrypt(keys, sealed).toString('utf8');
    } catch (err) {
      if (!(err instanceof InvalidToken)) throw err;
      this.logger.error({ dir: this.keyRepository }, 'a credential could not be decrypted with any credential key');
      throw failure('decrypted');
    }
  }

  /** The keys, re-read when their directory changed since the last read. */
  #current(what: 'encrypted' | 'decrypted'): FernetKey[] {
    let mtime = Number.NaN;
    try {
      mtime = statSync(this.keyRepository).mtimeMs;
    } catch {
      // no directory: load() below says so
    }
    if (this.#keys.length && mtime === this.#seen) return this.#keys;
    let texts: string[];
    try {
      texts = load(this.keyRepository);
    } catch (err) {
      if (!(err instanceof KeyRepositoryError)) throw err;
      this.logger.error({ dir: this.keyRepository, err: err.message }, 'no credential keys: run `tenrec identity credential-setup` (or copy the keys of another identity node)');
      throw failure(what);
    }
    this.#keys = texts.map(parseKey);
    this.#primaryHash = keyHashOf(texts[0]!);
    this.#seen = Date.now() - mtime < RACY_MS ? Number.NaN : mtime;
    return this.#keys;
  }
}

const failure = (what: string) => new HttpError(500, `Credential could not be ${what}. Please contact the administrator`);
