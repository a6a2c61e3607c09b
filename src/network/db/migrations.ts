// The networking service's schema history. Never edit a released migration; add the next one.
import type { CreateTableBuilder, Kysely } from 'kysely';
import type { NamedMigration } from '../../core/db/index.ts';

const id = 'varchar(36)';
const project = 'varchar(64)';
const name = 'varchar(255)';
const time = 'varchar(32)';

type Columns = (t: CreateTableBuilder<string, any>) => CreateTableBuilder<string, any>;

/** A resource table: its id first, Neutron's standard attributes (timestamps, revision) last. */
function resource(db: Kysely<any>, table: string, columns: Columns): Promise<void> {
  return columns(db.schema.createTable(table).addColumn('id', id, (c) => c.primaryKey()))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .execute();
}

/** The owner, name and description most resources start with. */
const owned: Columns = (t) => t
  .addColumn('project_id', project, (c) => c.notNull())
  .addColumn('name', name, (c) => c.notNull())
  .addColumn('description', name, (c) => c.notNull());

async function initial(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await resource(db, 'network', (t) => owned(t)
    .addColumn('admin_state_up', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull())
    .addColumn('router_external', 'integer', (c) => c.notNull())
    .addColumn('mtu', 'integer', (c) => c.notNull())
    .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
    .addColumn('availability_zone_hints', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull()));
  await s.createIndex('network_project').on('network').column('project_id').execute();

  await resource(db, 'network_segment', (t) => t
    .addColumn('network_id', id, (c) => c.notNull().references('network.id').onDelete('cascade'))
    .addColumn('name', name)
    .addColumn('description', name, (c) => c.notNull())
    .addColumn('network_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('physical_network', 'varchar(64)', (c) => c.notNull())
    .addColumn('segmentation_id', 'integer')
    .addColumn('segment_index', 'integer', (c) => c.notNull())
    .addUniqueConstraint('segment_allocation', ['network_type', 'physical_network', 'segmentation_id']));

  await resource(db, 'subnetpool', (t) => owned(t)
    .addColumn('ip_version', 'integer', (c) => c.notNull())
    .addColumn('prefixes', 'text', (c) => c.notNull())
    .addColumn('default_prefixlen', 'integer', (c) => c.notNull())
    .addColumn('min_prefixlen', 'integer', (c) => c.notNull())
    .addColumn('max_prefixlen', 'integer', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('default_quota', 'integer')
    .addColumn('address_scope_id', id));

  await resource(db, 'subnet', (t) => t
    .addColumn('project_id', project, (c) => c.notNull())
    .addColumn('network_id', id, (c) => c.notNull().references('network.id'))
    .addColumn('segment_id', id)
    .addColumn('subnetpool_id', id)
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('description', name, (c) => c.notNull())
    .addColumn('ip_version', 'integer', (c) => c.notNull())
    .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
    .addColumn('gateway_ip', 'varchar(64)')
    .addColumn('enable_dhcp', 'integer', (c) => c.notNull())
    .addColumn('ipv6_ra_mode', 'varchar(16)')
    .addColumn('ipv6_address_mode', 'varchar(16)')
    .addColumn('allocation_pools', 'text', (c) => c.notNull())
    .addColumn('dns_nameservers', 'text', (c) => c.notNull())
    .addColumn('host_routes', 'text', (c) => c.notNull()));
  await s.createIndex('subnet_network').on('subnet').column('network_id').execute();

  await resource(db, 'port', (t) => t
    .addColumn('project_id', project, (c) => c.notNull())
    .addColumn('network_id', id, (c) => c.notNull().references('network.id'))
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('description', name, (c) => c.notNull())
    .addColumn('admin_state_up', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('mac_address', 'varchar(32)', (c) => c.notNull())
    .addColumn('device_id', name, (c) => c.notNull())
    .addColumn('device_owner', name, (c) => c.notNull())
    .addColumn('binding_host_id', name, (c) => c.notNull())
    .addColumn('binding_vif_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('binding_vnic_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('binding_vif_details', 'text', (c) => c.notNull())
    .addColumn('binding_profile', 'text', (c) => c.notNull())
    .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
    .addColumn('allowed_address_pairs', 'text', (c) => c.notNull())
    .addColumn('extra_dhcp_opts', 'text', (c) => c.notNull())
    .addColumn('dns_name', name, (c) => c.notNull())
    .addUniqueConstraint('port_network_mac', ['network_id', 'mac_address']));
  await s.createIndex('port_device').on('port').column('device_id').execute();
  await s.createIndex('port_project').on('port').column('project_id').execute();

  await s.createTable('ip_allocation')
    .addColumn('subnet_id', id, (c) => c.notNull().references('subnet.id'))
    .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('port_id', id, (c) => c.notNull().references('port.id').onDelete('cascade'))
    .addColumn('network_id', id, (c) => c.notNull())
    .addPrimaryKeyConstraint('ip_allocation_pk', ['subnet_id', 'ip_address'])
    .execute();
  await s.createIndex('ip_allocation_port').on('ip_allocation').column('port_id').execute();

  await resource(db, 'security_group', (t) => owned(t)
    .addColumn('stateful', 'integer', (c) => c.notNull()));

  await s.createTable('default_security_group')
    .addColumn('project_id', project, (c) => c.primaryKey())
    .addColumn('security_group_id', id, (c) => c.notNull().references('security_group.id').onDelete('cascade'))
    .execute();

  await resource(db, 'security_group_rule', (t) => t
    .addColumn('project_id', project, (c) => c.notNull())
    .addColumn('security_group_id', id, (c) => c.notNull().references('security_group.id').onDelete('cascade'))
    .addColumn('direction', 'varchar(8)', (c) => c.notNull())
    .addColumn('ethertype', 'varchar(8)', (c) => c.notNull())
    .addColumn('protocol', 'varchar(40)')
    .addColumn('port_range_min', 'integer')
    .addColumn('port_range_max', 'integer')
    .addColumn('remote_ip_prefix', 'varchar(64)')
    .addColumn('remote_group_id', id)
    .addColumn('remote_address_group_id', id)
    .addColumn('description', name, (c) => c.notNull())
    .addColumn('fingerprint', name, (c) => c.notNull())
    .addUniqueConstraint('security_group_rule_unique', ['security_group_id', 'fingerprint']));

  await s.createTable('port_security_group')
    .addColumn('port_id', id, (c) => c.notNull().references('port.id').onDelete('cascade'))
    .addColumn('security_group_id', id, (c) => c.notNull().references('security_group.id'))
    .addPrimaryKeyConstraint('port_security_group_pk', ['port_id', 'security_group_id'])
    .execute();

  await resource(db, 'router', (t) => owned(t)
    .addColumn('admin_state_up', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('gw_network_id', id)
    .addColumn('gw_port_id', id)
    .addColumn('enable_snat', 'integer', (c) => c.notNull())
    .addColumn('distributed', 'integer', (c) => c.notNull())
    .addColumn('ha', 'integer', (c) => c.notNull())
    .addColumn('routes', 'text', (c) => c.notNull())
    .addColumn('availability_zone_hints', 'text', (c) => c.notNull()));

  await s.createTable('router_port')
    .addColumn('router_id', id, (c) => c.notNull().references('router.id').onDelete('cascade'))
    .addColumn('port_id', id, (c) => c.notNull().references('port.id').onDelete('cascade'))
    .addColumn('port_type', 'varchar(64)', (c) => c.notNull())
    .addPrimaryKeyConstraint('router_port_pk', ['router_id', 'port_id'])
    .execute();

  await resource(db, 'floatingip', (t) => t
    .addColumn('project_id', project, (c) => c.notNull())
    .addColumn('description', name, (c) => c.notNull())
    .addColumn('floating_network_id', id, (c) => c.notNull().references('network.id'))
    .addColumn('floating_ip_address', 'varchar(64)', (c) => c.notNull())
    .addColumn('floating_port_id', id, (c) => c.notNull())
    .addColumn('fixed_port_id', id)
    .addColumn('fixed_ip_address', 'varchar(64)')
    .addColumn('router_id', id)
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('dns_name', name, (c) => c.notNull())
    .addColumn('dns_domain', name, (c) => c.notNull())
    .addUniqueConstraint('floatingip_address', ['floating_network_id', 'floating_ip_address']));

  await s.createTable('tag')
    .addColumn('resource_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('resource_id', id, (c) => c.notNull())
    .addColumn('tag', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tag_pk', ['resource_type', 'resource_id', 'tag'])
    .execute();

  await s.createTable('quota')
    .addColumn('project_id', project, (c) => c.notNull())
    .addColumn('resource', 'varchar(64)', (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('quota_pk', ['project_id', 'resource'])
    .execute();
}

/** One floating IP per fixed address and external network, enforced by the database, so two
 *  racing associations cannot both win (unassociated floating IPs have NULLs, never equal). */
async function uniqueFloatingIpAssociation(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('floatingip_fixed_address')
    .on('floatingip').columns(['floating_network_id', 'fixed_port_id', 'fixed_ip_address']).unique().execute();
}

export const networkMigrations: NamedMigration[] = [
  { name: '001_initial', up: initial },
  { name: '002_unique_floatingip_association', up: uniqueFloatingIpAssociation },
];
