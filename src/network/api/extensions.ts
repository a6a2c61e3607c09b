// GET /v2.0/extensions and /v2.0/extensions/{alias}: the upstream extensions this service
// implements, and only those (clients and Tempest decide what to use from this list). The
// names, descriptions and dates are Neutron's own (neutron-lib's API definitions).
import type { FastifyInstance } from 'fastify';
import { typedError } from '../../core/http/index.ts';
import { authorize, type NetworkDeps } from './common.ts';

interface Extension {
  alias: string;
  name: string;
  description: string;
  updated: string;
}

export const EXTENSIONS: Extension[] = [
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds external network attribute to network resource.', updated: '2013-01-14T10:00:00-00:00' },
  { alias: 'router', name: 'Neutron L3 Router', description: 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.', updated: '2012-07-20T10:00:00-00:00' },
  { alias: 'ext-gw-mode', name: 'Neutron L3 Configurable external gateway mode', description: 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway', updated: '2013-03-28T10:00:00-00:00' },
  { alias: 'extraroute', name: 'Neutron Extra Route', description: 'Extra routes configuration for L3 router', updated: '2013-02-01T10:00:00-00:00' },
  { alias: 'fip-port-details', name: 'Floating IP Port Details Extension', description: 'Add port_details attribute to Floating IP resource', updated: '2018-04-09T10:00:00-00:00' },
  { alias: 'dvr', name: 'Distributed Virtual Router', description: 'Enables configuration of Distributed Virtual Routers.', updated: '2014-06-1T10:00:00-00:00' },
  { alias: 'l3-ha', name: 'HA Router extension', description: 'Adds HA capability to routers.', updated: '2014-04-26T00:00:00-00:00' },
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.', updated: '2012-10-05T10:00:00-00:00' },
  { alias: 'quotas', name: 'Quota management support', description: 'Expose functions for quotas management per project', updated: '2012-07-29T10:00:00-00:00' },
  { alias: 'quota_details', name: 'Quota details management support', description: 'Expose functions for quotas usage statistics per project', updated: '2017-02-10T10:00:00-00:00' },
  { alias: 'provider', name: 'Provider Network', description: 'Expose mapping of virtual networks to physical networks', updated: '2012-09-07T10:00:00-00:00' },
  { alias: 'multi-provider', name: 'Multi Provider Network', description: 'Expose mapping of virtual networks to multiple physical networks', updated: '2013-06-27T10:00:00-00:00' },
  { alias: 'binding', name: 'Port Binding', description: 'Expose port bindings of a virtual port to external application', updated: '2014-02-03T10:00:00-00:00' },
  { alias: 'allowed-address-pairs', name: 'Allowed Address Pairs', description: 'Provides allowed address pairs', updated: '2013-07-23T10:00:00-00:00' },
  { alias: 'extra_dhcp_opt', name: 'Neutron Extra DHCP options', description: 'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)', updated: '2013-03-17T12:00:00-00:00' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security', updated: '2012-07-23T10:00:00-00:00' },
  { alias: 'standard-attr-description', name: 'standard-attr-description', description: 'Extension to add descriptions to standard attributes', updated: '2016-02-10T10:00:00-00:00' },
  { alias: 'standard-attr-revisions', name: 'Resource revision numbers', description: 'This extension will display the revision number of neutron resources.', updated: '2016-04-11T10:00:00-00:00' },
  { alias: 'standard-attr-timestamp', name: 'Resource timestamps', description: 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.', updated: '2016-09-12T10:00:00-00:00' },
  { alias: 'standard-attr-tag', name: 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', description: 'Enables to set tag on resources with standard attribute.', updated: '2017-01-01T00:00:00-00:00' },
  { alias: 'network-ip-availability', name: 'Network IP Availability', description: 'Provides IP availability data for each network and subnet.', updated: '2015-09-24T00:00:00-00:00' },
  { alias: 'availability_zone', name: 'Availability Zone', description: 'The availability zone extension.', updated: '2015-01-01T10:00:00-00:00' },
  { alias: 'network_availability_zone', name: 'Network Availability Zone', description: 'Availability zone support for network.', updated: '2015-01-01T10:00:00-00:00' },
  { alias: 'router_availability_zone', name: 'Router Availability Zone', description: 'Availability zone support for router.', updated: '2015-01-01T10:00:00-00:00' },
  { alias: 'subnet_allocation', name: 'Subnet Allocation', description: 'Enables allocation of subnets from a subnet pool', updated: '2015-03-30T10:00:00-00:00' },
  { alias: 'default-subnetpools', name: 'Default Subnetpools', description: 'Provides ability to mark and use a subnetpool as the default.', updated: '2016-02-18T18:00:00-00:00' },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.', updated: '2015-03-25T10:00:00-00:00' },
  { alias: 'net-mtu-writable', name: 'Network MTU (writable)', description: 'Provides a writable MTU attribute for a network resource.', updated: '2017-07-12T00:00:00-00:00' },
  { alias: 'pagination', name: 'Pagination support', description: 'Extension that indicates that pagination is enabled.', updated: '2016-06-12T00:00:00-00:00' },
  { alias: 'sorting', name: 'Sorting support', description: 'Extension that indicates that sorting is enabled.', updated: '2016-06-12T00:00:00-00:00' },
  { alias: 'project-id', name: 'project_id field enabled', description: 'Extension that indicates that project_id field is enabled.', updated: '2016-09-09T09:09:09-09:09' },
];

const view = (e: Extension) => ({ alias: e.alias, name: e.name, description: e.description, updated: e.updated, links: [] });

export function registerExtensions(app: FastifyInstance, deps: NetworkDeps): void {
  app.get('/v2.0/extensions', async (req) => {
    authorize(req, deps, 'regular_user');
    return { extensions: EXTENSIONS.map(view) };
  });

  app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', async (req) => {
    authorize(req, deps, 'regular_user');
    const found = EXTENSIONS.find((e) => e.alias === req.params.alias);
    if (!found) throw typedError(404, 'NotFound', `Extension with alias ${req.params.alias} does not exist`);
    return { extension: view(found) };
  });
}
