// The networking service's tables. Booleans are 0/1 integers, timestamps ISO strings, lists
// and objects JSON text (core/db conventions). Every resource carries Neutron's standard
// attributes: created_at, updated_at, revision_number (and tags, in the tag table).
//
// Concurrency is settled by the database, not by locks in a process: an address is one row
// of ip_allocation with the primary key (subnet_id, ip_address), so two ports can never get
// the same address whichever API process hands it out; likewise MAC addresses per network,
// segmentation ids, floating IP addresses and security group rule fingerprints are unique.

interface Standard {
  created_at: string;
  updated_at: string;
  revision_number: number;
}

export interface NetworkTable extends Standard {
  id: string;
  project_id: string;
  name: string;
  description: string;
  admin_state_up: number;
  status: string;
  shared: number;
  router_external: number;
  mtu: number;
  port_security_enabled: number;
  /** JSON list */
  availability_zone_hints: string;
  is_default: number;
}

/** A network's segment; provider:* attributes are its first segment's. */
export interface SegmentTable extends Standard {
  id: string;
  network_id: string;
  name: string | null;
  description: string;
  network_type: string;
  /** '' when the type has none (vxlan, local) so uniqueness holds */
  physical_network: string;
  /** null for local; 0 for flat (one flat network per physical network) */
  segmentation_id: number | null;
  segment_index: number;
}

export interface SubnetTable extends Standard {
  id: string;
  project_id: string;
  network_id: string;
  segment_id: string | null;
  subnetpool_id: string | null;
  name: string;
  description: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: number;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  /** JSON [{start, end}] */
  allocation_pools: string;
  /** JSON list of addresses */
  dns_nameservers: string;
  /** JSON [{destination, nexthop}] */
  host_routes: string;
}

export interface SubnetPoolTable extends Standard {
  id: string;
  project_id: string;
  name: string;
  description: string;
  ip_version: number;
  /** JSON list of CIDRs */
  prefixes: string;
  default_prefixlen: number;
  min_prefixlen: number;
  max_prefixlen: number;
  shared: number;
  is_default: number;
  default_quota: number | null;
  address_scope_id: string | null;
}

export interface PortTable extends Standard {
  id: string;
  project_id: string;
  network_id: string;
  name: string;
  description: string;
  admin_state_up: number;
  status: string;
  mac_address: string;
  device_id: string;
  device_owner: string;
  binding_host_id: string;
  binding_vif_type: string;
  binding_vnic_type: string;
  /** JSON object */
  binding_vif_details: string;
  /** JSON object */
  binding_profile: string;
  port_security_enabled: number;
  /** JSON [{ip_address, mac_address}] */
  allowed_address_pairs: string;
  /** JSON [{opt_name, opt_value, ip_version}] */
  extra_dhcp_opts: string;
  dns_name: string;
}

/** One address of one port: the primary key is what makes allocation race-free. */
export interface IpAllocationTable {
  subnet_id: string;
  ip_address: string;
  port_id: string;
  network_id: string;
}

export interface PortSecurityGroupTable {
  port_id: string;
  security_group_id: string;
}

export interface RouterTable extends Standard {
  id: string;
  project_id: string;
  name: string;
  description: string;
  admin_state_up: number;
  status: string;
  /** the external network of the gateway, null when none */
  gw_network_id: string | null;
  gw_port_id: string | null;
  enable_snat: number;
  distributed: number;
  ha: number;
  /** JSON [{destination, nexthop}] */
  routes: string;
  /** JSON list */
  availability_zone_hints: string;
}

/** A router's interface and gateway ports. */
export interface RouterPortTable {
  router_id: string;
  port_id: string;
  /** network:router_interface or network:router_gateway */
  port_type: string;
}

export interface FloatingIpTable extends Standard {
  id: string;
  project_id: string;
  description: string;
  floating_network_id: string;
  floating_ip_address: string;
  /** the port on the external network holding the address (device_owner network:floatingip) */
  floating_port_id: string;
  fixed_port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
  status: string;
  dns_name: string;
  dns_domain: string;
}

export interface SecurityGroupTable extends Standard {
  id: string;
  project_id: string;
  name: string;
  description: string;
  stateful: number;
}

/** Which group is a project's `default`: one row per project makes its creation race-free. */
export interface DefaultSecurityGroupTable {
  project_id: string;
  security_group_id: string;
}

export interface SecurityGroupRuleTable extends Standard {
  id: string;
  project_id: string;
  security_group_id: string;
  direction: string;
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id: string | null;
  description: string;
  /** the rule's normalised content; unique per group, so a duplicate rule is a 409 even under races */
  fingerprint: string;
}

export interface TagTable {
  resource_type: string;
  resource_id: string;
  tag: string;
}

export interface QuotaTable {
  project_id: string;
  resource: string;
  hard_limit: number;
}

export interface NetworkDatabase {
  network: NetworkTable;
  network_segment: SegmentTable;
  subnet: SubnetTable;
  subnetpool: SubnetPoolTable;
  port: PortTable;
  ip_allocation: IpAllocationTable;
  port_security_group: PortSecurityGroupTable;
  router: RouterTable;
  router_port: RouterPortTable;
  floatingip: FloatingIpTable;
  security_group: SecurityGroupTable;
  default_security_group: DefaultSecurityGroupTable;
  security_group_rule: SecurityGroupRuleTable;
  tag: TagTable;
  quota: QuotaTable;
}
