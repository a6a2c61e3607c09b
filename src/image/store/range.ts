import { StoreInvalidRange } from './errors.ts';
import type { ByteRange } from './types.ts';

/**
 * An inclusive byte range checked against the data size, HTTP style: an `end` past the
 * data is clipped to the last byte; a range starting at or past the end (or reversed, or
 * not integers) is not satisfiable.
 */
export function clipRange(range: ByteRange, size: number): ByteRange {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || start >= size) {
    throw new StoreInvalidRange(range, size);
  }
  return { start, end: Math.min(end, size - 1) };
}
