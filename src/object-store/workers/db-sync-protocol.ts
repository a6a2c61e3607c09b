// The wire of database replication: REPORT /<device>/<partition>/<hash> with
// X-Backend-Server-Type: account|container and a JSON body naming the operation (Swift's
// REPLICATE verbs, which Node cannot parse, in JSON instead of a pickled list):
//
//   {"op": "sync", "info": ReplicationInfo}
//       → 200 ReplicationInfo of the receiver + "point" (the sender's last ROWID it has
//         merged); 404 when it has no such database. The receiver merges the sender's stats
//         timestamps and metadata first.
//   {"op": "create", "info": ReplicationInfo}
//       → 200 as sync, after making an empty replica (its own id) when it has none: what
//         Swift does with rsync + complete_rsync; the sender then sends every row.
//   {"op": "merge_items", "items": [rows with ROWID], "source_id": sender's id}
//       → 202 once merged (newest wins), the sender's sync point moved to the last ROWID.
//
// 507 when the device is missing, 400 for a body that is not one of these.
import type { ReplicaRow, ReplicationInfo } from './db-replica.ts';

export type DbSyncRequest =
  | { op: 'sync'; info: ReplicationInfo }
  | { op: 'create'; info: ReplicationInfo }
  | { op: 'merge_items'; items: ReplicaRow[]; source_id: string };

export type DbSyncAnswer = ReplicationInfo & { point: number };

/** The most one request body may hold (a merge_items of per_diff rows stays far below). */
export const MAX_SYNC_BODY = 64 << 20;
