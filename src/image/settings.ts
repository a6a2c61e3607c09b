// The image service's configuration section ([image] in tenrec.conf).
import { defineSection, int, list, str, url } from '../core/config/index.ts';

export const imageSection = defineSection('image', {
  connection: url({ help: 'Database URL of the image service (SQLAlchemy style). Empty in the all-in-one: a SQLite file in the state directory.' }),
  port: int({ default: 9292, min: 0, max: 65535, help: 'Port the image API listens on.' }),
  public_endpoint: str({ help: 'Base URL clients reach the image API at, used in links. Empty: taken from the request.' }),
  enabled_backends: list({ default: ['local:file'], help: 'Stores as id:type pairs (types: file), as Glance multi-store.' }),
  default_backend: str({ default: 'local', help: 'The store an upload goes to when the client names none.' }),
  stores_dir: str({ help: 'Directory holding one sub-directory per file store. Empty: <state_dir>/images.' }),
  staging_dir: str({ help: 'Directory for staged data of the interoperable import. Empty: <state_dir>/image-staging.' }),
  disk_formats: list({ default: ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'], help: 'Accepted disk_format values.' }),
  container_formats: list({ default: ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'], help: 'Accepted container_format values.' }),
  image_size_cap: int({ default: 1099511627776, min: 1, help: 'Largest image accepted, in bytes (1 TiB).' }),
  image_count_total: int({ default: -1, min: -1, help: 'Images a project may have; -1 is unlimited.' }),
  image_size_total: int({ default: -1, min: -1, help: 'Bytes of image data a project may store; -1 is unlimited.' }),
  image_stage_total: int({ default: -1, min: -1, help: 'Bytes a project may have staged for import; -1 is unlimited.' }),
  image_count_uploading: int({ default: -1, min: -1, help: 'Uploads a project may have in progress at once; -1 is unlimited.' }),
  auth_url: url({ default: 'http://127.0.0.1:5000/v3', help: 'Identity endpoint tokens are validated against.' }),
  service_username: str({ default: 'image', help: 'The service user the image service authenticates as.' }),
  service_password: str({ help: 'Its password.', secret: true }),
  service_project: str({ default: 'service', help: 'The project the service user is scoped to.' }),
  token_cache_seconds: int({ default: 30, min: 0, help: 'How long a validated token is trusted without asking identity again.' }),
  policy_file: str({ help: 'A policy.yaml whose rules override the defaults.' }),
});
