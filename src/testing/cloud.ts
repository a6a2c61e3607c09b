// An in-process cloud for service test suites: Identity (bootstrapped), the image service and
// the networking service, each on its own port, validating tokens against Identity over HTTP
// with their own service users, exactly as in a deployment. On SQLite or a scratch PostgreSQL/MySQL.
// Asked for, the object store too: a proxy and storage servers (see object-store.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../core/config/index.ts';
import { createScratchDatabase, type ScratchDatabase } from '../core/db/index.ts';
import { silentLogger } from '../core/log/logger.ts';
import { RestClient } from '../clients/http.ts';
import { IdentityClient } from '../clients/identity.ts';
import { startIdentity, type IdentityHarness } from '../identity/testing/harness.ts';
import { ensureServiceUser, registerService } from '../identity/bootstrap.ts';
import { grant, makeProject, makeUser } from '../identity/testing/fixtures.ts';
import { imageSection } from '../image/settings.ts';
import { createImageService, type ImageService } from '../image/service.ts';
import { networkSection } from '../network/settings.ts';
import { createNetworkService, type NetworkService } from '../network/service.ts';
import { openBus, type Bus } from '../core/bus/index.ts';
import { ObjectStoreClient } from '../clients/object-store.ts';
import { startObjectStoreCluster, type ObjectStoreCluster } from './object-store.ts';

export interface ProjectUser {
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  token: string;
  /** an image API client holding this user's token */
  image: RestClient;
  /** a networking API client holding this user's token */
  network: RestClient;
  /** an object storage client on this user's project's account (when the cloud has the object store) */
  objectStore?: ObjectStoreClient;
}

export interface CloudOptions {
  /** the object store: true for one storage server, or how many (each holding a replica of everything) */
  objectStore?: boolean | { replicas: number };
}

export interface TestCloud {
  identity: IdentityHarness;
  imageService: ImageService;
  imageUrl: string;
  /** image API client with the admin's project-scoped token */
  image: RestClient;
  networkService: NetworkService;
  networkUrl: string;
  /** networking API client with the admin's project-scoped token */
  network: RestClient;
  /** the bus the networking service publishes agent events on */
  bus: Bus;
  /** the object store, when asked for */
  objectStore?: ObjectStoreCluster;
  /** http://127.0.0.1:<proxy port>/v1/AUTH_<projectId>; throws when the cloud has no object store */
  objectStoreAccountUrl(projectId: string): string;
  stateDir: string;
  /** a new project with a new user holding `role` on it, logged in */
  projectUser(role?: 'member' | 'reader' | 'admin', name?: string): Promise<ProjectUser>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startCloud(
  databaseAdminUrl = 'sqlite://',
  imageOptions: Record<string, string> = {},
  networkOptions: Record<string, string> = {},
  options: CloudOptions = {},
): Promise<TestCloud> {
  const identity = await startIdentity(databaseAdminUrl);
  const stateDir = mkdtempSync(join(tmpdir(), 'tenrec-cloud-'));
  const scratches: ScratchDatabase[] = [];
  const databaseFor = async (service: string) => {
    if (databaseAdminUrl.startsWith('sqlite')) return `sqlite:///${join(stateDir, `${service}.db`)}`;
    const scratch = await createScratchDatabase(databaseAdminUrl);
    scratches.push(scratch);
    return scratch.url;
  };
  const connection = await databaseFor('image');
  const servicePassword = 'image-service-pw';
  await ensureServiceUser(identity.service.deps.store, { username: 'image', password: servicePassword, passwordHashCost: 10 });
  const config = loadConfig({
    env: {},
    schemas: [imageSection],
    overrides: { image: { connection, auth_url: `${identity.url}/v3`, service_password: servicePassword, token_cache_seconds: '0', ...imageOptions } },
  });
  const imageService = await createImageService({ config, logger: silentLogger, stateDir, recoverOlderThanMs: 0 });
  await imageService.app.listen({ host: '127.0.0.1', port: 0 });
  const imageUrl = `http://127.0.0.1:${(imageService.app.server.address() as AddressInfo).port}`;
  await registerService(identity.service.deps.store, { type: 'image', name: 'glance', region: 'RegionOne', publicUrl: imageUrl });

  await ensureServiceUser(identity.service.deps.store, { username: 'network', password: servicePassword, passwordHashCost: 10 });
  const bus = await openBus(`memory://cloud-${process.pid}-${++counter}`);
  const networkConfig = loadConfig({
    env: {},
    schemas: [networkSection],
    overrides: {
      network: {
        connection: await databaseFor('network'), auth_url: `${identity.url}/v3`, service_password: servicePassword, token_cache_seconds: '0',
        ...networkOptions,
      },
    },
  });
  const networkService = await createNetworkService({ config: networkConfig, logger: silentLogger, stateDir, bus });
  await networkService.app.listen({ host: '127.0.0.1', port: 0 });
  const networkUrl = `http://127.0.0.1:${(networkService.app.server.address() as AddressInfo).port}`;
  await registerService(identity.service.deps.store, { type: 'network', name: 'neutron', region: 'RegionOne', publicUrl: networkUrl });

  let objectStore: ObjectStoreCluster | undefined;
  if (options.objectStore) {
    await ensureServiceUser(identity.service.deps.store, { username: 'swift', password: servicePassword, passwordHashCost: 10 });
    const role = await identity.admin.send('POST', '/v3/roles', { body: { role: { name: 'ResellerAdmin' } } });
    if (role.status !== 201) throw new Error(`creating the ResellerAdmin role answered ${role.status}`);
    objectStore = await startObjectStoreCluster({
      stateDir,
      replicas: typeof options.objectStore === 'object' ? options.objectStore.replicas : 1,
      options: { auth_url: `${identity.url}/v3`, service_password: servicePassword },
    });
    await registerService(identity.service.deps.store, { type: 'object-store', name: 'swift', region: 'RegionOne', publicUrl: `${objectStore.url}/v1/AUTH_$(project_id)s` });
  }
  const objectStoreAccountUrl = (projectId: string) => {
    if (!objectStore) throw new Error('this cloud has no object store: startCloud(..., { objectStore: true })');
    return `${objectStore.url}/v1/AUTH_${projectId}`;
  };

  return {
    identity,
    imageService,
    imageUrl,
    image: new RestClient(imageUrl, identity.adminToken),
    networkService,
    networkUrl,
    network: new RestClient(networkUrl, identity.adminToken),
    bus,
    objectStore,
    objectStoreAccountUrl,
    stateDir,
    async projectUser(role = 'member', name) {
      const tag = name ?? `t${process.pid}x${++counter}`;
      const projectId = await makeProject(identity, `proj-${tag}`);
      const userId = (await makeUser(identity, { name: `user-${tag}`, password: 'user-pw' })).id;
      await grant(identity, 'UserProject', userId, projectId, role);
      const issued = await new IdentityClient(identity.url).passwordLogin({ username: `user-${tag}`, password: 'user-pw', projectId });
      return {
        userId, userName: `user-${tag}`, projectId, projectName: `proj-${tag}`, token: issued.token,
        image: new RestClient(imageUrl, issued.token),
        network: new RestClient(networkUrl, issued.token),
        objectStore: objectStore && new ObjectStoreClient(objectStoreAccountUrl(projectId), issued.token),
      };
    },
    async stop() {
      await objectStore?.stop();
      await networkService.close();
      await bus.close();
      await imageService.close();
      for (const scratch of scratches) await scratch.drop();
      await identity.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
