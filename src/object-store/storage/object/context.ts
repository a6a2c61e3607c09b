// What the object handlers share: the disk, the update sender, and the two kinds of update an
// object write sends on (its container's listing, and the expirer's queue).
import type { Logger } from 'pino';
import type { SwiftRequest } from '../../pipeline.ts';
import { isTrue } from '../header-families.ts';
import type { PathHasher } from '../layout.ts';
import type { Timestamp } from '../timestamp.ts';
import { containerTargets, type ContainerUpdates, type UpdateTarget } from './container-updates.ts';
import type { DiskObjects, ObjectLocation } from './disk-object.ts';
import { EMPTY_ETAG, EXPIRER_ACCOUNT, EXPIRER_TASK_CONTENT_TYPE, expirerContainer, expirerTaskName } from './expirer-queue.ts';
import type { ObjectMetadata } from './file-format.ts';
import { normalizeDeleteAt } from '../../constraints.ts';

export interface ObjectRequest {
  req: SwiftRequest;
  devicePath: string;
  account: string;
  container: string;
  object: string;
  location: ObjectLocation;
}

export class ObjectContext {
  constructor(
    readonly disk: DiskObjects,
    readonly updates: ContainerUpdates,
    readonly hasher: PathHasher,
    readonly logger: Logger,
    /** how long an upload may send nothing before it is dropped (Swift's client_timeout) */
    readonly clientTimeoutMs: number,
  ) {}

  /** Tells the object's container servers (X-Container-*) about a write. */
  async sendContainerUpdate(r: ObjectRequest, op: 'PUT' | 'DELETE', headers: Record<string, string>, timestamp: Timestamp): Promise<void> {
    await this.updates.send({
      op,
      account: r.account,
      container: r.container,
      obj: r.object,
      headers: { ...headers, 'x-trans-id': r.req.env.transId, 'x-backend-storage-policy-index': '0' },
      targets: containerTargets(r.req.headers, this.logger),
      devicePath: r.devicePath,
      hash: r.location.hash,
      timestamp: headers['x-meta-timestamp'] ?? timestamp.internal,
    });
  }

  /**
   * Keeps the expirer's queue in step when X-Delete-At changes: queues the new time where the
   * proxy says (X-Delete-At-*), and has the updater remove the old entry. Replication copies
   * objects without touching the queue.
   */
  async updateExpirerQueue(r: ObjectRequest, timestamp: Timestamp, oldDeleteAt: string | undefined, newDeleteAt: string | undefined, metadata: ObjectMetadata): Promise<void> {
    const headers = r.req.headers;
    if (isTrue(headers['x-backend-replication'])) return;
    const before = Number(oldDeleteAt || 0);
    const after = Number(newDeleteAt || 0);
    const base = { 'x-timestamp': timestamp.internal, 'x-trans-id': r.req.env.transId, 'x-backend-storage-policy-index': '0' };
    const queue = (op: 'PUT' | 'DELETE', container: string, deleteAt: number, taskHeaders: Record<string, string>, targets: UpdateTarget[]) => {
      const task = expirerTaskName(deleteAt, r.account, r.container, r.object);
      return this.updates.send({
        op,
        account: EXPIRER_ACCOUNT,
        container,
        obj: task,
        headers: taskHeaders,
        targets,
        devicePath: r.devicePath,
        hash: this.hasher.hash(EXPIRER_ACCOUNT, container, task),
        timestamp: timestamp.internal,
        queueWithoutTargets: true,
      });
    };
    // Without X-Delete-At-Host (a proxy that does not name the queue's servers) the entry still
    // goes to async_pending, for the updater to deliver with the container ring.
    if (after) {
      const container = headers['x-delete-at-container'] ? normalizeDeleteAt(Number(headers['x-delete-at-container'])) : expirerContainer(after, r.location.hash);
      const taskHeaders = {
        ...base,
        'x-size': '0',
        'x-content-type': `${EXPIRER_TASK_CONTENT_TYPE};swift_expirer_bytes=${Number(metadata['content-length'] ?? 0)}`,
        'x-content-type-timestamp': metadata['x-timestamp'] ?? timestamp.internal,
        'x-etag': EMPTY_ETAG,
      };
      await queue('PUT', container, after, taskHeaders, containerTargets(headers, this.logger, 'x-delete-at'));
    }
    if (before && before !== after && isTrue(headers['x-backend-clean-expiring-object-queue'] ?? 't')) {
      await queue('DELETE', expirerContainer(before, r.location.hash), before, base, []);
    }
  }
}
