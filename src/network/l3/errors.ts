// Neutron's L3 faults, with its type names and wording (neutron_lib.exceptions.l3 and friends).
import { typedError } from '../../core/http/index.ts';

export const routerNotFound = (id: string) => typedError(404, 'RouterNotFound', `Router ${id} could not be found`);
export const floatingIpNotFound = (id: string) => typedError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`);

export const badRouterRequest = (msg: string) => typedError(400, 'BadRequest', `Bad router request: ${msg}.`.replace(/\.\.$/, '.'));
export const badFloatingIpRequest = (msg: string) => typedError(400, 'BadRequest', `Bad floatingip request: ${msg}.`.replace(/\.\.$/, '.'));

export const routerInUse = (routerId: string, reason = 'still has ports') =>
  typedError(409, 'RouterInUse', `Router ${routerId} ${reason}`);

export const routerInterfaceNotFound = (routerId: string, portId: string) =>
  typedError(404, 'RouterInterfaceNotFound', `Router ${routerId} does not have an interface with id ${portId}`);

export const routerInterfaceNotFoundForSubnet = (routerId: string, subnetId: string) =>
  typedError(404, 'RouterInterfaceNotFoundForSubnet', `Router ${routerId} has no interface on subnet ${subnetId}`);

export const routerInterfaceInUseByFloatingIp = (routerId: string, subnetId: string) =>
  typedError(409, 'RouterInterfaceInUseByFloatingIP',
    `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`);

export const routerInterfaceInUseByRoute = (routerId: string, subnetId: string) =>
  typedError(409, 'RouterInterfaceInUseByRoute',
    `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more routes.`);

export const gatewayInUseByFloatingIp = (routerId: string, networkId: string) =>
  typedError(409, 'RouterExternalGatewayInUseByFloatingIp',
    `Gateway cannot be updated for router ${routerId}, since a gateway to external network ${networkId} is required by one or more floating IPs.`);

export const invalidRoutes = (routes: unknown, reason: string) =>
  typedError(400, 'InvalidRoutes', `Invalid format for routes: ${JSON.stringify(routes)}, ${reason}`);

export const portInUse = (portId: string, networkId: string, deviceId: string) =>
  typedError(409, 'PortInUse',
    `Unable to complete operation on port ${portId} for network ${networkId}. Port already has an attached device ${deviceId}.`);

export const externalGatewayForFloatingIpNotFound = (networkId: string, subnetId: string, portId: string) =>
  typedError(404, 'ExternalGatewayForFloatingIPNotFound',
    `External network ${networkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${portId} with a Floating IP.`);

export const floatingIpPortAlreadyAssociated = (address: string, fipId: string, portId: string, fixedIp: string, networkId: string) =>
  typedError(409, 'FloatingIPPortAlreadyAssociated',
    `Cannot associate floating IP ${address} (${fipId}) with port ${portId} using fixed IP ${fixedIp}, as that fixed IP already has a floating IP on external network ${networkId}.`);

export const ipAddressAlreadyAllocated = (ip: string, subnetId: string) =>
  typedError(409, 'IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${subnetId}`);
