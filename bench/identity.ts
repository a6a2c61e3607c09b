// Identity throughput against a running cloud: password-auth token issues and token
// validations per second, one client and 8 concurrent clients, with median and p99 latency.
//   tenrec up &  then:  npm run bench:identity -- [--seconds 5] [--auth-url http://127.0.0.1:5000/v3]
// Credentials come from OS_* variables (source the openrc `tenrec up` wrote) or flags.
import { request, Agent } from 'node:http';
import { benchArgs } from './common.ts';

const args = benchArgs('bench/identity', {
  seconds: { type: 'string', default: '5' },
  concurrency: { type: 'string', default: '8' },
});
const url = new URL(`${args['auth-url']!.replace(/\/+$/, '').replace(/\/v3$/, '')}/v3/auth/tokens`);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const authBody = JSON.stringify({
  auth: {
    identity: { methods: ['password'], password: { user: { name: args.username, domain: { name: 'Default' }, password: args.password } } },
    scope: { project: { name: args.project, domain: { name: 'Default' } } },
  },
});

function send(method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; subject?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, subject: res.headers['x-subject-token'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const issue = () => send('POST', { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(authBody)) }, authBody);

async function run(name: string, clients: number, seconds: number, op: () => Promise<{ status: number }>, ok: number) {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const res = await op();
      latencies.push(performance.now() - t);
      if (res.status !== ok) errors++;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  console.log(
    `${name.padEnd(34)} ${String(clients).padStart(2)} client(s)  ${(latencies.length / elapsed).toFixed(1).padStart(9)} /s` +
    `  median ${pct(0.5).toFixed(2).padStart(7)} ms  p99 ${pct(0.99).toFixed(2).padStart(7)} ms  errors ${errors}`,
  );
}

const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const first = await issue();
if (first.status !== 201 || !first.subject) {
  console.error(`bench/identity: authentication failed (${first.status}) at ${url}`);
  process.exit(1);
}
const token = first.subject;
const validate = () => send('GET', { 'x-auth-token': token, 'x-subject-token': token });
console.log(`identity at ${url.origin}, ${seconds} s per measurement`);
await run('token validation (GET /v3/auth/tokens)', 1, seconds, validate, 200);
await run('token validation (GET /v3/auth/tokens)', concurrency, seconds, validate, 200);
await run('password auth (POST /v3/auth/tokens)', 1, seconds, issue, 201);
await run('password auth (POST /v3/auth/tokens)', concurrency, seconds, issue, 201);
agent.destroy();
