// Keystone's timestamp format: ISO 8601 UTC with microseconds, e.g. 2015-11-05T22:00:11.000000Z.
export function formatTime(value: Date | string): string {
  const iso = (typeof value === 'string' ? new Date(value) : value).toISOString();
  return iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}
