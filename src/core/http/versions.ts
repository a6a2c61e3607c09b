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

/**
 * The base URL clients reach a service at, for links: the configured public endpoint when
 * there is one, else what the request reached (honouring a proxy's X-Forwarded-* headers).
 */
export function publicBaseUrl(
  req: { headers: Record<string, string | string[] | undefined>; protocol: string },
  publicEndpoint: string | undefined,
  fallbackHost: string,
): string {
  if (publicEndpoint) return publicEndpoint.replace(/\/+$/, '');
  const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
  const host = (req.headers['x-forwarded-host'] as string | undefined) ?? (req.headers.host as string | undefined) ?? fallbackHost;
  return `${proto}://${host}`;
}
