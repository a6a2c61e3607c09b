// The image service's schema history. Never edit a released migration; add the next one.
import type { Kysely } from 'kysely';
import type { NamedMigration } from '../../core/db/index.ts';

const id = 'varchar(64)';
const time = 'varchar(32)';

async function initial(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s.createTable('image')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)')
    .addColumn('status', 'varchar(30)', (c) => c.notNull())
    .addColumn('visibility', 'varchar(10)', (c) => c.notNull())
    .addColumn('protected', 'integer', (c) => c.notNull())
    .addColumn('os_hidden', 'integer', (c) => c.notNull())
    .addColumn('owner', id)
    .addColumn('checksum', 'varchar(32)')
    .addColumn('os_hash_algo', 'varchar(64)')
    .addColumn('os_hash_value', 'varchar(128)')
    .addColumn('size', 'bigint')
    .addColumn('virtual_size', 'bigint')
    .addColumn('min_disk', 'integer', (c) => c.notNull())
    .addColumn('min_ram', 'integer', (c) => c.notNull())
    .addColumn('disk_format', 'varchar(20)')
    .addColumn('container_format', 'varchar(20)')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await s.createIndex('image_owner').on('image').column('owner').execute();
  await s.createIndex('image_visibility').on('image').column('visibility').execute();

  await s.createTable('image_property')
    .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_property_pk', ['image_id', 'name'])
    .execute();

  await s.createTable('image_tag')
    .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_tag_pk', ['image_id', 'value'])
    .execute();

  await s.createTable('image_member')
    .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
    .addColumn('member', id, (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('image_member_pk', ['image_id', 'member'])
    .execute();
  await s.createIndex('image_member_member').on('image_member').column('member').execute();

  await s.createTable('image_location')
    .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
    .addColumn('store_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('image_location_pk', ['image_id', 'store_id', 'status'])
    .execute();
}

/** Image tasks (Image API 2.12): one row per import job, removed with its image. */
async function tasks(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s.createTable('task')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('type', 'varchar(30)', (c) => c.notNull())
    .addColumn('status', 'varchar(30)', (c) => c.notNull())
    .addColumn('owner', id)
    .addColumn('image_id', 'varchar(36)', (c) => c.references('image.id').onDelete('cascade'))
    .addColumn('user_id', id)
    .addColumn('request_id', 'varchar(64)')
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('expires_at', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await s.createIndex('task_image_id').on('task').column('image_id').execute();
  await s.createIndex('task_owner').on('task').column('owner').execute();
  await s.createIndex('task_created_at').on('task').columns(['created_at', 'id']).execute();
}

export const imageMigrations: NamedMigration[] = [
  { name: '001_initial', up: initial },
  { name: '002_tasks', up: tasks },
];
