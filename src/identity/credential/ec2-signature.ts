// The signature of an EC2-API request as POST /v3/ec2tokens describes it: the service that
// received it (nova's old EC2 API, ec2-api, heat's cfn API) forwards the parts that were signed
// (verb, host, path, params, headers, body_hash) and the signature, never the secret.
// Versions 2 (SignatureVersion=2: HMAC-SHA256 over verb, host, path and the sorted query) and 4
// (an Authorization header or X-Amz-Algorithm parameter saying AWS4-HMAC-SHA256) are computed as
// Keystone's signer (python-keystoneclient's Ec2Signer) computes them; the versions 0 and 1 that
// AWS retired long ago are refused.
import { createHmac } from 'node:crypto';
import { canonicalQuery, sha256Hex, sigV4SigningKey, UnusableSignature } from './aws-signature.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** The request's parts as ec2tokens receives them (each may be missing; then it cannot match). */
export interface Ec2SignedRequest {
  params: Obj;
  headers: Obj;
  verb: string;
  host: string;
  path: string;
  bodyHash: string;
}

export function ec2SignedRequest(credentials: Obj): Ec2SignedRequest {
  return {
    params: isObj(credentials.params) ? credentials.params : {},
    headers: isObj(credentials.headers) ? credentials.headers : {},
    verb: text(credentials.verb),
    host: text(credentials.host),
    path: text(credentials.path),
    bodyHash: text(credentials.body_hash),
  };
}

/** The signature the request should carry if it was signed with `secret`; throws UnusableSignature. */
export function ec2Signature(req: Ec2SignedRequest, secret: string): string {
  try {
    const version = req.params.SignatureVersion;
    if (version === '2') return signatureV2(req, secret);
    if (isSigV4(req)) return signatureV4(req, secret);
    throw new UnusableSignature(version === undefined ? 'unexpected signature format' : `unknown signature version ${text(version)}`);
  } catch (err) {
    if (err instanceof UnusableSignature) throw err;
    throw new UnusableSignature('malformed signed request'); // e.g. text that cannot be percent-encoded
  }
}

function isSigV4(req: Ec2SignedRequest): boolean {
  const auth = req.headers.Authorization;
  if (auth !== undefined) return text(auth).startsWith('AWS4-HMAC-SHA256');
  return req.params['X-Amz-Algorithm'] === 'AWS4-HMAC-SHA256';
}

function signatureV2(req: Ec2SignedRequest, secret: string): string {
  // Keystone's signer always signs as HmacSHA256 and says so in the signed parameters.
  const params = { ...req.params, SignatureMethod: 'HmacSHA256' };
  const stringToSign = `${req.verb}\n${req.host}\n${req.path}\n${canonicalQuery(params)}`;
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(stringToSign, 'utf8').digest('base64');
}

function signatureV4(req: Ec2SignedRequest, secret: string): string {
  const { params, headers } = req;
  /** An auth parameter, from the Authorization header when there is one, else X-Amz-<name>. */
  const authParam = (name: string): string => {
    if (headers.Authorization !== undefined) {
      const auth = text(headers.Authorization);
      const at = auth.indexOf(`${name}=`);
      return at < 0 ? '' : auth.slice(at + name.length + 1).split(',')[0]!;
    }
    return text(params[`X-Amz-${name}`]);
  };
  const lowered = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase().trim(), text(v).trim()]));
  const signedHeaders = authParam('SignedHeaders');
  const canonicalHeaders = signedHeaders.split(';').filter((h) => lowered.has(h)).map((h) => `${h}:${lowered.get(h)}`).join('\n') + '\n';
  // POST requests carry their parameters in the body, which body_hash covers.
  const query = req.verb.toUpperCase() === 'POST' ? '' : canonicalQuery(params);
  const canonicalRequest = [req.verb.toUpperCase(), req.path, query, canonicalHeaders, signedHeaders, req.bodyHash].join('\n');

  const credential = authParam('Credential').split('/');
  if (credential.length < 4) throw new UnusableSignature('malformed SigV4 credential');
  const date = text(headers['X-Amz-Date'] ?? params['X-Amz-Date']);
  if (!date.startsWith(credential[1]!)) throw new UnusableSignature('request date does not match the credential scope');
  const stringToSign = ['AWS4-HMAC-SHA256', date, credential.slice(1).join('/'), sha256Hex(canonicalRequest)].join('\n');
  // Any service may be named here (ec2 for the EC2 API), unlike in an S3 string to sign.
  const key = sigV4SigningKey(secret, credential[1]!, credential[2]!, credential[3]!);
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}
