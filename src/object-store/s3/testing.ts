// For the S3 API's tests: a stand-in Identity that answers POST /v3/s3tokens and the OS-EC2
// secret lookup for a few known access keys, and a client-side SigV4/SigV2 signer.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalRequestV4, formatAmzDate, sha256Hex, signingKeyV4 } from './signature.ts';

export interface TestCredential {
  access: string;
  secret: string;
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  roles?: string[];
}

export interface FakeIdentity {
  url: string;
  /** "POST /v3/s3tokens", "GET /v3/users/.../OS-EC2/..." as they came */
  calls: string[];
  /** the service token it accepts; others are refused as Keystone refuses a stale token */
  serviceToken: string;
  close(): Promise<void>;
}

function tokenDocument(c: TestCredential) {
  const domain = { id: 'default', name: 'Default' };
  return {
    token: {
      methods: ['ec2credential'],
      user: { id: c.userId, name: c.userName, domain },
      project: { id: c.projectId, name: c.projectName, domain },
      roles: (c.roles ?? ['member']).map((name) => ({ id: `role-${name}`, name })),
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      issued_at: new Date().toISOString(),
      audit_ids: ['audit'],
    },
  };
}

/** What Keystone computes from the string to sign and the secret (keystone/api/s3tokens.py). */
function expectedSignature(stringToSign: Buffer, secret: string): string {
  if (stringToSign.subarray(0, 4).toString() !== 'AWS4') return createHmac('sha1', secret).update(stringToSign).digest('base64');
  const scope = stringToSign.toString('utf8').split('\n')[2] ?? '';
  return createHmac('sha256', signingKeyV4(secret, scope)).update(stringToSign).digest('hex');
}

async function jsonBody(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

export async function startFakeIdentity(credentials: TestCredential[], opts: { serviceToken?: string } = {}): Promise<FakeIdentity> {
  const calls: string[] = [];
  const serviceToken = opts.serviceToken ?? 'service-token';
  const server = createServer(async (req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers['x-auth-token'] !== serviceToken) {
      return send(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    }
    const ec2 = /^\/v3\/users\/([^/]+)\/credentials\/OS-EC2\/([^/]+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && ec2) {
      const c = credentials.find((x) => x.access === decodeURIComponent(ec2[2]!) && x.userId === decodeURIComponent(ec2[1]!));
      if (!c) return send(404, { error: { code: 404, message: 'not found' } });
      return send(200, { credential: { access: c.access, secret: c.secret, user_id: c.userId, tenant_id: c.projectId } });
    }
    if (req.method === 'POST' && req.url === '/v3/s3tokens') {
      const { credentials: given } = await jsonBody(req);
      const c = credentials.find((x) => x.access === given?.access);
      if (!c) return send(404, { error: { code: 404, message: 'EC2 access key not found.' } });
      const signed = Buffer.from(String(given.token), 'base64');
      if (expectedSignature(signed, c.secret) !== given.signature) return send(401, { error: { code: 401, message: 'Credential signature mismatch' } });
      return send(200, tokenDocument(c), { 'x-subject-token': `token-of-${c.userId}` });
    }
    send(404, { error: { code: 404, message: 'not found' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3`,
    calls,
    serviceToken,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface SignOptions {
  method: string;
  /** as sent: %-encoded path, optional ?query */
  url: string;
  headers?: Record<string, string>;
  /** the body's SHA-256 is signed (x-amz-content-sha256); UNSIGNED-PAYLOAD without one unless given */
  body?: Buffer | string;
  payloadHash?: string;
  access: string;
  secret: string;
  region?: string;
  now?: number;
}

/** The headers of a SigV4-signed request (Host must be among opts.headers). */
export function signV4(opts: SignOptions): Record<string, string> {
  const q = opts.url.indexOf('?');
  const path = decodeURIComponent(q < 0 ? opts.url : opts.url.slice(0, q));
  const query = new URLSearchParams(q < 0 ? '' : opts.url.slice(q + 1));
  const amzDate = formatAmzDate(opts.now ?? Date.now());
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    'x-amz-date': amzDate,
    'x-amz-content-sha256': opts.payloadHash ?? (opts.body !== undefined ? sha256Hex(opts.body) : sha256Hex('')),
  };
  const signed = new Set(Object.keys(headers).filter((h) => h === 'host' || h.startsWith('x-amz-') || h === 'content-type' || h === 'content-md5'));
  const scope = `${amzDate.slice(0, 8)}/${opts.region ?? 'us-east-1'}/s3/aws4_request`;
  const canonical = canonicalRequestV4({ method: opts.method, path, query, headers }, signed);
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const signature = createHmac('sha256', signingKeyV4(opts.secret, scope)).update(stringToSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${opts.access}/${scope}, SignedHeaders=${[...signed].sort().join(';')}, Signature=${signature}`;
  return headers;
}

/** A presigned (query-signed) SigV4 URL for `expires` seconds. */
export function presignV4(opts: Omit<SignOptions, 'body' | 'payloadHash'> & { expires: number }): string {
  const amzDate = formatAmzDate(opts.now ?? Date.now());
  const scope = `${amzDate.slice(0, 8)}/${opts.region ?? 'us-east-1'}/s3/aws4_request`;
  const sep = opts.url.includes('?') ? '&' : '?';
  const base = `${opts.url}${sep}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(`${opts.access}/${scope}`)}&X-Amz-Date=${amzDate}&X-Amz-Expires=${opts.expires}&X-Amz-SignedHeaders=host`;
  const q = base.indexOf('?');
  const canonical = canonicalRequestV4({
    method: opts.method,
    path: decodeURIComponent(base.slice(0, q)),
    query: new URLSearchParams(base.slice(q + 1)),
    headers: { host: opts.headers?.host ?? '' },
  }, new Set(['host']));
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  return `${base}&X-Amz-Signature=${createHmac('sha256', signingKeyV4(opts.secret, scope)).update(stringToSign).digest('hex')}`;
}
