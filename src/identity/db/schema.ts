// Identity's tables. Domains are projects with is_domain = 1 (as Keystone stores them), so a
// name is unique per (domain_id, name) for both; domains use ROOT_DOMAIN_ID as their domain_id.
// Booleans are 0/1 integers and timestamps ISO strings (see core/db/values.ts).

export const ROOT_DOMAIN_ID = '<<keystone.domain.root>>';
/** domain_id of a global (not domain-specific) role, kept non-null so uniqueness holds */
export const GLOBAL_ROLE_DOMAIN = '<<null>>';
export const SYSTEM_TARGET = 'system';

export interface ProjectTable {
  id: string;
  name: string;
  domain_id: string;
  parent_id: string | null;
  is_domain: number;
  enabled: number;
  description: string | null;
  /** JSON object of extra attributes a client sent */
  extra: string;
}

export interface ProjectTagTable {
  project_id: string;
  name: string;
}

export interface UserTable {
  id: string;
  domain_id: string;
  name: string;
  enabled: number;
  password_hash: string | null;
  password_created_at: string | null;
  password_expires_at: string | null;
  default_project_id: string | null;
  description: string | null;
  options: string;
  extra: string;
  created_at: string;
}

export interface GroupTable {
  id: string;
  domain_id: string;
  name: string;
  description: string | null;
  extra: string;
}

export interface MembershipTable {
  user_id: string;
  group_id: string;
}

export interface RoleTable {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  options: string;
  extra: string;
}

export interface ImpliedRoleTable {
  prior_role_id: string;
  implied_role_id: string;
}

export type AssignmentType = 'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain' | 'UserSystem' | 'GroupSystem';

export interface AssignmentTable {
  type: AssignmentType;
  actor_id: string;
  /** project or domain id, or SYSTEM_TARGET */
  target_id: string;
  role_id: string;
  inherited: number;
}

export interface RegionTable {
  id: string;
  description: string;
  parent_region_id: string | null;
  extra: string;
}

export interface ServiceTable {
  id: string;
  type: string;
  enabled: number;
  /** name, description and any other attributes, JSON */
  extra: string;
}

export interface EndpointTable {
  id: string;
  service_id: string;
  interface: string;
  url: string;
  region_id: string | null;
  enabled: number;
  extra: string;
}

export interface ApplicationCredentialTable {
  id: string;
  user_id: string;
  project_id: string;
  name: string;
  description: string | null;
  secret_hash: string;
  expires_at: string | null;
  unrestricted: number;
  created_at: string;
}

export interface ApplicationCredentialRoleTable {
  application_credential_id: string;
  role_id: string;
}

/** A credential (Keystone's credentials API; type ec2 for EC2/S3 keys). Its blob is Fernet-encrypted. */
export interface CredentialTable {
  /** sha256 hex of the access key for type ec2, else a random id */
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  /** the blob, a Fernet token under the credential keys */
  encrypted_blob: string;
  /** sha1 hex of the primary key that encrypted it, as Keystone records (tells what a rotation must re-encrypt) */
  key_hash: string;
  /** JSON object of extra attributes a client sent */
  extra: string;
}

/** A revocation event: tokens matching every non-null field and issued before issued_before are revoked. */
export interface RevocationEventTable {
  id: string;
  user_id: string | null;
  project_id: string | null;
  domain_id: string | null;
  role_id: string | null;
  audit_id: string | null;
  audit_chain_id: string | null;
  issued_before: string;
  revoked_at: string;
  /** when the event can be forgotten: the newest token it could match has expired */
  expires_at: string | null;
}

export interface IdentityStateTable {
  name: string;
  value: number;
}

export interface IdentityDatabase {
  identity_state: IdentityStateTable;
  project: ProjectTable;
  project_tag: ProjectTagTable;
  user: UserTable;
  user_group: GroupTable;
  user_group_membership: MembershipTable;
  role: RoleTable;
  implied_role: ImpliedRoleTable;
  assignment: AssignmentTable;
  region: RegionTable;
  service: ServiceTable;
  endpoint: EndpointTable;
  application_credential: ApplicationCredentialTable;
  application_credential_role: ApplicationCredentialRoleTable;
  revocation_event: RevocationEventTable;
  credential: CredentialTable;
}
