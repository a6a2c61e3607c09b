// Which bucket and key an S3 request names: path style (/<bucket>/<key>) or virtual-hosted
// style (<bucket>.<storage domain>/<key>), and whether the bucket name is one S3 allows.
import { s3Error } from './errors.ts';

/** S3's bucket naming rules (Swift's validate_bucket_name); the relaxed set allows 255 characters, capitals and _. */
export function validBucketName(name: string, dnsCompliant: boolean): boolean {
  const maxLength = dnsCompliant ? 63 : 255;
  if (name.length < 3 || name.length > maxLength || !/^[a-zA-Z0-9]/.test(name)) return false;
  if (dnsCompliant && (name.includes('.-') || name.includes('-.') || name.includes('..') || !/[a-zA-Z0-9]$/.test(name))) return false;
  if (name.endsWith('.')) return false;
  if (/^(\d{1,3}\.){3}\d{1,3}$/.test(name) && name.split('.').every((octet) => Number(octet) <= 255 && String(Number(octet)) === octet)) return false;
  return dnsCompliant ? /^[-.a-z0-9]*$/.test(name) : /^[-.a-zA-Z0-9_]*$/.test(name);
}

/** The bucket named by the Host header under one of our storage domains, if any. */
export function bucketInHost(host: string | undefined, storageDomains: readonly string[]): string | undefined {
  if (!host) return undefined;
  const name = host.replace(/:\d+$/, '');
  for (const domain of storageDomains) {
    const suffix = domain.startsWith('.') ? domain : `.${domain}`;
    if (name.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length);
  }
  return undefined;
}

export interface S3Target {
  bucket?: string;
  key?: string;
}

/** The bucket and key of a decoded request path; InvalidBucketName / InvalidURI when they cannot be. */
export function s3Target(path: string, hostBucket: string | undefined, dnsCompliant: boolean): S3Target {
  if (!path.startsWith('/')) throw s3Error('InvalidURI', { URI: path });
  if (hostBucket !== undefined) return { bucket: hostBucket, key: path.slice(1) || undefined };
  const rest = path.slice(1);
  if (rest === '') return {};
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? undefined : rest.slice(slash + 1) || undefined;
  if (!validBucketName(bucket, dnsCompliant)) throw s3Error('InvalidBucketName', { BucketName: bucket });
  return { bucket, key };
}
