// The import boundary of ARCHITECTURE.md: core imports no service; clients import only core
// and clients; a service imports only core, clients and itself; cli may import anything.
// src/testing (in-process clouds for test suites) may import anything, and only test files
// may import it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The top-level folder under src/ a path is in: 'core', 'clients', 'cli' or a service name. */
const area = (path: string) => relative(SRC, path).split('/')[0]!;

function allowed(from: string, to: string, file: string): boolean {
  if (to === 'testing' && from !== 'testing') return file.endsWith('.test.ts') || from === 'cli';
  if (from === to || from === 'cli' || from === 'testing') return true;
  if (from === 'core') return false;
  if (from === 'clients') return to === 'core';
  return to === 'core' || to === 'clients';
}

const problems: string[] = [];
for (const file of files(SRC)) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(SRC + '/')) continue;
    const [from, to] = [area(file), area(target)];
    if (!allowed(from, to, file)) problems.push(`${relative('.', file)}: ${from} may not import ${to} ('${spec}')`);
  }
}
if (problems.length) {
  console.error(`import boundary violations:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('import boundaries: ok');
