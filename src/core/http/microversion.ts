// Microversion negotiation (OpenStack-API-Version), as the API working group's guideline says:
// no header → the minimum; `latest` → the maximum; malformed → 400; outside the range → 406.
import { HttpError } from './errors.ts';

export interface Microversion {
  major: number;
  minor: number;
}

export function parseMicroversion(text: string): Microversion | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export const formatMicroversion = (v: Microversion) => `${v.major}.${v.minor}`;

export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major - b.major || a.minor - b.minor;
}

export function atLeast(v: Microversion, text: string): boolean {
  return compareMicroversions(v, parseMicroversion(text)!) >= 0;
}

export interface MicroversionRange {
  /** the service name used in the header, e.g. 'compute' */
  service: string;
  min: string;
  max: string;
  /** an older service-specific header still honoured, e.g. 'x-openstack-nova-api-version' */
  legacyHeader?: string;
}

export interface NegotiatedMicroversion {
  version: Microversion;
  /** headers to send back */
  headers: Record<string, string>;
}

export function negotiateMicroversion(
  requestHeaders: Record<string, string | string[] | undefined>,
  range: MicroversionRange,
): NegotiatedMicroversion {
  const min = parseMicroversion(range.min)!;
  const max = parseMicroversion(range.max)!;
  let requested: string | undefined;
  const header = requestHeaders['openstack-api-version'];
  for (const entry of (Array.isArray(header) ? header.join(',') : header ?? '').split(',')) {
    const [name, value] = entry.trim().split(/\s+/, 2);
    if (name?.toLowerCase() === range.service && value) requested = value;
  }
  if (requested === undefined && range.legacyHeader) {
    const legacy = requestHeaders[range.legacyHeader];
    if (typeof legacy === 'string') requested = legacy;
  }
  let version = min;
  if (requested !== undefined) {
    if (requested.toLowerCase() === 'latest') version = max;
    else {
      const parsed = parseMicroversion(requested);
      if (!parsed) throw new HttpError(400, `Invalid API version request: '${requested}' is not of the form X.Y or 'latest'.`);
      if (compareMicroversions(parsed, min) < 0 || compareMicroversions(parsed, max) > 0) {
        throw new HttpError(406, `Version ${requested} is not supported by the API. Minimum is ${range.min} and maximum is ${range.max}.`);
      }
      version = parsed;
    }
  }
  const headers: Record<string, string> = {
    'openstack-api-version': `${range.service} ${formatMicroversion(version)}`,
    vary: range.legacyHeader ? `OpenStack-API-Version, ${range.legacyHeader}` : 'OpenStack-API-Version',
  };
  if (range.legacyHeader) headers[range.legacyHeader] = formatMicroversion(version);
  return { version, headers };
}
