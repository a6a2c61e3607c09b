// What the launcher starts for identity: its database (migrated), the token keys, the HTTP API.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApp, keystoneFault } from '../core/http/index.ts';
import { openDatabase, migrateToLatest } from '../core/db/index.ts';
import { Enforcer } from '../core/policy/index.ts';
import type { Config } from '../core/config/index.ts';
import { identityMigrations } from './db/migrations.ts';
import { IdentityStore } from './db/store.ts';
import type { IdentityDatabase } from './db/schema.ts';
import { identitySection, type IdentitySettings } from './settings.ts';
import { identityPolicyDefaults } from './policy.ts';
import { TokenProvider } from './token/token-provider.ts';
import { setup as setupKeys } from './token/key-repository.ts';
import { TokenService } from './token/token-service.ts';
import { Authenticator } from './token/authenticate.ts';
import { ServiceCatalog } from './catalog/service-catalog.ts';
import { CredentialCipher } from './credential/cipher.ts';
import type { IdentityDeps } from './api/common.ts';
import { registerIdentityApi } from './api/routes.ts';

export interface IdentityServiceOptions {
  config: Config;
  logger: Logger;
  /** where the all-in-one keeps SQLite files and keys when the config names none */
  stateDir: string;
  /**
   * Create the Fernet key repositories (token and credential keys) when empty (the all-in-one).
   * A split node must not: keys of its own would make every other node's tokens unreadable to
   * it, so it refuses to start until the shared token keys are in place (`tenrec identity
   * fernet-setup`, then copy). Credential keys (`tenrec identity credential-setup`, then copy)
   * are read when first needed; until they are there, the credential APIs answer 500.
   */
  createKeys?: boolean;
}

export interface IdentityService {
  app: FastifyInstance;
  deps: IdentityDeps;
  /** Re-reads the Fernet keys (after a rotation); on failure keeps the keys in use and throws. */
  reloadKeys(): void;
  close(): Promise<void>;
}

export function identityDatabaseUrl(config: Config, stateDir: string): string {
  return config.section(identitySection).connection || `sqlite:///${join(stateDir, 'identity.db')}`;
}

export function identityKeyRepository(config: Config, stateDir: string): string {
  return config.section(identitySection).key_repository || join(stateDir, 'fernet-keys');
}

export function identityCredentialKeyRepository(config: Config, stateDir: string): string {
  return config.section(identitySection).credential_key_repository || join(stateDir, 'credential-keys');
}

export function identitySettings(config: Config): IdentitySettings {
  const s = config.section(identitySection);
  return {
    tokenExpiration: s.token_expiration,
    allowExpiredWindow: s.allow_expired_window,
    passwordHashCost: s.password_hash_cost,
    maxActiveKeys: s.max_active_keys,
    publicEndpoint: s.public_endpoint || undefined,
  };
}

/** Opens and migrates identity's database. */
export async function openIdentityStore(url: string): Promise<{ store: IdentityStore; close: () => Promise<void> }> {
  const database = await openDatabase<IdentityDatabase>(url);
  try {
    await migrateToLatest(database.db, 'identity', identityMigrations);
  } catch (err) {
    await database.close();
    throw err;
  }
  return { store: new IdentityStore(database.db), close: database.close };
}

export async function createIdentityService(opts: IdentityServiceOptions): Promise<IdentityService> {
  const settings = identitySettings(opts.config);
  const keyDir = identityKeyRepository(opts.config, opts.stateDir);
  const credentialKeyDir = identityCredentialKeyRepository(opts.config, opts.stateDir);
  if (opts.createKeys) {
    setupKeys(keyDir);
    setupKeys(credentialKeyDir);
  }
  // Keys first: a node without them must fail before it holds any database connection.
  const provider = new TokenProvider({ keyRepository: keyDir });
  const policyFile = opts.config.section(identitySection).policy_file || undefined;
  const policy = new Enforcer(identityPolicyDefaults, { policyFile });
  const { store, close } = await openIdentityStore(identityDatabaseUrl(opts.config, opts.stateDir));
  const tokens = new TokenService(store, provider, new ServiceCatalog(store.db, settings.publicEndpoint), settings);
  const credentials = new CredentialCipher(credentialKeyDir, opts.logger);
  const deps: IdentityDeps = { store, policy, tokens, credentials, settings, logger: opts.logger };
  const app = createApp({ service: 'identity', fault: keystoneFault, logger: opts.logger });
  registerIdentityApi(app, deps, new Authenticator(store, tokens, settings));
  return {
    app,
    deps,
    reloadKeys: () => provider.reload(),
    close: async () => {
      await app.close();
      await close();
    },
  };
}
