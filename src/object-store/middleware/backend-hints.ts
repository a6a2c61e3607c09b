// Hints a middleware gives the object server about how to answer a GET or HEAD for it:
// X-Backend-Ignore-Range-If-Metadata-Present (send a manifest or link whole, whatever Range the
// client asked for the large object) and X-Backend-Etag-Is-At (judge If-Match by the metadata
// that holds the large object's ETag). Each is a comma-separated list several middlewares add to.

export const IGNORE_RANGE = 'x-backend-ignore-range-if-metadata-present';
export const ETAG_IS_AT = 'x-backend-etag-is-at';

/** The headers with `value` appended to the list in `name`. */
export function withHint(headers: Record<string, string>, name: string, value: string): Record<string, string> {
  const existing = headers[name];
  return { ...headers, [name]: existing ? `${existing},${value}` : value };
}
