// Which files in an object's hash directory say what the object is (Swift's
// get_ondisk_files for replicated policies). Names are <timestamp>.data|.meta|.ts:
//  - the newest of .data and .ts decides: data (the object exists) or tombstone (deleted);
//  - a .meta newer than the chosen .data carries the POSTed metadata; only the newest counts;
//  - everything older than what was chosen is obsolete and is removed after each write.
// Names that do not parse are left alone (an rsync temp file, say).
import { Timestamp } from '../timestamp.ts';

export type ObjectFileKind = 'data' | 'meta' | 'ts';

export interface ObjectFileName {
  name: string;
  kind: ObjectFileKind;
  timestamp: Timestamp;
}

export interface OnDiskState {
  data?: ObjectFileName;
  meta?: ObjectFileName;
  tombstone?: ObjectFileName;
  /** files made redundant by newer ones */
  obsolete: string[];
}

export function objectFileName(timestamp: Timestamp, kind: ObjectFileKind): string {
  return `${timestamp.internal}.${kind}`;
}

export function parseObjectFileName(name: string): ObjectFileName | undefined {
  const m = /^([0-9._a-f]+)\.(data|meta|ts)$/.exec(name);
  if (!m) return undefined;
  const timestamp = Timestamp.tryParse(m[1]);
  if (!timestamp || timestamp.internal !== m[1]) return undefined;
  return { name, kind: m[2] as ObjectFileKind, timestamp };
}

export function chooseOnDiskState(names: readonly string[]): OnDiskState {
  const byKind: Record<ObjectFileKind, ObjectFileName[]> = { data: [], meta: [], ts: [] };
  for (const name of names) {
    const parsed = parseObjectFileName(name);
    if (parsed) byKind[parsed.kind].push(parsed);
  }
  for (const list of Object.values(byKind)) list.sort((a, b) => b.timestamp.compare(a.timestamp));
  const obsolete: string[] = [];
  const [newestData, ...olderData] = byKind.data;
  const [newestTs, ...olderTs] = byKind.ts;
  obsolete.push(...olderData.map((f) => f.name), ...olderTs.map((f) => f.name));

  // A tombstone at or after the newest data deletes it (and any metadata up to it).
  if (newestTs && (!newestData || newestTs.timestamp.compare(newestData.timestamp) >= 0)) {
    if (newestData) obsolete.push(newestData.name);
    for (const meta of byKind.meta) if (meta.timestamp.compare(newestTs.timestamp) <= 0) obsolete.push(meta.name);
    return { tombstone: newestTs, obsolete };
  }
  if (newestTs) obsolete.push(newestTs.name);
  if (!newestData) return { obsolete }; // only .meta files: orphans with nothing to describe; left for the replicator to reclaim

  const newerMeta = byKind.meta.filter((meta) => meta.timestamp.newerThan(newestData.timestamp));
  for (const meta of byKind.meta) if (meta !== newerMeta[0]) obsolete.push(meta.name);
  return { data: newestData, meta: newerMeta[0], obsolete };
}
