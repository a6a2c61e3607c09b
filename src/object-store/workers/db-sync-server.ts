// The receiving side of database replication (db-sync-protocol.ts), served by the storage
// server: REPORT /<device>/<partition>/<hash> with X-Backend-Server-Type account|container.
import type { SwiftRequest, SwiftResponse } from '../pipeline.ts';
import { BodyTooLargeError, readBody } from '../pipeline.ts';
import type { DbHandleCache } from '../storage/db/handle-cache.ts';
import { dbPath, type DbKind, type PathHasher } from '../storage/layout.ts';
import { bare, json, plain } from '../storage/responses.ts';
import { InvalidTimestamp, Timestamp } from '../storage/timestamp.ts';
import { DbReplica, type ReplicaRow, type ReplicationInfo } from './db-replica.ts';
import { MAX_SYNC_BODY, type DbSyncAnswer, type DbSyncRequest } from './db-sync-protocol.ts';

export interface DbSyncTarget {
  cache: DbHandleCache;
  hasher: PathHasher;
  devicePath: string;
  kind: DbKind;
  partition: string;
  /** the path's third part: the database's hash */
  hash: string;
}

class BadSyncRequest extends Error {}

const isString = (v: unknown): v is string => typeof v === 'string';

function checkInfo(value: unknown, kind: DbKind): ReplicationInfo {
  const info = value as ReplicationInfo;
  if (!info || typeof info !== 'object') throw new BadSyncRequest('no info');
  if (!isString(info.account) || !info.account || (kind === 'container' && (!isString(info.container) || !info.container))) throw new BadSyncRequest('info names no database');
  if (!isString(info.id) || !isString(info.hash) || typeof info.max_row !== 'number') throw new BadSyncRequest('info lacks id, hash or max_row');
  for (const key of ['created_at', 'put_timestamp', 'delete_timestamp'] as const) {
    if (!isString(info[key])) throw new BadSyncRequest(`info lacks ${key}`);
    Timestamp.parse(info[key]);
  }
  if (!info.metadata || typeof info.metadata !== 'object' || Array.isArray(info.metadata)) throw new BadSyncRequest('info metadata is not an object');
  return info;
}

function checkRows(value: unknown): ReplicaRow[] {
  if (!Array.isArray(value)) throw new BadSyncRequest('items is not a list');
  for (const row of value as ReplicaRow[]) {
    if (!row || typeof row !== 'object' || !isString(row.name) || !Number.isInteger(row.ROWID)) throw new BadSyncRequest('an item lacks name or ROWID');
  }
  return value as ReplicaRow[];
}

function answer(replica: DbReplica, peerId: string): SwiftResponse {
  const body: DbSyncAnswer = { ...replica.info(), point: replica.syncPoint(peerId, 'incoming') };
  return json(200, body);
}

export async function handleDbSync(target: DbSyncTarget, req: SwiftRequest): Promise<SwiftResponse> {
  if (!/^[0-9a-f]{32}$/.test(target.hash)) return plain(400, `Invalid hash: ${target.hash}`);
  let request: DbSyncRequest;
  try {
    request = JSON.parse((await readBody(req.body, MAX_SYNC_BODY)).toString('utf8')) as DbSyncRequest;
  } catch (err) {
    if (err instanceof BodyTooLargeError) return plain(413, 'Your request is too large.');
    return plain(400, 'Body is not JSON');
  }
  const path = dbPath(target.devicePath, target.kind, target.partition, target.hash);
  try {
    switch (request?.op) {
      case 'sync': {
        const info = checkInfo(request.info, target.kind);
        const replica = DbReplica.open(target.cache, target.kind, path);
        if (!replica) return plain(404);
        replica.mergeStats(info);
        return answer(replica, info.id);
      }
      case 'create': {
        const info = checkInfo(request.info, target.kind);
        if (target.hasher.hash(info.account, info.container) !== target.hash) return plain(400, 'Hash does not match the names in info');
        let replica = DbReplica.open(target.cache, target.kind, path);
        if (replica) replica.mergeStats(info);
        else replica = DbReplica.create(target.cache, target.kind, path, info);
        return answer(replica, info.id);
      }
      case 'merge_items': {
        const rows = checkRows(request.items);
        if (!isString(request.source_id)) throw new BadSyncRequest('no source_id');
        const replica = DbReplica.open(target.cache, target.kind, path);
        if (!replica) return plain(404);
        replica.mergeRows(rows, request.source_id);
        return bare(202);
      }
      default:
        return plain(400, 'Unknown replication operation');
    }
  } catch (err) {
    if (err instanceof BadSyncRequest || err instanceof InvalidTimestamp) return plain(400, err.message);
    throw err;
  }
}
