// The INI dialect oslo.config reads:
// - `[section]` headers; names are case-sensitive (`[DEFAULT]` is not `[default]`) and a
//   section may appear more than once (its blocks merge).
// - `key = value` or `key: value`, split at whichever of `=` and `:` comes first, so
//   `connection = mysql://u:p@h/db` keeps its colons. Keys are normalised `-` → `_`.
// - Values are trimmed; one pair of matching surrounding quotes is removed (`"  x "` keeps
//   its spaces). There are no inline comments: `a = b # c` has the value `b # c`.
// - A line starting with whitespace continues the previous value, joined with a newline.
//   A blank line ends a value, so an indented line after a blank line is an error rather
//   than silently joining the value above. Like oslo, an indented `#` line right after a
//   value is part of that value; elsewhere it is a comment.
// - Lines starting with `#` or `;` are comments; blank lines are ignored.
// - A key repeated within a section: the last one wins.
import { ConfigError } from './errors.ts';

/** Options by section, keys normalised. Throws ConfigError naming `fileName:line`. */
export function parseIni(text: string, fileName: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let pending: { key: string; lines: string[] } | undefined; // the value continuation lines extend

  const flush = () => {
    if (pending && current) {
      // `key =` followed by indented lines: the value starts on the first indented line.
      const lines = pending.lines.length > 1 && pending.lines[0] === '' ? pending.lines.slice(1) : pending.lines;
      current.set(pending.key, lines.join('\n'));
    }
    pending = undefined;
  };
  const fail = (lineNo: number, problem: string): never => {
    throw new ConfigError(`${fileName}:${lineNo}: ${problem}`, { origin: fileName });
  };

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trimEnd();
    if (line === '') {
      flush();
      continue;
    }
    if (/^\s/.test(line)) {
      if (pending) pending.lines.push(line.trim());
      else if (!/^[#;]/.test(line.trim())) {
        fail(lineNo, 'indented line continues no value (a blank line or a section header ends a value)');
      }
      continue;
    }
    flush();
    if (line.startsWith('#') || line.startsWith(';')) continue;

    if (line.startsWith('[')) {
      const header = /^\[([^[\]]*)\]$/.exec(line);
      const name = header?.[1].trim();
      if (!name) fail(lineNo, `malformed section header ${JSON.stringify(line)}: expected [name]`);
      current = sections.get(name!) ?? new Map<string, string>();
      sections.set(name!, current);
      continue;
    }

    // The line itself is not echoed: it may hold a password.
    const separator = line.search(/[=:]/);
    if (separator < 0) fail(lineNo, "expected 'key = value', '[section]' or a comment");
    const key = line.slice(0, separator).trim().replace(/-/g, '_');
    if (key === '') fail(lineNo, "missing option name before '=' or ':'");
    if (!current) fail(lineNo, `option '${key}' appears before any [section] header`);
    pending = { key, lines: [unquote(line.slice(separator + 1).trim())] };
  }
  flush();
  return sections;
}

/** Removes one pair of matching surrounding quotes, as oslo.config does. */
function unquote(value: string): string {
  const quoted = value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0];
  return quoted ? value.slice(1, -1) : value;
}
