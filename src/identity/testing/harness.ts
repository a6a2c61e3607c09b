// An identity service running in-process on a real port, bootstrapped, for API test suites,
// on SQLite or on a scratch PostgreSQL or MySQL database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../core/config/index.ts';
import { createScratchDatabase, type ScratchDatabase } from '../../core/db/index.ts';
import { silentLogger } from '../../core/log/logger.ts';
import { databaseBackends } from '../../core/testing/services.ts';
import { IdentityClient } from '../../clients/identity.ts';
import { identitySection } from '../settings.ts';
import { createIdentityService, type IdentityService } from '../service.ts';
import { bootstrapIdentity } from '../bootstrap.ts';

export const ADMIN_PASSWORD = 'admin-secret-pw';

export interface IdentityHarness {
  url: string;
  service: IdentityService;
  /** client holding a project-scoped admin token */
  admin: IdentityClient;
  adminToken: string;
  adminUserId: string;
  adminProjectId: string;
  /** a client without a token */
  anonymous(): IdentityClient;
  stop(): Promise<void>;
}

export async function startIdentity(databaseAdminUrl = 'sqlite://', settings: Record<string, string> = {}): Promise<IdentityHarness> {
  const stateDir = mkdtempSync(join(tmpdir(), 'tenrec-identity-'));
  let scratch: ScratchDatabase | undefined;
  const connection = databaseAdminUrl.startsWith('sqlite')
    ? `sqlite:///${join(stateDir, 'identity.db')}`
    : (scratch = await createScratchDatabase(databaseAdminUrl)).url;
  const config = loadConfig({
    env: {},
    schemas: [identitySection],
    overrides: { identity: { connection, password_hash_cost: '10', ...settings } },
  });
  const service = await createIdentityService({ config, logger: silentLogger, stateDir, createKeys: true });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
  const boot = await bootstrapIdentity(service.deps.store, { adminPassword: ADMIN_PASSWORD, publicUrl: `${url}/v3`, passwordHashCost: 10 });
  const admin = new IdentityClient(url);
  const issued = await admin.passwordLogin({ username: 'admin', password: ADMIN_PASSWORD, project: 'admin' });
  admin.token = issued.token;
  return {
    url,
    service,
    admin,
    adminToken: issued.token,
    adminUserId: boot.userId,
    adminProjectId: boot.projectId,
    anonymous: () => new IdentityClient(url),
    stop: async () => {
      await service.close();
      await scratch?.drop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The databases identity suites run on (see core/testing/services.ts). */
export const identityBackends = databaseBackends;
