// What the benchmarks share: the OS_* credentials as flags, and a login that finds a
// service's public endpoint in the catalog.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { IdentityClient } from '../src/clients/identity.ts';

const credentialOptions = {
  'auth-url': { type: 'string', default: process.env.OS_AUTH_URL ?? 'http://127.0.0.1:5000/v3' },
  username: { type: 'string', default: process.env.OS_USERNAME ?? 'admin' },
  password: { type: 'string', default: process.env.OS_PASSWORD },
  project: { type: 'string', default: process.env.OS_PROJECT_NAME ?? 'admin' },
} as const;

export interface Credentials {
  'auth-url': string;
  username: string;
  password: string;
  project: string;
}

/** Parses the benchmark's own flags plus the credential flags; exits 2 without a password. */
export function benchArgs(name: string, options: NonNullable<ParseArgsConfig['options']>): Credentials & Record<string, any> {
  const { values } = parseArgs({ options: { ...credentialOptions, ...options } });
  if (!values.password) {
    console.error(`${name}: set OS_PASSWORD (source the openrc that tenrec up wrote) or pass --password`);
    process.exit(2);
  }
  return values as Credentials & Record<string, any>;
}

/** Logs in with the credentials; returns the token, the project id and `serviceType`'s public URL. */
export async function benchLogin(name: string, args: Credentials, serviceType: string) {
  const identity = new IdentityClient(args['auth-url'].replace(/\/v3\/?$/, ''));
  const auth = await identity.passwordLogin({ username: args.username, password: args.password, project: args.project });
  const endpoint: string | undefined = auth.body.catalog
    .find((s: { type: string }) => s.type === serviceType)
    ?.endpoints.find((e: { interface: string }) => e.interface === 'public')?.url;
  if (!endpoint) {
    console.error(`${name}: no ${serviceType} endpoint in the catalog`);
    process.exit(1);
  }
  return { token: auth.token, projectId: auth.body.project.id as string, endpoint: endpoint.replace(/\/+$/, '') };
}
