// The container server (Swift's swift/container/server.py): the container itself (PUT,
// HEAD, GET listing, POST, DELETE) and its object rows (PUT/DELETE /d/p/a/c/o from object
// servers). Containers of "."-prefixed accounts are created by their first object row.
import type { Logger } from 'pino';
import type { SwiftRequest, SwiftResponse } from '../../pipeline.ts';
import type { BackendClient } from '../backend-client.ts';
import { AUTO_CREATE_ACCOUNT_PREFIX, checkMetadata, CONTAINER_LISTING_LIMIT, MAX_CONTAINER_NAME_LENGTH, nameBytes } from '../../constraints.ts';
import { isTrue } from '../header-families.ts';
import { dbMetadataFromHeaders, parseDbMetadata, visibleDbMetadata } from '../db/db-metadata.ts';
import type { DbHandleCache } from '../db/handle-cache.ts';
import { getResponse, headResponse, type Found, type ListingShape } from '../db/listing-response.ts';
import { dbPath, type PathHasher } from '../layout.ts';
import { byMethod } from '../method-dispatch.ts';
import { requiredTimestamp } from '../request-timestamp.ts';
import { bare, plain } from '../responses.ts';
import { listedTypeAndSize } from '../swift-bytes.ts';
import { Timestamp } from '../timestamp.ts';
import { accountNodesFromHeaders, reportContainer, type AccountReportQueue } from './account-reports.ts';
import { ContainerDb, type ContainerInfo, type ObjectRow } from './container-db.ts';

/** Headers a container keeps besides X-Container-Meta-* and X-Container-Sysmeta-*. */
const SAVED_HEADERS = ['x-container-read', 'x-container-write', 'x-container-sync-key', 'x-container-sync-to', 'x-versions-location', 'x-history-location'];

export interface ContainerRequest {
  req: SwiftRequest;
  devicePath: string;
  partition: string;
  account: string;
  container: string;
  object?: string;
}

export class ContainerController {
  constructor(
    private readonly cache: DbHandleCache,
    private readonly hasher: PathHasher,
    private readonly client: BackendClient,
    private readonly reports: AccountReportQueue,
    private readonly logger: Logger,
  ) {}

  db(r: Pick<ContainerRequest, 'devicePath' | 'partition' | 'account' | 'container'>): ContainerDb {
    const hash = this.hasher.hash(r.account, r.container);
    return new ContainerDb(this.cache, dbPath(r.devicePath, 'container', r.partition, hash), r.account, r.container);
  }

  async handle(r: ContainerRequest): Promise<SwiftResponse> {
    const object = r.object;
    if (object !== undefined) {
      return byMethod(r.req.method, { PUT: () => this.putObjectRow(r, object), DELETE: () => this.deleteObjectRow(r, object) });
    }
    return byMethod(r.req.method, {
      PUT: () => this.put(r),
      HEAD: () => headResponse(r.req, () => this.readable(r)),
      GET: () => getResponse(r.req, () => this.readable(r), listingShape(r.container)),
      POST: () => this.post(r),
      DELETE: () => this.delete(r),
    });
  }

  /** Creates the container (201), or updates its put time and metadata (202; an older PUT changes nothing but still answers 202). */
  private async put(r: ContainerRequest): Promise<SwiftResponse> {
    const headers = r.req.headers;
    const timestamp = requiredTimestamp(headers);
    if (nameBytes(r.container) > MAX_CONTAINER_NAME_LENGTH) return plain(400, `Container name length of ${nameBytes(r.container)} longer than ${MAX_CONTAINER_NAME_LENGTH}`);
    const bad = checkMetadata(headers, 'container');
    if (bad) return bad;
    const nodes = accountNodesFromHeaders(headers);
    if (nodes === 'mismatch') return plain(400, 'X-Account-Host and X-Account-Device do not pair up');

    const db = this.db(r);
    let created = !db.exists && db.initialize(timestamp);
    if (!created) {
      const wasDeleted = db.isDeleted();
      db.updatePutTimestamp(timestamp);
      if (db.isDeleted()) return plain(409);
      if (wasDeleted) db.updateStatusChangedAt(timestamp);
      created = wasDeleted;
    }
    db.updateMetadata(dbMetadataFromHeaders(headers, 'container', SAVED_HEADERS, timestamp.internal), true);
    if (nodes) {
      db.setAccountNodes(nodes);
      const outcome = await reportContainer(this.client, this.logger, db, nodes, { transId: r.req.env.transId, overrideDeleted: isTrue(headers['x-account-override-deleted']) });
      if (outcome.allNotFound) return plain(404);
    }
    return bare(created ? 201 : 202, { 'x-backend-storage-policy-index': '0' });
  }

  /** 409 while it has objects; 204 when it existed, 404 when it did not (both leave it deleted). */
  private async delete(r: ContainerRequest): Promise<SwiftResponse> {
    const headers = r.req.headers;
    const timestamp = requiredTimestamp(headers);
    const nodes = accountNodesFromHeaders(headers);
    if (nodes === 'mismatch') return plain(400, 'X-Account-Host and X-Account-Device do not pair up');
    const db = this.db(r);
    const before = db.exists ? db.info() : undefined;
    if (!before) return plain(404);
    if (before.object_count !== 0) return plain(409, 'There was a conflict when trying to complete your request.');
    const existed = before.put_timestamp > Timestamp.zero().internal && !db.isDeleted(before);
    db.markDeleted(timestamp);
    if (!db.isDeleted()) return plain(409);
    if (nodes) {
      db.setAccountNodes(nodes);
      const outcome = await reportContainer(this.client, this.logger, db, nodes, { transId: r.req.env.transId });
      if (outcome.allNotFound) return plain(404);
    }
    return existed ? bare(204) : plain(404);
  }

  /** Sets metadata (and, unless told not to, the put time); 204. */
  private async post(r: ContainerRequest): Promise<SwiftResponse> {
    const headers = r.req.headers;
    const timestamp = requiredTimestamp(headers);
    const bad = checkMetadata(headers, 'container');
    if (bad) return bad;
    const db = this.db(r);
    if (!db.exists || db.isDeleted()) return plain(404);
    if (!isTrue(headers['x-backend-no-timestamp-update'])) db.updatePutTimestamp(timestamp);
    db.updateMetadata(dbMetadataFromHeaders(headers, 'container', SAVED_HEADERS, timestamp.internal), true);
    return bare(204);
  }

  private async putObjectRow(r: ContainerRequest, name: string): Promise<SwiftResponse> {
    const headers = r.req.headers;
    const timestamp = requiredTimestamp(headers);
    const size = headers['x-size'];
    if (size === undefined || !/^\d+$/.test(size) || headers['x-content-type'] === undefined || headers['x-etag'] === undefined) {
      return plain(400, 'X-Size, X-Content-Type and X-Etag are required');
    }
    const ctypeTimestamp = Timestamp.tryParse(headers['x-content-type-timestamp']);
    const metaTimestamp = Timestamp.tryParse(headers['x-meta-timestamp']);
    const db = this.rowTarget(r, timestamp);
    if (!db) return plain(404);
    db.putObject({ name, timestamp, size: Number(size), contentType: headers['x-content-type'], etag: headers['x-etag'], deleted: false, ctypeTimestamp, metaTimestamp });
    this.reports.schedule(db);
    return bare(201);
  }

  private async deleteObjectRow(r: ContainerRequest, name: string): Promise<SwiftResponse> {
    const timestamp = requiredTimestamp(r.req.headers);
    const db = this.rowTarget(r, timestamp);
    if (!db) return plain(404);
    db.putObject({ name, timestamp, size: 0, contentType: 'application/deleted', etag: 'noetag', deleted: true });
    this.reports.schedule(db);
    return bare(204);
  }

  /** The container an object row goes in; created first for "."-prefixed accounts (or X-Backend-Auto-Create). */
  private rowTarget(r: ContainerRequest, timestamp: Timestamp): ContainerDb | undefined {
    const db = this.db(r);
    if (db.exists) return db;
    const header = r.req.headers['x-backend-auto-create'];
    const autoCreate = header ? isTrue(header) : r.account.startsWith(AUTO_CREATE_ACCOUNT_PREFIX) && !r.account.startsWith(`${AUTO_CREATE_ACCOUNT_PREFIX}shards_`);
    if (!autoCreate) return undefined;
    // An object update's timestamp may carry an offset; the container's does not.
    db.initialize(Timestamp.fromSeconds(timestamp.seconds));
    return db;
  }

  /** The live container's DB and headers, or the 404 to answer (with the backend timestamps of a deleted one). */
  private readable(r: ContainerRequest): Found<ContainerDb> {
    const db = this.db(r);
    const info = db.exists ? db.info() : undefined;
    if (!info || db.isDeleted(info)) return { missing: bare(404, statusHeaders(info, true)) };
    const headers = statusHeaders(info, false);
    Object.assign(headers, visibleDbMetadata(parseDbMetadata(info.metadata)));
    headers['last-modified'] = Timestamp.parse(info.put_timestamp).httpDate;
    return { db, headers };
  }
}

function listingShape(container: string): ListingShape<ObjectRow> {
  return {
    maxLimit: CONTAINER_LISTING_LIMIT,
    allowPath: true,
    xml: { tag: 'container', entryTag: 'object', name: container, fields: ['name', 'hash', 'bytes', 'content_type', 'last_modified'] },
    entry: (row) => {
      const { contentType, bytes } = listedTypeAndSize(row.content_type, row.size);
      return { bytes, hash: row.etag, name: row.name, content_type: contentType, last_modified: Timestamp.parse(row.meta_timestamp).isoformat };
    },
    // Proxies ask with X-Backend-Record-Type: auto; these containers are never sharded, so the answer is always objects.
    headers: { 'x-backend-record-type': 'object' },
  };
}

/** Swift's gen_resp_headers: backend timestamps always; counts and client timestamps only for a live container. */
function statusHeaders(info: ContainerInfo | undefined, deleted: boolean): Record<string, string> {
  const ts = (value: string | undefined) => Timestamp.tryParse(value) ?? Timestamp.zero();
  const headers: Record<string, string> = {
    'x-backend-timestamp': ts(info?.created_at).internal,
    'x-backend-put-timestamp': ts(info?.put_timestamp).internal,
    'x-backend-delete-timestamp': ts(info?.delete_timestamp).internal,
    'x-backend-status-changed-at': ts(info?.status_changed_at).internal,
    'x-backend-storage-policy-index': '0',
  };
  if (!deleted && info) {
    Object.assign(headers, {
      'x-container-object-count': String(info.object_count),
      'x-container-bytes-used': String(info.bytes_used),
      'x-timestamp': ts(info.created_at).normal,
      'x-put-timestamp': ts(info.put_timestamp).normal,
      'x-backend-sharding-state': 'unsharded',
    });
  }
  return headers;
}
