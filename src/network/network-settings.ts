// The settings the networking API reads at run time, derived from [network] once at start.
export interface NetworkSettings {
  publicEndpoint?: string;
  baseMac: string;
  globalPhysnetMtu: number;
  tenantNetworkTypes: string[];
  flatNetworks: string[];
  /** physnet → [min, max] */
  vlanRanges: { physnet: string; min: number; max: number }[];
  vniRanges: { min: number; max: number }[];
  defaultAvailabilityZone: string;
  /** resource → default per-project limit; -1 unlimited */
  quotaDefaults: Record<string, number>;
}
