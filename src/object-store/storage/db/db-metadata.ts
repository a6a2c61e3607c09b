// Account and container metadata as Swift's DBs keep it: a JSON object of header name to
// [value, timestamp]. Each key is set by the newest write to it; an empty value deletes the
// key (kept as a tombstone so an older replica cannot bring it back, and never shown).
import { MAX_META_COUNT, MAX_META_OVERALL_SIZE } from '../../constraints.ts';
import { isSysOrUserMeta, type ServerType } from '../header-families.ts';

export type DbMetadata = Record<string, [value: string, timestamp: string]>;

export function parseDbMetadata(text: string | null | undefined): DbMetadata {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as DbMetadata) : {};
  } catch {
    return {};
  }
}

/** `updates` applied over `current`, key by key, where the update is newer. */
export function mergeDbMetadata(current: DbMetadata, updates: DbMetadata): DbMetadata {
  const merged: DbMetadata = { ...current };
  for (const [key, [value, timestamp]] of Object.entries(updates)) {
    const existing = merged[key];
    if (!existing || timestamp > existing[1]) merged[key] = [value, timestamp];
  }
  return merged;
}

/** Whether merging `updates` would change anything (to skip a needless write). */
export function changesDbMetadata(current: DbMetadata, updates: DbMetadata): boolean {
  return Object.entries(updates).some(([key, [, timestamp]]) => !current[key] || timestamp > current[key]![1]);
}

/** The whole stored metadata within Swift's totals; the 400 body when not. */
export function checkDbMetadataTotals(metadata: DbMetadata, type: ServerType): string | undefined {
  const prefix = `x-${type}-meta-`;
  let count = 0;
  let size = 0;
  for (const [key, [value]] of Object.entries(metadata)) {
    if (!value || !key.startsWith(prefix)) continue;
    count += 1;
    size += key.length - prefix.length + value.length;
  }
  if (count > MAX_META_COUNT) return `Too many metadata items; max ${MAX_META_COUNT}`;
  if (size > MAX_META_OVERALL_SIZE) return `Total metadata too large; max ${MAX_META_OVERALL_SIZE}`;
  return undefined;
}

/** The metadata a request sets: user and system metadata, plus the listed extra headers. */
export function dbMetadataFromHeaders(headers: Record<string, string>, type: ServerType, extraHeaders: readonly string[], timestamp: string): DbMetadata {
  const updates: DbMetadata = {};
  for (const [key, value] of Object.entries(headers)) {
    if (isSysOrUserMeta(type, key) || extraHeaders.includes(key)) updates[key] = [value, timestamp];
  }
  return updates;
}

/** What HEAD and GET show: every key with a value. */
export function visibleDbMetadata(metadata: DbMetadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, [value]] of Object.entries(metadata)) if (value !== '') headers[key] = value;
  return headers;
}
