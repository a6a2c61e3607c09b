// The object store's configuration section ([object-store] in tenrec.conf). Each process
// (proxy, storage, the background workers) reads the options it needs.
import { defineSection, int, list, str, url } from '../core/config/index.ts';

export const objectStoreSection = defineSection('object-store', {
  port: int({ default: 8080, min: 0, max: 65535, help: 'Port the proxy (the Swift API) listens on.' }),
  storage_port: int({ default: 6200, min: 0, max: 65535, help: 'Port a storage server (accounts, containers, objects) listens on.' }),
  public_endpoint: str({ help: 'Base URL clients reach the proxy at. Empty: taken from the request.' }),
  ring_dir: str({ help: 'Directory with account.ring.json, container.ring.json, object.ring.json and their builders. Empty: <state_dir>/object-store.' }),
  devices: list({ default: [], help: 'Device directories a storage server serves (each directory is one device, named by its last path component).' }),
  hash_path_prefix: str({ default: '', help: 'Secret mixed into every path hash (swift.conf swift_hash_path_prefix). The same on every host; never change it once data is stored.', secret: true }),
  hash_path_suffix: str({ default: 'tenrec', help: 'Secret mixed into every path hash (swift.conf swift_hash_path_suffix). The same on every host; never change it once data is stored.', secret: true }),
  reseller_prefix: str({ default: 'AUTH_', help: 'Accounts are <reseller_prefix><project_id>.' }),
  operator_roles: list({ default: ['admin', 'member'], help: 'Roles that own their project\'s account (keystoneauth operator_roles).' }),
  reseller_admin_role: str({ default: 'ResellerAdmin', help: 'Role allowed into every account.' }),
  auth_url: url({ default: 'http://127.0.0.1:5000/v3', help: 'Identity endpoint tokens are validated against.' }),
  service_username: str({ default: 'swift', help: 'The service user the object store authenticates as.' }),
  service_password: str({ help: 'Its password.', secret: true }),
  service_project: str({ default: 'service', help: 'The project the service user is scoped to.' }),
  token_cache_seconds: int({ default: 30, min: 0, help: 'How long a validated token is trusted without asking identity again.' }),
  node_timeout_ms: int({ default: 10000, min: 1, help: 'How long the proxy waits for a storage server before trying another.' }),
  conn_timeout_ms: int({ default: 500, min: 1, help: 'How long the proxy waits to connect to a storage server.' }),
});
