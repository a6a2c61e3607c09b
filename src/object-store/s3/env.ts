// What the s3api middleware hands down with each request it makes (env.s3api) and what
// s3token writes back into it. The object is shared by the S3 request and all its
// subrequests (subrequest() copies the env shallowly), so Identity is asked once per request.
import type { RequestContext } from '../../core/auth/index.ts';
import type { S3Error } from './errors.ts';
import type { S3Auth } from './signature.ts';

export interface S3Caller {
  identity: RequestContext;
  /** the Swift account the caller's project owns: <reseller prefix><project id> */
  account: string;
}

export interface S3Env {
  /** the request's signature; s3token's check with a known secret keeps the key aws-chunked bodies need */
  auth: S3Auth;
  /** set by s3token once Identity has said who signed the request */
  caller?: S3Caller;
  /** set by s3token when Identity refused the signature */
  failure?: S3Error;
}

declare module '../pipeline.ts' {
  interface RequestEnv {
    /** set by the s3api middleware on the subrequests of an S3 request */
    s3api?: S3Env;
  }
}
