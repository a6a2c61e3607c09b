// Who signed an S3 request (Swift's s3token middleware): Identity checks the signature
// (POST /v3/s3tokens with the string to sign and the signature, as the object store's service
// user) and answers with a token document for the credential's user and project. The caller
// lands in env.identity and the request's account becomes AUTH_<project id>, so keystone-auth
// and the proxy treat it as they treat a request with that user's token.
//
// As Swift does (secret_cache_duration), the access key's secret may then be fetched
// (GET /v3/users/{user}/credentials/OS-EC2/{access}) and kept a short while: requests signed
// with it are checked here without asking Identity, and the signatures of aws-chunked bodies
// can be checked at all. A signature the cached secret does not match is asked of Identity
// again, so a changed secret or a revoked credential is noticed.
import type { Logger } from 'pino';
import { contextFromToken } from '../../core/auth/index.ts';
import { parseSwiftPath, swiftPath } from '../path.ts';
import { textResponse, type Handler, type Middleware, type SwiftRequest } from '../pipeline.ts';
import type { S3Caller, S3Env } from './env.ts';
import { S3Error, s3Error } from './errors.ts';

export interface S3TokenOptions {
  /** Identity's endpoint, with or without /v3 */
  identityUrl: string;
  /** the object store's own token; renew: Identity refused the last one */
  serviceToken(renew?: boolean): Promise<string>;
  /** accounts are <resellerPrefix><project id>; default AUTH_ */
  resellerPrefix?: string;
  /** seconds a secret is kept; 0: secrets are never fetched (signed aws-chunked bodies are then refused) */
  secretCacheSeconds?: number;
  /** most access keys cached at once */
  cacheSize?: number;
  logger?: Logger;
}

interface CachedCredential {
  caller: S3Caller;
  secret: string;
  until: number;
}

const SERVICE_TOKEN_REFUSED = 'The request you have made requires authentication.';

/** base64url with padding, as Python's urlsafe_b64encode makes it (Keystone decodes it so). */
function urlSafeBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export function s3Token(opts: S3TokenOptions): Middleware {
  const base = opts.identityUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
  const prefix = opts.resellerPrefix ?? 'AUTH_';
  const cacheMs = (opts.secretCacheSeconds ?? 60) * 1000;
  const cacheSize = opts.cacheSize ?? 10_000;
  const secrets = new Map<string, CachedCredential>();

  /** A call to Identity as the service, asking once more with a new service token if the old one was refused. */
  async function asService(path: string, init: { method: string; body?: string }): Promise<Response> {
    const send = async (renew: boolean) => fetch(`${base}${path}`, {
      method: init.method,
      body: init.body,
      headers: { 'x-auth-token': await opts.serviceToken(renew), 'content-type': 'application/json', accept: 'application/json' },
    });
    let res = await send(false);
    if (res.status === 401) {
      const body = await res.clone().json().catch(() => undefined) as { error?: { message?: string } } | undefined;
      if (body?.error?.message === SERVICE_TOKEN_REFUSED) res = await send(true);
    }
    return res;
  }

  async function askIdentity(s3: S3Env): Promise<{ caller: S3Caller; until: number }> {
    const { auth } = s3;
    const credentials = { access: auth.accessKey, token: urlSafeBase64(auth.stringToSign), signature: auth.signature };
    let res: Response;
    try {
      res = await asService('/v3/s3tokens', { method: 'POST', body: JSON.stringify({ credentials }) });
    } catch (err) {
      opts.logger?.error({ err }, 's3token: identity is unreachable');
      throw s3Error('ServiceUnavailable');
    }
    if (res.status === 404) throw s3Error('InvalidAccessKeyId', { AWSAccessKeyId: auth.accessKey });
    if (res.status === 401) throw s3Error('SignatureDoesNotMatch', auth.mismatchDetails());
    if (!res.ok) {
      opts.logger?.error({ status: res.status, body: await res.text().catch(() => '') }, 's3token: identity refused to check a signature');
      throw s3Error('ServiceUnavailable');
    }
    const token = res.headers.get('x-subject-token') ?? '';
    const identity = contextFromToken(token, await res.json());
    if (!identity.projectId) throw s3Error('AccessDenied', {}, 'The credential is not scoped to a project.');
    return { caller: { identity, account: `${prefix}${identity.projectId}` }, until: Date.parse(identity.expiresAt) };
  }

  async function fetchSecret(caller: S3Caller, access: string): Promise<string | undefined> {
    try {
      const res = await asService(`/v3/users/${encodeURIComponent(caller.identity.userId)}/credentials/OS-EC2/${encodeURIComponent(access)}`, { method: 'GET' });
      if (!res.ok) {
        opts.logger?.warn({ status: res.status }, 's3token: the secret of an access key could not be read; signatures are checked by identity only');
        return undefined;
      }
      const secret = ((await res.json()) as { credential?: { secret?: unknown } }).credential?.secret;
      return typeof secret === 'string' ? secret : undefined;
    } catch (err) {
      opts.logger?.warn({ err }, 's3token: the secret of an access key could not be read');
      return undefined;
    }
  }

  async function authenticate(s3: S3Env): Promise<S3Caller> {
    const access = s3.auth.accessKey;
    const hit = secrets.get(access);
    if (hit && hit.until > Date.now() && s3.auth.check(hit.secret)) return hit.caller;
    // A signature the cached secret does not make goes to Identity (the secret may have
    // changed); a forged one must not evict what honest requests use, so the entry stays.
    if (hit && hit.until <= Date.now()) secrets.delete(access);

    const { caller, until } = await askIdentity(s3);
    if (cacheMs > 0) {
      const secret = await fetchSecret(caller, access);
      // the secret also gives the request its signing key, for aws-chunked bodies
      if (secret !== undefined && s3.auth.check(secret)) {
        secrets.delete(access);
        if (secrets.size >= cacheSize) secrets.delete(secrets.keys().next().value!);
        secrets.set(access, { caller, secret, until: Math.min(Date.now() + cacheMs, until) });
      }
    }
    return caller;
  }

  return (next: Handler): Handler => async (req: SwiftRequest) => {
    const s3 = req.env.s3api;
    if (!s3) return next(req);
    if (!s3.caller) {
      try {
        s3.caller = await authenticate(s3);
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        s3.failure = err;
        return textResponse(err.status === 503 ? 503 : 401, err.message);
      }
    }
    req.env.identity = s3.caller.identity;
    const path = parseSwiftPath(req.path);
    if (path && path.account !== s3.caller.account) req.path = swiftPath({ ...path, account: s3.caller.account });
    return next(req);
  };
}
