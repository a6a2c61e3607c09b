// Typed client of the Identity v3 API: what services, the CLI, benchmarks and tests use.
import { RestClient, type ApiResponse } from './http.ts';

export interface PasswordAuth {
  username: string;
  password: string;
  userDomain?: string;
  /** project name (with projectDomain) or id */
  project?: string;
  projectId?: string;
  projectDomain?: string;
  domain?: string;
  system?: boolean;
}

export interface IssuedToken {
  token: string;
  body: any;
}

export function passwordAuthBody(a: PasswordAuth): Record<string, unknown> {
  const auth: Record<string, unknown> = {
    identity: {
      methods: ['password'],
      password: { user: { name: a.username, domain: { name: a.userDomain ?? 'Default' }, password: a.password } },
    },
  };
  if (a.projectId) auth.scope = { project: { id: a.projectId } };
  else if (a.project) auth.scope = { project: { name: a.project, domain: { name: a.projectDomain ?? a.userDomain ?? 'Default' } } };
  else if (a.domain) auth.scope = { domain: { name: a.domain } };
  else if (a.system) auth.scope = { system: { all: true } };
  return { auth };
}

export class IdentityClient extends RestClient {
  async authenticate(body: Record<string, unknown>, opts: { nocatalog?: boolean } = {}): Promise<IssuedToken> {
    const res = await this.call('POST', `/v3/auth/tokens${opts.nocatalog ? '?nocatalog' : ''}`, { body, token: '' });
    return { token: res.headers.get('x-subject-token')!, body: res.body.token };
  }

  passwordLogin(a: PasswordAuth, opts: { nocatalog?: boolean } = {}): Promise<IssuedToken> {
    return this.authenticate(passwordAuthBody(a), opts);
  }

  /** GET /v3/auth/tokens for `subject`, with this client's token as the caller. */
  validate(subject: string, opts: { nocatalog?: boolean; allowExpired?: boolean } = {}): Promise<ApiResponse> {
    const q = [opts.nocatalog ? 'nocatalog' : '', opts.allowExpired ? 'allow_expired=1' : ''].filter(Boolean).join('&');
    return this.send('GET', `/v3/auth/tokens${q ? `?${q}` : ''}`, { headers: { 'x-subject-token': subject } });
  }

  revoke(subject: string): Promise<ApiResponse> {
    return this.send('DELETE', '/v3/auth/tokens', { headers: { 'x-subject-token': subject } });
  }

  /** A new EC2/S3 key pair of `userId` for `projectId` (POST .../credentials/OS-EC2). */
  async createEc2Credential(userId: string, projectId: string): Promise<Ec2Credential> {
    const res = await this.call('POST', `/v3/users/${userId}/credentials/OS-EC2`, { body: { tenant_id: projectId } });
    return res.body.credential;
  }

  /**
   * POST /v3/s3tokens with this client's token (a service's: identity answers only services and
   * admins): the token for an S3 request whose string to sign, base64-encoded, is `token`.
   * Answered as is: 200 with the token (also in X-Subject-Token), 401/404 when not signed with a known key.
   */
  s3Token(credentials: S3SignedRequest): Promise<ApiResponse> {
    return this.send('POST', '/v3/s3tokens', { body: { credentials } });
  }
}

export interface Ec2Credential {
  user_id: string;
  tenant_id: string;
  access: string;
  secret: string;
  trust_id: string | null;
  links: { self: string };
}

/** What an S3 API forwards to identity about a signed request (swift s3token's body). */
export interface S3SignedRequest {
  access: string;
  /** the string to sign, base64 (url-safe or standard) */
  token: string;
  signature: string;
}
