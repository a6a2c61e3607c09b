// Identity's configuration section ([identity] in tenrec.conf).
import { defineSection, int, str, url } from '../core/config/index.ts';

export const identitySection = defineSection('identity', {
  connection: url({ help: 'Database URL of the identity service (SQLAlchemy style). Empty in the all-in-one: a SQLite file in the state directory.', secret: false }),
  key_repository: str({ help: 'Directory of the Fernet token keys. Empty: <state_dir>/fernet-keys.' }),
  credential_key_repository: str({ help: 'Directory of the Fernet keys that encrypt stored credentials (EC2/S3 secrets), kept apart from the token keys. Empty: <state_dir>/credential-keys.' }),
  max_active_keys: int({ default: 3, min: 1, help: 'Fernet keys kept by rotation: staged + primary + secondaries.' }),
  token_expiration: int({ default: 3600, min: 1, help: 'Lifetime of a token in seconds.' }),
  allow_expired_window: int({ default: 172800, min: 0, help: 'Seconds past expiry during which a service may still validate a token with allow_expired.' }),
  password_hash_cost: int({ default: 15, min: 10, max: 20, help: 'scrypt cost as log2(N); each step doubles the time and memory a password check takes.' }),
  public_endpoint: str({ help: 'Base URL clients reach identity at, used in links. Empty: taken from the request.' }),
  policy_file: str({ help: 'A policy.yaml (or .json) whose rules override the defaults. Empty: the defaults only.' }),
  port: int({ default: 5000, min: 0, max: 65535, help: 'Port the identity API listens on.' }),
});

export interface IdentitySettings {
  tokenExpiration: number;
  allowExpiredWindow: number;
  passwordHashCost: number;
  maxActiveKeys: number;
  publicEndpoint?: string;
}
