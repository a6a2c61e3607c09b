import { readFileSync } from 'node:fs';
import { isMap, isScalar, parseDocument } from 'yaml';
import { PolicySyntaxError } from './errors.ts';

/**
 * Reads a policy.yaml or policy.json (JSON is read as YAML, as oslo.policy does) into rule
 * name -> check string. As in oslo.policy an empty value (`name:` or `[]`) means the empty
 * rule, which always allows; any other non-string value is an error naming the rule.
 */
export function loadPolicyFile(path: string): Record<string, string> {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const problem = doc.errors[0];
  if (problem !== undefined) throw new Error(`Cannot parse policy file ${path}: ${problem.message}`);
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) throw new Error(`Policy file ${path} must be a mapping of rule names to rules`);

  for (const pair of doc.contents.items) {
    // Unquoted, `!` is a YAML tag on an empty value, so it would read as "" (always allow),
    // the opposite of what was written. oslo.policy has that trap; we refuse it.
    if (isScalar(pair.value) && pair.value.tag === '!' && pair.value.value === '') {
      const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const reason = "write '!' in quotes; bare, YAML reads it as an empty rule (always allow)";
      throw new PolicySyntaxError({ rule: name, text: '!', reason, source: path });
    }
  }
  const data = doc.toJS() as Record<string, unknown>;
  return Object.fromEntries(Object.entries(data).map(([name, value]) => [name, ruleText(name, value, path)]));
}

function ruleText(name: string, value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value) && value.length === 0) return '';
  const reason = Array.isArray(value)
    ? 'the list-of-lists rule form is not supported; write the rule as a string'
    : 'a rule must be a string';
  throw new PolicySyntaxError({ rule: name, text: JSON.stringify(value), reason, source: path });
}
