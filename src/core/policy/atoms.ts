import {
  FalseCheck,
  GenericCheck,
  RoleCheck,
  RuleCheck,
  TrueCheck,
  UnsupportedCheck,
  type Check,
} from './checks.ts';
import { PolicySyntaxError } from './errors.ts';
import { Template } from './template.ts';

/** Whether a token is wrapped in a matching pair of quotes. */
export function isQuoted(text: string): boolean {
  return text.length >= 2 && (text[0] === "'" || text[0] === '"') && text.at(-1) === text[0];
}

const INTEGER = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][-+]?\d+)?$/;

/**
 * The left side as a literal, rendered as Python's `str()` would render it, or undefined when
 * it is a credentials path. oslo.policy tries `ast.literal_eval` on it; we accept the literals
 * a policy can sensibly hold: quoted strings, True, False, None and numbers.
 */
function literalKind(kind: string): string | undefined {
  if (isQuoted(kind)) return kind.slice(1, -1);
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind;
  if (INTEGER.test(kind)) return BigInt(kind).toString();
  if (FLOAT.test(kind)) {
    const text = String(Number(kind));
    return /^-?\d+$/.test(text) ? `${text}.0` : text;
  }
  return undefined;
}

/** The right side: a quoted literal as written, otherwise a `%(key)s` template. */
function matchTemplate(match: string): Template {
  return isQuoted(match) ? Template.literal(match.slice(1, -1)) : Template.compile(match);
}

/** One check token, already cleared of the parentheses around it: `@`, `!` or `kind:match`. */
export function parseAtom(token: string): Check {
  if (token === '@') return new TrueCheck();
  if (token === '!') return new FalseCheck();
  const colon = token.indexOf(':');
  if (colon === -1) {
    throw new PolicySyntaxError({ text: token, reason: `"${token}" is not a check of the form kind:match` });
  }
  const kind = token.slice(0, colon);
  const match = token.slice(colon + 1);
  if (kind === '') {
    throw new PolicySyntaxError({ text: token, reason: `"${token}" has nothing before the ':'` });
  }
  switch (kind) {
    case 'rule':
      if (match === '') throw new PolicySyntaxError({ text: token, reason: "'rule:' needs a rule name" });
      return new RuleCheck(match);
    case 'role':
      return new RoleCheck(matchTemplate(match));
    case 'http':
    case 'https':
      return new UnsupportedCheck(kind, match);
  }
  if ((kind[0] === "'" || kind[0] === '"') && !isQuoted(kind)) {
    throw new PolicySyntaxError({ text: token, reason: `unbalanced quotes in "${kind}"` });
  }
  return new GenericCheck(kind, literalKind(kind), matchTemplate(match));
}
