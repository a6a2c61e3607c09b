// Version discovery documents: the entries every OpenStack API lists at its root.
export interface VersionEntry {
  id: string;
  status: 'CURRENT' | 'SUPPORTED' | 'DEPRECATED' | 'stable';
  updated: string;
  /** absolute URL of the version's root */
  href: string;
  mediaType: string;
  /** microversion range, for APIs that have one */
  minVersion?: string;
  maxVersion?: string;
}

export function versionEntry(v: VersionEntry): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    updated: v.updated,
    links: [{ rel: 'self', href: v.href }],
    'media-types': [{ base: 'application/json', type: v.mediaType }],
  };
  if (v.minVersion !== undefined) {
    entry.min_version = v.minVersion;
    entry.version = v.maxVersion ?? '';
  }
  return entry;
}

/** The public base URL a request reached, honouring a proxy's X-Forwarded-* headers. */
export function requestBaseUrl(headers: Record<string, string | string[] | undefined>, fallbackHost: string, protocol = 'http'): string {
  const proto = (headers['x-forwarded-proto'] as string | undefined) ?? protocol;
  const host = (headers['x-forwarded-host'] as string | undefined) ?? (headers.host as string | undefined) ?? fallbackHost;
  return `${proto}://${host}`;
}
