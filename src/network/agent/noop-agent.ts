// The noop agent: a per-host agent with no datapath. It answers the agent interface like the
// Linux agent will, so ports bound to its host become ACTIVE (DOWN when administratively
// down) and everything else is accepted and ignored. For tests and laptops.
import type { Bus, BusServer } from '../../core/bus/index.ts';
import { AGENT_TOPIC, SERVER_TOPIC, type AgentPort } from './events.ts';

export async function startNoopAgent(bus: Bus, host: string): Promise<BusServer> {
  const report = async (port: AgentPort) => {
    await bus.call(SERVER_TOPIC, 'update_port_status', {
      port_id: port.id,
      status: port.admin_state_up ? 'ACTIVE' : 'DOWN',
      host,
    });
  };
  const ignore = () => undefined;
  const server = await bus.serve(AGENT_TOPIC, host, {
    port_bound: ({ port }: { port: AgentPort }) => report(port),
    port_updated: ({ port }: { port: AgentPort }) => report(port),
    port_unbound: ignore,
    network_updated: ignore,
    network_deleted: ignore,
    router_updated: ignore,
    router_deleted: ignore,
    security_group_updated: ignore,
  });
  // Catch up on ports bound here while the agent was away, as a real agent does at start.
  const ports = await bus.call<AgentPort[]>(SERVER_TOPIC, 'get_ports_for_host', { host }, { timeoutMs: 10000 }).catch(() => []);
  for (const port of ports) await report(port).catch(() => undefined);
  return server;
}
