// POST /v3/ec2tokens and POST /v3/s3tokens: a service that received a request signed with an
// EC2/S3 access key (the S3 API of the object store, an EC2 API) asks for a token for it. It
// sends what was signed and the signature, never the secret; the answer is a project-scoped
// token document (status 200) with the token in X-Subject-Token as well, for both (Keystone
// sets the header for ec2tokens only; a caller that wants the token need not read the body).
// As Keystone since 2025, only a service or an admin may ask (the caller's X-Auth-Token).
//   s3tokens: {credentials: {access, token: base64(string to sign), signature}}: the body
//     swift's s3api (s3token middleware) and keystonemiddleware send; SigV4 or SigV2.
//   ec2tokens: {credentials: {access, signature, host, verb, path, params, headers, body_hash}}.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError, unauthorized } from '../../core/http/index.ts';
import { Ec2Authenticator, signedCredentials } from '../credential/ec2-auth.ts';
import { s3Signature, signaturesMatch, UnusableSignature } from '../credential/aws-signature.ts';
import { ec2Signature, ec2SignedRequest } from '../credential/ec2-signature.ts';
import type { ValidatedToken } from '../token/token-service.ts';
import { tokenDocument } from './auth-tokens.ts';
import { authorize, type IdentityDeps } from './common.ts';

type Obj = Record<string, unknown>;

/** The host without its port, as Python's urlsplit gives it: some clients sign without the port. */
function hostWithoutPort(host: string): string {
  const m = /^\[([^\]]*)\]/.exec(host) ?? /^([^:]*)/.exec(host);
  return m![1]!.toLowerCase();
}

function verifyEc2(credentials: Obj, secret: string): void {
  if (!credentials.signature) throw unauthorized('EC2 signature not supplied.');
  const request = ec2SignedRequest(credentials);
  const matches = (req: typeof request) => {
    try {
      return signaturesMatch(credentials.signature, ec2Signature(req, secret));
    } catch (err) {
      if (err instanceof UnusableSignature) return false;
      throw err;
    }
  };
  if (matches(request)) return;
  if (request.host.includes(':') && matches({ ...request, host: hostWithoutPort(request.host) })) return;
  throw unauthorized('Invalid EC2 signature.');
}

function verifyS3(credentials: Obj, secret: string): void {
  const token = credentials.token;
  if (typeof token !== 'string' || token === '') throw unauthorized('Credential signature mismatch');
  let expected: string;
  try {
    // the url-safe base64 s3token sends; Node's decoder takes either alphabet
    expected = s3Signature(Buffer.from(token, 'base64'), secret);
  } catch (err) {
    if (err instanceof UnusableSignature) throw unauthorized('Invalid EC2 signature.');
    throw err;
  }
  if (!signaturesMatch(credentials.signature, expected)) throw unauthorized('Credential signature mismatch');
}

export function registerEc2Tokens(app: FastifyInstance, deps: IdentityDeps): void {
  const authenticator = new Ec2Authenticator(deps.store, deps.tokens, deps.credentials, deps.settings);

  const answer = async (reply: FastifyReply, validated: ValidatedToken) => {
    reply.status(200).header('x-subject-token', validated.token);
    return tokenDocument(deps, validated, true);
  };
  const postOnly = () => {
    throw new HttpError(405, 'The method is not allowed for the requested URL.', { allow: 'POST' });
  };

  app.post('/v3/ec2tokens', async (req, reply) => {
    authorize(req, deps, 'identity:ec2tokens_validate');
    const credentials = signedCredentials(req.body);
    return answer(reply, await authenticator.authenticate(credentials, (secret) => verifyEc2(credentials, secret)));
  });

  app.post('/v3/s3tokens', async (req, reply) => {
    authorize(req, deps, 'identity:s3tokens_validate');
    const credentials = signedCredentials(req.body);
    return answer(reply, await authenticator.authenticate(credentials, (secret) => verifyS3(credentials, secret)));
  });

  app.get('/v3/ec2tokens', postOnly);
  app.get('/v3/s3tokens', postOnly);
}
