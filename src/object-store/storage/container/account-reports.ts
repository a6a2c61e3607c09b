// A container server tells its account server(s) the container's put/delete timestamps and
// counts: at once when the container is created or deleted (from X-Account-*), and, best
// effort, whenever objects come and go (to the nodes the container last heard of; Swift
// leaves that to the container updater, which a later pass of the updater also does, using
// reportContainer() and needsReport() with nodes from the account ring).
import type { Logger } from 'pino';
import type { BackendClient } from '../backend-client.ts';
import { backendPath, SERVER_TYPE_HEADER } from '../request-path.ts';
import type { AccountNodes, ContainerDb, ContainerInfo } from './container-db.ts';

export interface ReportOutcome {
  /** every account server answered 404: the account does not exist */
  allNotFound: boolean;
  /** every account server took it */
  allSucceeded: boolean;
}

/** The account servers named by a request's X-Account-Host / -Device / -Partition; undefined when it names none, 'mismatch' when hosts and devices do not pair up. */
export function accountNodesFromHeaders(headers: Record<string, string>): AccountNodes | undefined | 'mismatch' {
  const hosts = (headers['x-account-host'] ?? '').split(',').map((h) => h.trim());
  const devices = (headers['x-account-device'] ?? '').split(',').map((d) => d.trim());
  if (hosts.length !== devices.length) return 'mismatch';
  const partition = headers['x-account-partition'] ?? '';
  if (!partition) return undefined;
  const nodes = hosts.map((host, i) => ({ host, device: devices[i]! })).filter((n) => n.host && n.device);
  return nodes.length ? { partition, nodes } : undefined;
}

/** Whether the account servers have not yet heard the container's current state. */
export function needsReport(info: ContainerInfo): boolean {
  return (
    info.put_timestamp !== info.reported_put_timestamp ||
    info.delete_timestamp !== info.reported_delete_timestamp ||
    info.object_count !== info.reported_object_count ||
    info.bytes_used !== info.reported_bytes_used
  );
}

/**
 * PUT /<dev>/<part>/<account>/<container> to each account node with the container's stats
 * as they are now; records them as reported when every node took them.
 */
export async function reportContainer(
  client: BackendClient,
  logger: Logger,
  db: ContainerDb,
  nodes: AccountNodes,
  opts: { transId?: string; overrideDeleted?: boolean } = {},
): Promise<ReportOutcome> {
  const info = db.info();
  const headers: Record<string, string> = {
    'x-put-timestamp': info.put_timestamp,
    'x-delete-timestamp': info.delete_timestamp,
    'x-object-count': String(info.object_count),
    'x-bytes-used': String(info.bytes_used),
    'x-backend-storage-policy-index': '0',
    'user-agent': `container-server ${process.pid}`,
    [SERVER_TYPE_HEADER]: 'account',
  };
  if (opts.transId) headers['x-trans-id'] = opts.transId;
  if (opts.overrideDeleted) headers['x-account-override-deleted'] = 'yes';
  let notFound = 0;
  let succeeded = 0;
  await Promise.all(
    nodes.nodes.map(async (node) => {
      try {
        const status = await client.send({ host: node.host, method: 'PUT', path: backendPath(node.device, nodes.partition, info.account, info.container), headers });
        if (status === 404) notFound += 1;
        else if (status >= 200 && status < 300) succeeded += 1;
        else logger.error({ status, host: node.host, device: node.device }, 'account update failed (will retry later)');
      } catch (err) {
        logger.error({ err, host: node.host, device: node.device }, 'account update failed (will retry later)');
      }
    }),
  );
  const allSucceeded = succeeded === nodes.nodes.length;
  if (allSucceeded && db.exists) db.reported(info);
  return { allNotFound: nodes.nodes.length > 0 && notFound === nodes.nodes.length, allSucceeded };
}

/**
 * Background reports after object rows change, at most one in flight per container; changes
 * that arrive meanwhile are folded into one more report when it finishes.
 */
export class AccountReportQueue {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(
    private readonly client: BackendClient,
    private readonly logger: Logger,
  ) {}

  schedule(db: ContainerDb): void {
    if (this.running.has(db.path)) {
      this.again.add(db.path);
      return;
    }
    const run = this.reportOnce(db).finally(() => {
      this.running.delete(db.path);
      if (this.again.delete(db.path)) this.schedule(db);
    });
    this.running.set(db.path, run);
  }

  private async reportOnce(db: ContainerDb): Promise<void> {
    try {
      const info = db.exists ? db.info() : undefined;
      const nodes = info && db.accountNodes(info);
      if (nodes && needsReport(info)) await reportContainer(this.client, this.logger, db, nodes);
    } catch (err) {
      this.logger.error({ err, db: db.path }, 'account report failed');
    }
  }

  /** Waits for reports in flight (for a clean shutdown, and for tests). */
  async settle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }
}
