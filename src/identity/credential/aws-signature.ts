// The AWS request signatures made with an ec2 credential's secret, computed here so that
// s3tokens and ec2tokens can tell whether a request was signed with it (the secret itself never
// leaves identity). Written from the AWS Signature Version 2 and 4 specifications, with
// Keystone's choices where it has them: the SigV4 scope is read from the string to sign, and
// only the services s3, iam and sts are accepted in it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The material cannot be a signature: a malformed string to sign, an unknown version. */
export class UnusableSignature extends Error {}

const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
const SIGV4_SERVICES = ['s3', 'iam', 'sts'];

const hmacSha256 = (key: Buffer | string, data: Buffer | string): Buffer => createHmac('sha256', key).update(data).digest();
export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** SigV4's signing key: "AWS4" + secret, HMAC'd with the date, region, service and "aws4_request" in turn. */
export function sigV4SigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256(Buffer.from(`AWS4${secret}`, 'utf8'), date);
  return hmacSha256(hmacSha256(hmacSha256(kDate, region), service), 'aws4_request');
}

/** A SigV4 signature (hex) of a complete string to sign, its key derived from the scope in it. */
export function sigV4Signature(stringToSign: Buffer, secret: string): string {
  const lines = stringToSign.toString('utf8').split('\n');
  if (lines.length !== 4 || lines[0] !== SIGV4_ALGORITHM) throw new UnusableSignature('not a SigV4 string to sign');
  const scope = lines[2]!.split('/');
  if (scope.length !== 4 || scope[3] !== 'aws4_request' || !SIGV4_SERVICES.includes(scope[2]!)) {
    throw new UnusableSignature('not a SigV4 credential scope');
  }
  return createHmac('sha256', sigV4SigningKey(secret, scope[0]!, scope[1]!, scope[2]!)).update(stringToSign).digest('hex');
}

/** A SigV2 (and S3's v1) signature: base64 of HMAC-SHA1 over the string to sign. */
export const sigV2Signature = (stringToSign: Buffer | string, secret: string): string =>
  createHmac('sha1', Buffer.from(secret, 'utf8')).update(stringToSign).digest('base64');

/**
 * The signature S3 clients send for this string to sign (what s3api sends base64-encoded as
 * `token`): SigV4 when it starts with "AWS4", SigV2 otherwise.
 */
export function s3Signature(stringToSign: Buffer, secret: string): string {
  return stringToSign.subarray(0, 4).toString('latin1') === 'AWS4' ? sigV4Signature(stringToSign, secret) : sigV2Signature(stringToSign, secret);
}

/** Compares a signature a client sent with the expected one without leaking where they differ. */
export function signaturesMatch(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given === expected;
}

/**
 * Percent-encoding as AWS canonical query strings want it: everything but unreserved
 * characters (letters, digits, - _ . ~), UTF-8, upper-case hex.
 */
export const awsQuote = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Parameters sorted by name and encoded, joined with & (SigV2 and SigV4 canonical query). */
export function canonicalQuery(params: Record<string, unknown>): string {
  return Object.keys(params).sort().map((k) => `${awsQuote(k)}=${awsQuote(String(params[k]))}`).join('&');
}
