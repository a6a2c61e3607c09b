// If-Match and If-None-Match judged here, against the object's S3 ETag (a multipart upload's
// "<md5>-<parts>", an SLO's "<etag>-N"), so that they mean the same whatever is below; the
// date conditions are left to the object server.

function tags(value: string): string[] {
  return value.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1')).filter(Boolean);
}

/** The status a response with `etag` (quoted or not) gets under the conditions: 412, 304, or undefined to send it. */
export function etagConditions(conditions: { ifMatch?: string; ifNoneMatch?: string }, etag: string): 304 | 412 | undefined {
  const bare = etag.replace(/^"(.*)"$/, '$1');
  const matches = (value: string) => tags(value).some((t) => t === '*' || t === bare || `${t}-N` === bare);
  if (conditions.ifMatch !== undefined && !matches(conditions.ifMatch)) return 412;
  if (conditions.ifNoneMatch !== undefined && matches(conditions.ifNoneMatch)) return 304;
  return undefined;
}
