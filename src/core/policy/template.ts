import { PolicySyntaxError } from './errors.ts';
import type { Target } from './types.ts';

/**
 * The text form oslo.policy compares, which is Python's `str()`: booleans are 'True'/'False'
 * and null is 'None'. Lists and objects render as JSON (Python would render its repr).
 */
export function policyString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null) return 'None';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * A target value by key. The literal key wins ('target.user.domain_id' as one key, which is how
 * Keystone flattens its targets); otherwise a dotted key walks nested objects, trying each
 * split so that partly flattened targets work too. Undefined means missing.
 */
export function lookupTarget(target: unknown, key: string): unknown {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) return undefined;
  const record = target as Record<string, unknown>;
  if (Object.hasOwn(record, key)) return record[key];
  for (let dot = key.indexOf('.'); dot !== -1; dot = key.indexOf('.', dot + 1)) {
    const head = key.slice(0, dot);
    if (!Object.hasOwn(record, head)) continue;
    const found = lookupTarget(record[head], key.slice(dot + 1));
    if (found !== undefined) return found;
  }
  return undefined;
}

type Part = string | { key: string };

/**
 * The right-hand side of a check. oslo.policy applies Python's `match % target`, so `%(key)s`
 * takes a target value and `%%` is a percent sign. Anything else after a '%' makes Python
 * raise at check time; we reject it when the rule is parsed instead.
 */
export class Template {
  private constructor(
    readonly source: string,
    private readonly parts: readonly Part[],
  ) {}

  /** Text compared as written, with no substitution (a quoted right-hand side). */
  static literal(text: string): Template {
    return new Template(text, [text]);
  }

  static compile(source: string): Template {
    const parts: Part[] = [];
    let text = '';
    let i = 0;
    while (i < source.length) {
      const percent = source.indexOf('%', i);
      if (percent === -1) {
        text += source.slice(i);
        break;
      }
      text += source.slice(i, percent);
      if (source[percent + 1] === '%') {
        text += '%';
        i = percent + 2;
        continue;
      }
      const close = source.indexOf(')', percent);
      if (source[percent + 1] !== '(' || close === -1 || source[close + 1] !== 's') {
        throw new PolicySyntaxError({
          text: source,
          reason: "a '%' must start a '%(key)s' substitution or be doubled as '%%'",
        });
      }
      if (text !== '') parts.push(text);
      text = '';
      parts.push({ key: source.slice(percent + 2, close) });
      i = close + 2;
    }
    if (text !== '' || parts.length === 0) parts.push(text);
    return new Template(source, parts);
  }

  /** The text with substitutions made, or undefined when a key is missing from the target. */
  render(target: Target): string | undefined {
    let out = '';
    for (const part of this.parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = lookupTarget(target, part.key);
      if (value === undefined) return undefined;
      out += policyString(value);
    }
    return out;
  }
}
