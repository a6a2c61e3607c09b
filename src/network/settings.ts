// The networking service's configuration section ([network] in tenrec.conf).
import { defineSection, int, list, str, url } from '../core/config/index.ts';

export const networkSection = defineSection('network', {
  connection: url({ help: 'Database URL of the networking service (SQLAlchemy style). Empty in the all-in-one: a SQLite file in the state directory.' }),
  port: int({ default: 9696, min: 0, max: 65535, help: 'Port the networking API listens on.' }),
  public_endpoint: str({ help: 'Base URL clients reach the networking API at, used in links. Empty: taken from the request.' }),
  base_mac: str({ default: 'fa:16:3e:00:00:00', help: 'MAC addresses of new ports start with the non-zero octets of this.' }),
  global_physnet_mtu: int({ default: 1500, min: 68, help: 'MTU of the underlying physical network.' }),
  tenant_network_types: list({ default: ['vxlan'], help: 'Network types of project networks, in order of preference (vxlan, vlan, local).' }),
  flat_networks: list({ default: ['public'], help: 'Physical networks flat networks may use.' }),
  network_vlan_ranges: list({ default: ['public:100:199'], help: 'physnet:min:max VLAN ranges project networks are given from.' }),
  vni_ranges: list({ default: ['1:65535'], help: 'min:max VXLAN ids project networks are given from.' }),
  default_availability_zone: str({ default: 'nova', help: 'The availability zone networks and routers are in.' }),
  quota_network: int({ default: 100, min: -1, help: 'Networks per project; -1 is unlimited.' }),
  quota_subnet: int({ default: 100, min: -1, help: 'Subnets per project.' }),
  quota_port: int({ default: 500, min: -1, help: 'Ports per project.' }),
  quota_router: int({ default: 10, min: -1, help: 'Routers per project.' }),
  quota_floatingip: int({ default: 50, min: -1, help: 'Floating IPs per project.' }),
  quota_security_group: int({ default: 10, min: -1, help: 'Security groups per project.' }),
  quota_security_group_rule: int({ default: 100, min: -1, help: 'Security group rules per project.' }),
  quota_subnetpool: int({ default: -1, min: -1, help: 'Subnet pools per project.' }),
  auth_url: url({ default: 'http://127.0.0.1:5000/v3', help: 'Identity endpoint tokens are validated against.' }),
  service_username: str({ default: 'network', help: 'The service user the networking service authenticates as.' }),
  service_password: str({ help: 'Its password.', secret: true }),
  service_project: str({ default: 'service', help: 'The project the service user is scoped to.' }),
  token_cache_seconds: int({ default: 30, min: 0, help: 'How long a validated token is trusted without asking identity again.' }),
  policy_file: str({ help: 'A policy.yaml whose rules override the defaults.' }),
});
