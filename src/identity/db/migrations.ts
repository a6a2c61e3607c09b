// Identity's schema history. Never edit a released migration; add the next one.
import type { Kysely } from 'kysely';
import type { NamedMigration } from '../../core/db/index.ts';

const id = 'varchar(64)';
const name = 'varchar(255)';
const time = 'varchar(32)';

async function initial(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s.createTable('project')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('domain_id', id, (c) => c.notNull())
    .addColumn('parent_id', id)
    .addColumn('is_domain', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('extra', 'text', (c) => c.notNull())
    .addUniqueConstraint('project_domain_name', ['domain_id', 'name'])
    .execute();
  await s.createIndex('project_parent').on('project').column('parent_id').execute();

  await s.createTable('project_tag')
    .addColumn('project_id', id, (c) => c.notNull().references('project.id').onDelete('cascade'))
    .addColumn('name', name, (c) => c.notNull())
    .addPrimaryKeyConstraint('project_tag_pk', ['project_id', 'name'])
    .execute();

  await s.createTable('user')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('domain_id', id, (c) => c.notNull())
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(255)')
    .addColumn('password_created_at', time)
    .addColumn('password_expires_at', time)
    .addColumn('default_project_id', id)
    .addColumn('description', 'text')
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addUniqueConstraint('user_domain_name', ['domain_id', 'name'])
    .execute();

  await s.createTable('user_group')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('domain_id', id, (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('extra', 'text', (c) => c.notNull())
    .addUniqueConstraint('group_domain_name', ['domain_id', 'name'])
    .execute();

  await s.createTable('user_group_membership')
    .addColumn('user_id', id, (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('group_id', id, (c) => c.notNull().references('user_group.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('membership_pk', ['user_id', 'group_id'])
    .execute();
  await s.createIndex('membership_group').on('user_group_membership').column('group_id').execute();

  await s.createTable('role')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('domain_id', id, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .addUniqueConstraint('role_domain_name', ['name', 'domain_id'])
    .execute();

  await s.createTable('implied_role')
    .addColumn('prior_role_id', id, (c) => c.notNull().references('role.id').onDelete('cascade'))
    .addColumn('implied_role_id', id, (c) => c.notNull().references('role.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('implied_role_pk', ['prior_role_id', 'implied_role_id'])
    .execute();

  await s.createTable('assignment')
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor_id', id, (c) => c.notNull())
    .addColumn('target_id', id, (c) => c.notNull())
    .addColumn('role_id', id, (c) => c.notNull())
    .addColumn('inherited', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('assignment_pk', ['type', 'actor_id', 'target_id', 'role_id', 'inherited'])
    .execute();
  await s.createIndex('assignment_actor').on('assignment').column('actor_id').execute();
  await s.createIndex('assignment_target').on('assignment').column('target_id').execute();
  await s.createIndex('assignment_role').on('assignment').column('role_id').execute();

  await s.createTable('region')
    .addColumn('id', name, (c) => c.primaryKey())
    .addColumn('description', name, (c) => c.notNull())
    .addColumn('parent_region_id', name)
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();

  await s.createTable('service')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('type', name, (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();

  await s.createTable('endpoint')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('service_id', id, (c) => c.notNull().references('service.id').onDelete('cascade'))
    .addColumn('interface', 'varchar(8)', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('region_id', name)
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();

  await s.createTable('application_credential')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('user_id', id, (c) => c.notNull().references('user.id').onDelete('cascade'))
    .addColumn('project_id', id, (c) => c.notNull())
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('expires_at', time)
    .addColumn('unrestricted', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addUniqueConstraint('app_cred_user_name', ['user_id', 'name'])
    .execute();

  await s.createTable('application_credential_role')
    .addColumn('application_credential_id', id, (c) => c.notNull().references('application_credential.id').onDelete('cascade'))
    .addColumn('role_id', id, (c) => c.notNull())
    .addPrimaryKeyConstraint('app_cred_role_pk', ['application_credential_id', 'role_id'])
    .execute();

  await s.createTable('revocation_event')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('user_id', id)
    .addColumn('project_id', id)
    .addColumn('domain_id', id)
    .addColumn('role_id', id)
    .addColumn('audit_id', 'varchar(32)')
    .addColumn('audit_chain_id', 'varchar(32)')
    .addColumn('issued_before', time, (c) => c.notNull())
    .addColumn('revoked_at', time, (c) => c.notNull())
    .addColumn('expires_at', time)
    .execute();
  // One row, bumped by every write: caches of derived data (validated tokens, the catalog)
  // compare it to know they are current, across processes.
  await s.createTable('identity_state')
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('value', 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('identity_state').values({ name: 'generation', value: 1 }).execute();
  await s.createIndex('revocation_event_revoked').on('revocation_event').column('revoked_at').execute();
}

/** Keystone's credential table: blobs encrypted with the credential keys, never in clear. */
async function credentials(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('credential')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('user_id', id, (c) => c.notNull())
    .addColumn('project_id', id)
    .addColumn('type', name, (c) => c.notNull())
    .addColumn('encrypted_blob', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('extra', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credential_user').on('credential').column('user_id').execute();
  await db.schema.createIndex('credential_project').on('credential').column('project_id').execute();
}

export const identityMigrations: NamedMigration[] = [
  { name: '001_initial', up: initial },
  { name: '002_credentials', up: credentials },
];
