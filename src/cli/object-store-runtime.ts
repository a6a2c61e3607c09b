// The object store under the launcher: the proxy (the Swift API) and a storage server, each
// its own endpoint; and the all-in-one's layout of them.
//
// The all-in-one has one storage server with one device, <state>/object-store/devices/d1,
// listening on loopback, and rings of one replica in <state>/object-store. The rings say
// where that server listens, so the port is chosen (any free one) only when the rings are
// made, on the first run; later runs listen on the port the rings name.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { IdentityClient } from '../clients/identity.ts';
import type { Config } from '../core/config/index.ts';
import type { Logger } from '../core/log/logger.ts';
import type { Launcher } from '../core/service.ts';
import { ensureRings } from '../object-store/ring/all-in-one.ts';
import { readRingFile, ringFile } from '../object-store/ring/file.ts';
import { createObjectStoreProxy, createObjectStoreStorage, ringDir, type ObjectStoreProxy, type ObjectStoreStorage } from '../object-store/service.ts';

export const PROXY_ENDPOINT = 'object-store';
export const STORAGE_ENDPOINT = 'object-store:storage';

export interface ObjectStoreRuntimeOptions {
  config: Config;
  logger: Logger;
  stateDir: string;
  host: string;
  port: number;
}

/** Builds the proxy and hands it to the launcher. */
export async function addObjectStoreProxy(launcher: Launcher, opts: ObjectStoreRuntimeOptions): Promise<ObjectStoreProxy> {
  const proxy = await createObjectStoreProxy({ config: opts.config, logger: opts.logger, stateDir: opts.stateDir });
  launcher.add({ name: PROXY_ENDPOINT, app: proxy.app, port: opts.port, host: opts.host });
  launcher.onStop(() => proxy.close());
  return proxy;
}

/** Builds a storage server of `devices` and hands it to the launcher. */
export async function addObjectStoreStorage(launcher: Launcher, opts: Omit<ObjectStoreRuntimeOptions, 'stateDir'> & { devices: string[]; stateDir?: string }): Promise<ObjectStoreStorage> {
  const storage = await createObjectStoreStorage({ config: opts.config, logger: opts.logger, devices: opts.devices, stateDir: opts.stateDir });
  launcher.add({ name: STORAGE_ENDPOINT, app: storage.app, port: opts.port, host: opts.host });
  launcher.onStop(() => storage.close());
  return storage;
}

export const ALL_IN_ONE_DEVICE = 'd1';
const LOOPBACK = '127.0.0.1';

export interface AllInOneStorage {
  device: string;
  host: string;
  port: number;
}

/**
 * The all-in-one's device directory and rings, made on the first run with the storage server
 * on `freePort()`; on later runs, the device and port the rings already name.
 */
export async function ensureAllInOneStorage(config: Config, stateDir: string, freePort: () => Promise<number>): Promise<AllInOneStorage> {
  const dir = ringDir(config, stateDir);
  const device = join(stateDir, 'object-store', 'devices', ALL_IN_ONE_DEVICE);
  mkdirSync(device, { recursive: true, mode: 0o700 });
  const existing = ringedPort(dir);
  const port = existing ?? (await freePort());
  ensureRings(dir, [{ ip: LOOPBACK, port, device: ALL_IN_ONE_DEVICE }], 1);
  return { device, host: LOOPBACK, port: ringedPort(dir) ?? port };
}

/** The port the object ring puts the all-in-one's device at, if there is such a ring. */
function ringedPort(dir: string): number | undefined {
  let devices;
  try {
    devices = readRingFile(ringFile(dir, 'object')).devices;
  } catch {
    return undefined; // no ring yet: ensureRings makes it (or says what is wrong with what is there)
  }
  return devices.find((d) => d !== null && d.device === ALL_IN_ONE_DEVICE && d.ip === LOOPBACK)?.port;
}

/**
 * The role that reaches every project's account (keystoneauth's reseller_admin_role), made
 * through Identity's API with an admin token when missing, so an admin can grant it.
 */
export async function ensureResellerAdminRole(identityUrl: string, token: () => Promise<string>, name: string, logger: Logger): Promise<void> {
  const api = new IdentityClient(identityUrl, await token());
  const found = await api.send('GET', `/v3/roles?name=${encodeURIComponent(name)}`);
  if (found.status !== 200) throw new Error(`GET /v3/roles answered ${found.status}: ${JSON.stringify(found.body).slice(0, 300)}`);
  if ((found.body as { roles: unknown[] }).roles.length > 0) return;
  const made = await api.send('POST', '/v3/roles', { body: { role: { name, description: 'Reaches every project\'s object storage account' } } });
  if (made.status !== 201 && made.status !== 409) throw new Error(`POST /v3/roles answered ${made.status}: ${JSON.stringify(made.body).slice(0, 300)}`);
  if (made.status === 201) logger.info({ role: name }, `up: made the role ${name}`);
}
