// The `tenrec` command (bin/tenrec.js loads this through tsx). Commands that serve (up,
// serve) end the process themselves through the launcher on SIGTERM/SIGINT.
import { runCli } from './cli.ts';

const code = await runCli(process.argv.slice(2), {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  env: process.env,
});
process.exit(code);
