// The account server (Swift's swift/account/server.py): the account (PUT, HEAD, GET listing,
// POST, DELETE) and its container rows (PUT /d/p/a/c from container servers). A DELETE only
// marks the account deleted; emptying it is the reaper's work.
import type { SwiftRequest, SwiftResponse } from '../../pipeline.ts';
import { ACCOUNT_LISTING_LIMIT, AUTO_CREATE_ACCOUNT_PREFIX, checkMetadata, MAX_ACCOUNT_NAME_LENGTH, nameBytes } from '../../constraints.ts';
import { isTrue } from '../header-families.ts';
import { dbMetadataFromHeaders, parseDbMetadata, visibleDbMetadata } from '../db/db-metadata.ts';
import type { DbHandleCache } from '../db/handle-cache.ts';
import { getResponse, headResponse, type Found, type ListingShape } from '../db/listing-response.ts';
import { dbPath, type PathHasher } from '../layout.ts';
import { byMethod } from '../method-dispatch.ts';
import { requiredTimestamp } from '../request-timestamp.ts';
import { bare, plain } from '../responses.ts';
import { Timestamp } from '../timestamp.ts';
import { AccountDb, type ContainerRow } from './account-db.ts';

export interface AccountRequest {
  req: SwiftRequest;
  devicePath: string;
  partition: string;
  account: string;
  container?: string;
}

const DELETED_STATUS = { 'x-account-status': 'Deleted' };

export class AccountController {
  constructor(
    private readonly cache: DbHandleCache,
    private readonly hasher: PathHasher,
  ) {}

  db(r: Pick<AccountRequest, 'devicePath' | 'partition' | 'account'>): AccountDb {
    return new AccountDb(this.cache, dbPath(r.devicePath, 'account', r.partition, this.hasher.hash(r.account)), r.account);
  }

  async handle(r: AccountRequest): Promise<SwiftResponse> {
    const container = r.container;
    if (container !== undefined) return byMethod(r.req.method, { PUT: () => this.putContainerRow(r, container) });
    return byMethod(r.req.method, {
      PUT: () => this.put(r),
      HEAD: () => headResponse(r.req, () => this.readable(r)),
      GET: () => getResponse(r.req, () => this.readable(r), listingShape(r.account)),
      POST: () => this.post(r),
      DELETE: () => this.delete(r),
    });
  }

  /** 201 created, 202 existed; 403 while a DELETE is still in force. */
  private async put(r: AccountRequest): Promise<SwiftResponse> {
    const headers = r.req.headers;
    const timestamp = requiredTimestamp(headers);
    if (nameBytes(r.account) > MAX_ACCOUNT_NAME_LENGTH) return plain(400, `Account name length of ${nameBytes(r.account)} longer than ${MAX_ACCOUNT_NAME_LENGTH}`);
    const bad = checkMetadata(headers, 'account');
    if (bad) return bad;
    const db = this.db(r);
    let created: boolean;
    const info = db.exists ? db.info() : undefined;
    if (!info) {
      created = db.initialize(timestamp);
    } else if (db.isStatusDeleted(info)) {
      return plain(403, 'Recently deleted', DELETED_STATUS);
    } else {
      created = db.isDeleted(info);
      db.updatePutTimestamp(timestamp);
      if (db.isDeleted()) return plain(409);
    }
    db.updateMetadata(dbMetadataFromHeaders(headers, 'account', [], timestamp.internal), true);
    return bare(created ? 201 : 202);
  }

  /** A container server's report: 201, or 204 when it reports the container deleted. */
  private async putContainerRow(r: AccountRequest, container: string): Promise<SwiftResponse> {
    const headers = r.req.headers;
    const timestamp = headers['x-timestamp'] === undefined ? Timestamp.now() : requiredTimestamp(headers);
    const putTimestamp = Timestamp.tryParse(headers['x-put-timestamp']);
    const deleteTimestamp = Timestamp.tryParse(headers['x-delete-timestamp']);
    const objectCount = headers['x-object-count'];
    const bytesUsed = headers['x-bytes-used'];
    if (!putTimestamp || !deleteTimestamp || !objectCount || !/^\d+$/.test(objectCount) || !bytesUsed || !/^\d+$/.test(bytesUsed)) {
      return plain(400, 'X-Put-Timestamp, X-Delete-Timestamp, X-Object-Count and X-Bytes-Used are required');
    }
    const db = this.db(r);
    if (!db.exists && r.account.startsWith(AUTO_CREATE_ACCOUNT_PREFIX)) db.initialize(timestamp);
    if (!db.exists || (!isTrue(headers['x-account-override-deleted']) && db.isDeleted())) return plain(404);
    db.putContainer({ name: container, putTimestamp, deleteTimestamp, objectCount: Number(objectCount), bytesUsed: Number(bytesUsed) });
    return bare(deleteTimestamp.newerThan(putTimestamp) ? 204 : 201);
  }

  private async post(r: AccountRequest): Promise<SwiftResponse> {
    const headers = r.req.headers;
    const timestamp = requiredTimestamp(headers);
    const bad = checkMetadata(headers, 'account');
    if (bad) return bad;
    const found = this.readable(r);
    if ('missing' in found) return found.missing;
    found.db.updateMetadata(dbMetadataFromHeaders(headers, 'account', [], timestamp.internal), true);
    return bare(204);
  }

  /** Marks the account deleted (204), whatever it holds; 404 when there is none. */
  private async delete(r: AccountRequest): Promise<SwiftResponse> {
    const timestamp = requiredTimestamp(r.req.headers);
    const found = this.readable(r);
    if ('missing' in found) return found.missing;
    found.db.markDeleted(timestamp);
    return bare(204, found.db.isStatusDeleted() ? DELETED_STATUS : {});
  }

  /** The live account's DB and headers, or the 404 to answer (saying "Deleted" when a DELETE made it so). */
  private readable(r: AccountRequest): Found<AccountDb> {
    const db = this.db(r);
    const info = db.exists ? db.info() : undefined;
    if (!info) return { missing: plain(404) };
    if (db.isDeleted(info)) return { missing: plain(404, '', db.isStatusDeleted(info) ? DELETED_STATUS : {}) };
    const headers: Record<string, string> = {
      'x-account-container-count': String(info.container_count),
      'x-account-object-count': String(info.object_count),
      'x-account-bytes-used': String(info.bytes_used),
      'x-timestamp': Timestamp.parse(info.created_at).normal,
      'x-put-timestamp': Timestamp.parse(info.put_timestamp).normal,
      ...visibleDbMetadata(parseDbMetadata(info.metadata)),
    };
    return { db, headers };
  }
}

function listingShape(account: string): ListingShape<ContainerRow> {
  return {
    maxLimit: ACCOUNT_LISTING_LIMIT,
    allowPath: false,
    xml: { tag: 'account', entryTag: 'container', name: account, fields: ['name', 'count', 'bytes', 'last_modified'] },
    entry: (row) => ({ name: row.name, count: row.object_count, bytes: row.bytes_used, last_modified: Timestamp.parse(row.put_timestamp).isoformat }),
  };
}
