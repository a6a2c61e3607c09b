// Helpers for the CLI's tests: the real `bin/tenrec.js` in a child process with a clean
// environment (its own HOME, no TENREC_* or OS_* from the developer's shell), free ports,
// and commands run in-process with their output captured.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli.ts';

export const BIN = fileURLToPath(new URL('../../bin/tenrec.js', import.meta.url));

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The test's environment minus anything that would reach the real user's config or cloud. */
export function childEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('TENREC_') || key.startsWith('OS_') || key === 'XDG_CONFIG_HOME') continue;
    env[key] = value;
  }
  // The cheapest password hash the configuration allows: tests are not about hashing.
  return { ...env, HOME: home, TENREC_IDENTITY_PASSWORD_HASH_COST: '10', TENREC_DEFAULT_LOG_LEVEL: 'warn', ...extra };
}

export interface TenrecProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** resolves with stdout once it matches; rejects when the process exits first */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** exit code, or the signal name when killed by one */
  exited: Promise<number | string>;
}

export function spawnTenrec(args: string[], env: Record<string, string>, cwd?: string): TenrecProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
        const check = () => pattern.test(out) && finish();
        const onExit = (code: number | string) => finish(new Error(`exited (${code}) before ${pattern}\nstdout: ${out}\nstderr: ${err}`));
        function finish(error?: Error) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          if (error) reject(error);
          else resolve(out);
        }
        child.stdout!.on('data', check);
        void exited.then(onExit);
        check();
      }),
  };
}

/** Runs a command to completion in a child process. */
export async function tenrec(args: string[], env: Record<string, string>): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = spawnTenrec(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Runs a command in this process (for commands that return: not up or serve). */
export async function tenrecInProcess(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (t) => void (stdout += `${t}\n`), err: (t) => void (stderr += `${t}\n`), env });
  return { code, stdout, stderr };
}
