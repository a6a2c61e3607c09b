// Networking API figures against a running cloud: port create and delete rates (1 and 8
// concurrent clients), then GET /v2.0/ports latency with 10,000 ports in the project.
//   tenrec up &   then:   source .tenrec/openrc && npm run bench:network -- [--ports 10000]
import { RestClient } from '../src/clients/http.ts';
import { benchArgs, benchLogin } from './common.ts';

const args = benchArgs('bench/network', {
  ports: { type: 'string', default: '10000' },
  sample: { type: 'string', default: '400' },
});
const { token, projectId, endpoint } = await benchLogin('bench/network', args, 'network');
const api = new RestClient(endpoint, token);

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${at(0.5).toFixed(2)} ms  p99 ${at(0.99).toFixed(2)} ms`;
};

/** Runs `op` `count` times with `clients` at once; prints the rate and latencies. */
async function measure(label: string, count: number, clients: number, op: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < count) {
      const i = next++;
      const s = performance.now();
      await op(i);
      latencies.push(performance.now() - s);
    }
  }));
  const seconds = (performance.now() - t) / 1000;
  console.log(`${label.padEnd(28)} ${String(clients).padStart(2)} client(s)  ${(count / seconds).toFixed(0).padStart(6)} /s  ${stats(latencies)}`);
}

const must = async (p: Promise<{ status: number; body: any }>, status: number) => {
  const res = await p;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
};

const total = Number(args.ports);
const sample = Number(args.sample);
const saved = await must(api.send('GET', `/v2.0/quotas/${projectId}`), 200);
await must(api.send('PUT', `/v2.0/quotas/${projectId}`, { body: { quota: { port: -1 } } }), 200);
const net = (await must(api.send('POST', '/v2.0/networks', { body: { network: { name: `bench-${process.pid}` } } }), 201)).network;
await must(api.send('POST', '/v2.0/subnets', { body: { subnet: { network_id: net.id, ip_version: 4, cidr: '10.200.0.0/16', name: 'bench' } } }), 201);
const createPort = async () => (await must(api.send('POST', '/v2.0/ports', { body: { port: { network_id: net.id } } }), 201)).port.id as string;

try {
  console.log(`networking at ${endpoint}`);
  for (const clients of [1, 8]) {
    const ids: string[] = [];
    await measure('port create', sample, clients, async () => { ids.push(await createPort()); });
    await measure('port delete', ids.length, clients, async (i) => { await must(api.send('DELETE', `/v2.0/ports/${ids[i]}`), 204); });
  }
  const ids: string[] = [];
  await measure(`filling to ${total} ports`, total, 8, async () => { ids.push(await createPort()); });
  for (const [label, path] of [
    [`GET /v2.0/ports (${total})`, '/v2.0/ports'],
    ['GET /v2.0/ports?network_id=', `/v2.0/ports?network_id=${net.id}&limit=100`],
    ['GET /v2.0/ports/{id}', `/v2.0/ports/${ids[0]}`],
  ] as const) {
    await measure(label, 20, 1, async () => { await must(api.send('GET', path), 200); });
  }
  await measure('deleting them', ids.length, 8, async (i) => { await must(api.send('DELETE', `/v2.0/ports/${ids[i]}`), 204); });
} finally {
  await api.send('DELETE', `/v2.0/networks/${net.id}`);
  await api.send('PUT', `/v2.0/quotas/${projectId}`, { body: { quota: { port: saved.quota.port } } });
}
