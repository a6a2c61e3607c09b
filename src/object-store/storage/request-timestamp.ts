// The X-Timestamp of a backend request: required on writes, "now" when a read has none.
import { fail } from './responses.ts';
import { InvalidTimestamp, Timestamp } from './timestamp.ts';

/** X-Timestamp of a write: required (Swift's valid_timestamp). */
export function requiredTimestamp(headers: Record<string, string>): Timestamp {
  const value = headers['x-timestamp'];
  if (value === undefined) fail(400, 'Missing X-Timestamp header');
  try {
    return Timestamp.parse(value);
  } catch (err) {
    if (err instanceof InvalidTimestamp) fail(400, 'Invalid X-Timestamp header');
    throw err;
  }
}

/** X-Timestamp of a read: optional, "now" when absent (Swift's ensure_x_timestamp). */
export function readTimestamp(headers: Record<string, string>): Timestamp {
  const value = headers['x-timestamp'];
  if (value === undefined) return Timestamp.now();
  const parsed = Timestamp.tryParse(value);
  if (!parsed) fail(400, `X-Timestamp should be a UNIX timestamp float value; was ${JSON.stringify(value)}`);
  return parsed;
}
