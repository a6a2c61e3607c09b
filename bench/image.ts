// Image data throughput against a running cloud: a 1 GiB (by default) upload and download
// through the Image API in MB/s, beside the raw write/read rate of the store's own directory
// and the upload rate of a bare Node server writing to it, measured in the same run, and the server's resident memory before and at its peak during
// each transfer (it must not grow with the image size: data is streamed, never held).
//   tenrec up &   then:   source .tenrec/openrc && npm run bench:image -- [--mib 1024]
//     [--dir .tenrec/images/local] [--server-pid <pid of tenrec>] [--store swift]
// With --store the image goes to that store (X-Image-Meta-Store); give --dir the directory
// that store writes to (for the all-in-one's swift store: .tenrec/object-store/devices/d1).
import { request, type IncomingMessage } from 'node:http';
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execFileSync, spawn } from 'node:child_process';
import { benchArgs, benchLogin } from './common.ts';

const args = benchArgs('bench/image', {
  mib: { type: 'string', default: '1024' },
  dir: { type: 'string', default: join(process.env.TENREC_STATE_DIR ?? '.tenrec', 'images', 'local') },
  'server-pid': { type: 'string' },
  store: { type: 'string' },
  // root only: empty the page cache before each read, so reads come from the disk
  'drop-caches': { type: 'boolean', default: false },
});
const total = Number(args.mib) * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;
const pattern = randomBytes(CHUNK); // reused, so the client spends no time making data

/** total bytes of incompressible-looking data, streamed from one reused buffer */
function source(): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(CHUNK, total - sent);
      sent += n;
      this.push(n === CHUNK ? pattern : pattern.subarray(0, n));
    },
  });
}

function serverPid(): number | undefined {
  if (args['server-pid']) return Number(args['server-pid']);
  try {
    return Number(execFileSync('pgrep', ['-f', 'tenrec.js (up|serve image)'], { encoding: 'utf8' }).trim().split('\n')[0]);
  } catch {
    return undefined;
  }
}

const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** Runs `work`, sampling the server's RSS every 50 ms; returns seconds taken and peak RSS. */
async function measured(pid: number | undefined, work: () => Promise<void>) {
  let peak = pid ? rssMiB(pid) : NaN;
  const timer = pid ? setInterval(() => { peak = Math.max(peak, rssMiB(pid)); }, 50) : undefined;
  const t = performance.now();
  await work();
  const seconds = (performance.now() - t) / 1000;
  if (timer) clearInterval(timer);
  return { seconds, peak };
}

function send(method: string, url: URL, headers: Record<string, string | number>, body?: Readable): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, resolve);
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

async function json(res: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of res) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

function dropCaches(): void {
  if (!args['drop-caches']) return;
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/** Seconds curl takes to download `url` (page cache dropped first, as for the other reads); undefined without curl. */
function curlSeconds(url: string, token: string): number | undefined {
  dropCaches();
  try {
    const out = execFileSync('curl', ['-sf', '-o', '/dev/null', '-w', '%{time_total} %{size_download}', '-H', `x-auth-token: ${token}`, url], { encoding: 'utf8' });
    const [seconds, size] = out.trim().split(' ').map(Number);
    if (size !== total) throw new Error(`curl downloaded ${size} bytes of ${total}`);
    return seconds;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const mbps = (seconds: number) => (total / 1e6 / seconds).toFixed(0);

const { token, endpoint: base } = await benchLogin('bench/image', args, 'image');
const pid = serverPid();

// raw disk rate of the store directory, same data, same run
const rawFile = join(args.dir!, `.bench-raw-${process.pid}`);
const rawWrite = await measured(undefined, async () => {
  await pipeline(source(), createWriteStream(rawFile, { highWaterMark: CHUNK }));
  const fd = openSync(rawFile, 'r+'); // the store syncs before it renames into place; so does this
  fsyncSync(fd);
  closeSync(fd);
});
dropCaches();
const rawRead = await measured(undefined, async () => {
  for await (const _ of createReadStream(rawFile, { highWaterMark: CHUNK })) void _;
});
rmSync(rawFile, { force: true });

// What a bare Node server does with the same upload on this machine: a child process that
// writes the body to the same directory and fsyncs, nothing else (no hashing, no database).
// The API's upload pays for its two digests on top of this.
const BARE_SERVER = `
const { createServer } = require('node:http');
const { open, rm } = require('node:fs/promises');
const server = createServer(async (req, res) => {
  const fh = await open(process.argv[1], 'w');
  let at = 0;
  for await (const chunk of req) { await fh.write(chunk, 0, chunk.length, at); at += chunk.length; }
  await fh.sync(); await fh.close(); await rm(process.argv[1]);
  res.end(String(at));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
const bare = spawn(process.execPath, ['-e', BARE_SERVER, join(args.dir!, `.bench-bare-${process.pid}`)], { stdio: ['ignore', 'pipe', 'inherit'] });
const barePort = await new Promise<number>((resolve) => bare.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
const bareUpload = await measured(undefined, async () => {
  const res = await send('PUT', new URL(`http://127.0.0.1:${barePort}/`), { 'content-length': total }, source());
  for await (const _ of res) void _;
});
bare.kill();

// What an upload cannot beat on this CPU: Glance's checksum (MD5) and os_hash_value (SHA-512)
// over every byte. MD5 is sequential, so its one-core rate bounds an upload on any core count.
const hashSeconds = (algorithm: string) => {
  const hash = createHash(algorithm);
  const t = performance.now();
  for (let done = 0; done < total; done += CHUNK) hash.update(pattern);
  hash.digest();
  return (performance.now() - t) / 1000;
};
const md5Seconds = hashSeconds('md5');
const sha512Seconds = hashSeconds('sha512');

const created = await json(await send('POST', new URL(`${base}/v2/images`), { 'x-auth-token': token, 'content-type': 'application/json' },
  Readable.from([JSON.stringify({ name: `bench-${process.pid}`, disk_format: 'raw', container_format: 'bare' })])));
const baseline = pid ? rssMiB(pid) : NaN;
const upload = await measured(pid, async () => {
  const res = await send('PUT', new URL(`${base}/v2/images/${created.id}/file`),
    { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': total, ...(args.store ? { 'x-image-meta-store': args.store } : {}) }, source());
  await json(res);
  if (res.statusCode !== 204) throw new Error(`upload answered ${res.statusCode}`);
});
let received = 0;
dropCaches();
const download = await measured(pid, async () => {
  const res = await send('GET', new URL(`${base}/v2/images/${created.id}/file`), { 'x-auth-token': token });
  for await (const chunk of res) received += (chunk as Buffer).length;
});
if (received !== total) throw new Error(`downloaded ${received} bytes of ${total}`);
// Node's own HTTP client spends a core of this machine's two on reading; curl, when there is
// one, costs less and shows more of what the server can send.
const curlDownload = curlSeconds(`${base}/v2/images/${created.id}/file`, token);
await json(await send('DELETE', new URL(`${base}/v2/images/${created.id}`), { 'x-auth-token': token }));

const mem = (peak: number) => (pid ? `server RSS ${baseline.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB` : 'server RSS not sampled (no --server-pid)');
console.log(`image data, ${args.mib} MiB, store ${args.store ?? '(the default)'}, directory ${args.dir}${args['drop-caches'] ? ', page cache dropped before reads' : ', reads may come from the page cache'}`);
console.log(`raw disk write ${mbps(rawWrite.seconds).padStart(6)} MB/s   raw disk read ${mbps(rawRead.seconds).padStart(6)} MB/s`);
console.log(`hashing, one core: MD5 ${mbps(md5Seconds)} MB/s, SHA-512 ${mbps(sha512Seconds)} MB/s, both in turn ${mbps(md5Seconds + sha512Seconds)} MB/s`);
console.log(`bare Node server receiving and writing the same upload: ${mbps(bareUpload.seconds)} MB/s`);
console.log(`API upload     ${mbps(upload.seconds).padStart(6)} MB/s (${((rawWrite.seconds / upload.seconds) * 100).toFixed(0)}% of raw write, ${((bareUpload.seconds / upload.seconds) * 100).toFixed(0)}% of the bare server)   ${mem(upload.peak)}`);
console.log(`API download   ${mbps(download.seconds).padStart(6)} MB/s (${((rawRead.seconds / download.seconds) * 100).toFixed(0)}% of raw read)   ${mem(download.peak)}`);
if (curlDownload) console.log(`API download   ${mbps(curlDownload).padStart(6)} MB/s with curl as the client (${((rawRead.seconds / curlDownload) * 100).toFixed(0)}% of raw read)`);
