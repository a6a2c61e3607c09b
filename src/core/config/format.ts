// What `tenrec config show` prints: the effective configuration as INI, each value followed
// by where it came from. Secrets and passwords inside URLs are masked. The trailing
// `# source` comments are for reading: oslo-style INI has no inline comments, so the output
// is not meant to be fed back as a file.
import type { Config } from './config.ts';
import { showValue } from './mask.ts';

export function formatConfig(config: Config): string {
  const blocks = new Map<string, string[]>();
  for (const { section, key, value, source } of config.entries()) {
    const shown = showValue(config.spec(section, key)!, value).replace(/\n/g, '\n    ');
    const lines = blocks.get(section) ?? [];
    lines.push(`${`${key} = ${shown}`.trimEnd()}  # ${source}`);
    blocks.set(section, lines);
  }
  return [...blocks].map(([section, lines]) => `[${section}]\n${lines.join('\n')}\n`).join('\n');
}
