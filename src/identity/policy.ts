// Identity's default policy, following Keystone's defaults: an admin may do everything; readers
// with system scope may read everything; domain readers read their domain; users read
// themselves and their own things. Operators override any rule in policy.yaml.
import type { RuleDefault } from '../core/policy/index.ts';

const SYSTEM_READER = '(role:reader and system_scope:all)';
const ADMIN_OR_SYSTEM_READER = `rule:admin_required or ${SYSTEM_READER}`;
const CREDENTIAL_OWNER = 'user_id:%(target.credential.user_id)s';
const domainReader = (attr: string) => `(role:reader and domain_id:%(${attr})s)`;

const base: Record<string, string> = {
  admin_required: 'role:admin or is_admin:1',
  service_role: 'role:service',
  service_or_admin: 'rule:admin_required or rule:service_role',
  owner: 'user_id:%(user_id)s',
  admin_or_owner: 'rule:admin_required or rule:owner',
  token_subject: 'user_id:%(target.token.user_id)s',
};

const rules: Record<string, string> = {
  // domains
  'identity:get_domain': `${ADMIN_OR_SYSTEM_READER} or domain_id:%(target.domain.id)s or project_domain_id:%(target.domain.id)s`,
  'identity:list_domains': ADMIN_OR_SYSTEM_READER,
  'identity:create_domain': 'rule:admin_required',
  'identity:update_domain': 'rule:admin_required',
  'identity:delete_domain': 'rule:admin_required',
  // projects
  'identity:get_project': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.project.domain_id')} or project_id:%(target.project.id)s`,
  'identity:list_projects': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.domain_id')}`,
  'identity:list_user_projects': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.user.domain_id')} or user_id:%(target.user.id)s`,
  'identity:create_project': 'rule:admin_required',
  'identity:update_project': 'rule:admin_required',
  'identity:delete_project': 'rule:admin_required',
  'identity:list_project_tags': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.project.domain_id')} or project_id:%(target.project.id)s`,
  'identity:get_project_tag': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.project.domain_id')} or project_id:%(target.project.id)s`,
  'identity:update_project_tags': 'rule:admin_required',
  'identity:create_project_tag': 'rule:admin_required',
  'identity:delete_project_tag': 'rule:admin_required',
  'identity:delete_project_tags': 'rule:admin_required',
  // users
  'identity:get_user': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.user.domain_id')} or user_id:%(target.user.id)s`,
  'identity:list_users': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.domain_id')}`,
  'identity:create_user': 'rule:admin_required',
  'identity:update_user': 'rule:admin_required',
  'identity:delete_user': 'rule:admin_required',
  // As Keystone, knowing the original password is what authorizes the change.
  'identity:change_password': '',
  // groups
  'identity:get_group': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.group.domain_id')}`,
  'identity:list_groups': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.domain_id')}`,
  'identity:list_groups_for_user': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.user.domain_id')} or user_id:%(target.user.id)s`,
  'identity:create_group': 'rule:admin_required',
  'identity:update_group': 'rule:admin_required',
  'identity:delete_group': 'rule:admin_required',
  'identity:list_users_in_group': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.group.domain_id')}`,
  'identity:check_user_in_group': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.group.domain_id')}`,
  'identity:add_user_to_group': 'rule:admin_required',
  'identity:remove_user_from_group': 'rule:admin_required',
  // roles and implied roles
  'identity:get_role': ADMIN_OR_SYSTEM_READER,
  'identity:list_roles': ADMIN_OR_SYSTEM_READER,
  'identity:create_role': 'rule:admin_required',
  'identity:update_role': 'rule:admin_required',
  'identity:delete_role': 'rule:admin_required',
  'identity:get_domain_role': ADMIN_OR_SYSTEM_READER,
  'identity:list_domain_roles': ADMIN_OR_SYSTEM_READER,
  'identity:create_domain_role': 'rule:admin_required',
  'identity:update_domain_role': 'rule:admin_required',
  'identity:delete_domain_role': 'rule:admin_required',
  'identity:get_implied_role': ADMIN_OR_SYSTEM_READER,
  'identity:list_implied_roles': ADMIN_OR_SYSTEM_READER,
  'identity:list_role_inference_rules': ADMIN_OR_SYSTEM_READER,
  'identity:check_implied_role': ADMIN_OR_SYSTEM_READER,
  'identity:create_implied_role': 'rule:admin_required',
  'identity:delete_implied_role': 'rule:admin_required',
  // grants and role assignments
  'identity:check_grant': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.domain.id')} or ${domainReader('target.project.domain_id')}`,
  'identity:list_grants': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.domain.id')} or ${domainReader('target.project.domain_id')}`,
  'identity:create_grant': 'rule:admin_required',
  'identity:revoke_grant': 'rule:admin_required',
  'identity:check_system_grant_for_user': ADMIN_OR_SYSTEM_READER,
  'identity:list_system_grants_for_user': ADMIN_OR_SYSTEM_READER,
  'identity:create_system_grant_for_user': 'rule:admin_required',
  'identity:revoke_system_grant_for_user': 'rule:admin_required',
  'identity:check_system_grant_for_group': ADMIN_OR_SYSTEM_READER,
  'identity:list_system_grants_for_group': ADMIN_OR_SYSTEM_READER,
  'identity:create_system_grant_for_group': 'rule:admin_required',
  'identity:revoke_system_grant_for_group': 'rule:admin_required',
  'identity:list_role_assignments': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.domain_id')}`,
  'identity:list_role_assignments_for_tree': `${ADMIN_OR_SYSTEM_READER} or ${domainReader('target.project.domain_id')}`,
  // catalog
  'identity:get_region': '',
  'identity:list_regions': '',
  'identity:create_region': 'rule:admin_required',
  'identity:update_region': 'rule:admin_required',
  'identity:delete_region': 'rule:admin_required',
  'identity:get_service': ADMIN_OR_SYSTEM_READER,
  'identity:list_services': ADMIN_OR_SYSTEM_READER,
  'identity:create_service': 'rule:admin_required',
  'identity:update_service': 'rule:admin_required',
  'identity:delete_service': 'rule:admin_required',
  'identity:get_endpoint': ADMIN_OR_SYSTEM_READER,
  'identity:list_endpoints': ADMIN_OR_SYSTEM_READER,
  'identity:create_endpoint': 'rule:admin_required',
  'identity:update_endpoint': 'rule:admin_required',
  'identity:delete_endpoint': 'rule:admin_required',
  // application credentials
  'identity:get_application_credential': `${ADMIN_OR_SYSTEM_READER} or rule:owner`,
  'identity:list_application_credentials': `${ADMIN_OR_SYSTEM_READER} or rule:owner`,
  'identity:create_application_credential': 'user_id:%(user_id)s',
  'identity:delete_application_credential': 'rule:admin_required or rule:owner',
  // credentials and EC2 credentials: the owner is the credential's user, not the one in the path
  'identity:get_credential': `${ADMIN_OR_SYSTEM_READER} or ${CREDENTIAL_OWNER}`,
  'identity:list_credentials': `${ADMIN_OR_SYSTEM_READER} or ${CREDENTIAL_OWNER}`,
  'identity:create_credential': `rule:admin_required or ${CREDENTIAL_OWNER}`,
  'identity:update_credential': `rule:admin_required or ${CREDENTIAL_OWNER}`,
  'identity:delete_credential': `rule:admin_required or ${CREDENTIAL_OWNER}`,
  'identity:ec2_get_credential': `${ADMIN_OR_SYSTEM_READER} or ${CREDENTIAL_OWNER}`,
  'identity:ec2_list_credentials': `${ADMIN_OR_SYSTEM_READER} or rule:owner`,
  'identity:ec2_create_credential': `rule:admin_required or (role:member and ${CREDENTIAL_OWNER})`,
  'identity:ec2_delete_credential': `rule:admin_required or (role:member and ${CREDENTIAL_OWNER})`,
  // As Keystone since 2025: only a service (the S3 or EC2 API asking) or an admin may turn a
  // signature into a token, so a presigned URL cannot be replayed here for one.
  'identity:ec2tokens_validate': 'rule:service_or_admin',
  'identity:s3tokens_validate': 'rule:service_or_admin',
  // tokens
  'identity:check_token': `rule:service_or_admin or ${SYSTEM_READER} or rule:token_subject`,
  'identity:validate_token': `rule:service_or_admin or ${SYSTEM_READER} or rule:token_subject`,
  'identity:revoke_token': 'rule:service_or_admin or rule:token_subject',
  'identity:get_auth_catalog': '',
  'identity:get_auth_projects': '',
  'identity:get_auth_domains': '',
  'identity:get_auth_system': '',
};

export const identityPolicyDefaults: RuleDefault[] = Object.entries({ ...base, ...rules }).map(([name, checkStr]) => ({
  name,
  checkStr,
}));
