// What the ports code calls when a port goes away: its floating IPs let go of it. Kept apart
// from floatingips.ts so the ports code can import it without an import cycle.
import type { NetTx } from '../db/database.ts';

const stamp = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Disassociates every floating IP associated with `portId` (status DOWN, revision bumped),
 * inside the deleting transaction. Returns the ids of the floating IPs it changed.
 */
export async function disassociateFloatingIpsOfPort(tx: NetTx, portId: string): Promise<string[]> {
  const fips = await tx.selectFrom('floatingip').select(['id', 'revision_number']).where('fixed_port_id', '=', portId).execute();
  for (const fip of fips) {
    await tx.updateTable('floatingip')
      .set({ fixed_port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', updated_at: stamp(), revision_number: Number(fip.revision_number) + 1 })
      .where('id', '=', fip.id).execute();
  }
  return fips.map((f) => f.id);
}
