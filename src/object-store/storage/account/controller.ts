// The account server (Swift's swift/account/server.py): the account (PUT, HEAD, GET listing,
// POST, DELETE) and its container rows (PUT /d/p/a/c from container servers). A DELETE only
// marks the account deleted; emptying it is the reaper's work.
import type { SwiftRequest, SwiftResponse } from '../../pipeline.ts';
import { ACCOUNT_LISTING_LIMIT, AUTO_CREATE_ACCOUNT_PREFIX, checkMetadata, MAX_ACCOUNT_NAME_LENGTH, nameBytes } from '../../constraints.ts';
import { isTrue } from '../header-families.ts';
import { dbMetadataFromHeaders, visibleDbMetadata } from '../db/db-metadata.ts';
import type { DbHandleCache } from '../db/handle-cache.ts';
import { listingType, renderListing } from '../db/listing-format.ts';
import { listingQuery } from '../db/listing.ts';
import { dbPath, type PathHasher } from '../layout.ts';
import { requiredTimestamp } from '../request-timestamp.ts';
import { bare, plain } from '../responses.ts';
import { Timestamp } from '../timestamp.ts';
import { AccountDb } from './account-db.ts';

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
    const method = r.req.method;
    if (r.container !== undefined) {
      return method === 'PUT' ? this.putContainerRow(r, r.container) : plain(405, 'The method is not allowed for this resource.');
    }
    switch (method) {
      case 'PUT':
        return this.put(r);
      case 'HEAD':
        return this.head(r);
      case 'GET':
        return this.get(r);
      case 'POST':
        return this.post(r);
      case 'DELETE':
        return this.delete(r);
      default:
        return plain(405, 'The method is not allowed for this resource.');
    }
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
    if (!db.exists) {
      created = db.initialize(timestamp);
    } else if (db.isStatusDeleted()) {
      return plain(403, 'Recently deleted', DELETED_STATUS);
    } else {
      created = db.isDeleted();
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

  private async head(r: AccountRequest): Promise<SwiftResponse> {
    const type = listingType(r.req.query, r.req.headers);
    const found = this.readable(r);
    if ('missing' in found) return found.missing;
    return bare(204, { ...found.headers, 'content-type': `${type}; charset=utf-8` });
  }

  private async get(r: AccountRequest): Promise<SwiftResponse> {
    const query = listingQuery(r.req.query, ACCOUNT_LISTING_LIMIT, false);
    const type = listingType(r.req.query, r.req.headers);
    const found = this.readable(r);
    if ('missing' in found) return found.missing;
    const entries = found.db.listContainers(query).map((row) =>
      'subdir' in row ? { subdir: row.subdir } : { name: row.name, count: row.object_count, bytes: row.bytes_used, last_modified: Timestamp.parse(row.put_timestamp).isoformat },
    );
    const body = Buffer.from(renderListing(type, entries, { tag: 'account', entryTag: 'container', name: r.account, fields: ['name', 'count', 'bytes', 'last_modified'] }));
    const headers = { ...found.headers, 'content-type': `${type}; charset=utf-8` };
    if (body.length === 0) return bare(204, headers);
    return { status: 200, headers: { ...headers, 'content-length': String(body.length) }, body };
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
  private readable(r: AccountRequest): { db: AccountDb; headers: Record<string, string> } | { missing: SwiftResponse } {
    const db = this.db(r);
    if (!db.exists) return { missing: plain(404) };
    const info = db.info();
    if (db.isDeleted(info)) return { missing: plain(404, '', db.isStatusDeleted(info) ? DELETED_STATUS : {}) };
    const headers: Record<string, string> = {
      'x-account-container-count': String(info.container_count),
      'x-account-object-count': String(info.object_count),
      'x-account-bytes-used': String(info.bytes_used),
      'x-timestamp': Timestamp.parse(info.created_at).normal,
      'x-put-timestamp': Timestamp.parse(info.put_timestamp).normal,
      ...visibleDbMetadata(db.metadata),
    };
    return { db, headers };
  }
}
