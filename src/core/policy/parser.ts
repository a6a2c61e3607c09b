import { parseAtom, isQuoted } from './atoms.ts';
import { AndCheck, NotCheck, OrCheck, TrueCheck, type Check } from './checks.ts';
import { PolicySyntaxError } from './errors.ts';

type Token =
  | { kind: '(' | ')' | 'and' | 'or' | 'not'; text: string }
  | { kind: 'check'; text: string; check: Check };

/**
 * Splits a rule as oslo.policy does: on whitespace, then peels '(' off the front and ')' off
 * the back of each piece (a ')' inside '%(key)s' is never last). 'and', 'or' and 'not' are
 * keywords in any case.
 */
function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  for (const piece of rule.split(/\s+/)) {
    if (piece === '') continue;
    let start = 0;
    while (piece[start] === '(') {
      tokens.push({ kind: '(', text: '(' });
      start++;
    }
    if (start === piece.length) continue;
    let end = piece.length;
    while (end > start && piece[end - 1] === ')') end--;
    const clean = piece.slice(start, end);
    const lowered = clean.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
      tokens.push({ kind: lowered, text: clean });
    } else if (clean !== '') {
      // oslo.policy turns a wholly quoted piece into a string token that no grammar rule uses.
      if (isQuoted(piece.slice(start))) {
        throw new PolicySyntaxError({ text: rule, reason: `the quoted ${piece.slice(start)} is not part of a check` });
      }
      tokens.push({ kind: 'check', text: clean, check: parseAtom(clean) });
    }
    for (let i = end; i < piece.length; i++) tokens.push({ kind: ')', text: ')' });
  }
  return tokens;
}

/**
 * Recursive descent over the tokens, with oslo.policy's precedence: `not` binds tighter than
 * `and`, which binds tighter than `or`.
 *   or   := and ('or' and)*
 *   and  := unary ('and' unary)*
 *   unary := 'not' unary | '(' or ')' | check
 */
class Parser {
  private pos = 0;

  constructor(
    private readonly rule: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): Check {
    const check = this.or();
    const extra = this.tokens[this.pos];
    if (extra !== undefined) this.fail(`unexpected '${extra.text}'`);
    return check;
  }

  private or(): Check {
    const rules = [this.and()];
    while (this.tokens[this.pos]?.kind === 'or') {
      this.pos++;
      rules.push(this.and());
    }
    return rules.length === 1 ? rules[0]! : new OrCheck(rules);
  }

  private and(): Check {
    const rules = [this.unary()];
    while (this.tokens[this.pos]?.kind === 'and') {
      this.pos++;
      rules.push(this.unary());
    }
    return rules.length === 1 ? rules[0]! : new AndCheck(rules);
  }

  private unary(): Check {
    const token = this.tokens[this.pos];
    const after = this.tokens[this.pos - 1];
    const context = after === undefined ? 'at the start' : `after '${after.text}'`;
    if (token === undefined) this.fail(`expected a check ${context}, found the end of the rule`);
    this.pos++;
    switch (token.kind) {
      case 'check':
        return token.check;
      case 'not':
        return new NotCheck(this.unary());
      case '(': {
        const inner = this.or();
        if (this.tokens[this.pos]?.kind !== ')') this.fail("missing ')'");
        this.pos++;
        return inner;
      }
      default:
        return this.fail(`expected a check ${context}, found '${token.text}'`);
    }
  }

  private fail(reason: string): never {
    throw new PolicySyntaxError({ text: this.rule, reason });
  }
}

/**
 * Parses a check string into an evaluable tree. The empty string always allows; text that
 * cannot be understood throws PolicySyntaxError (oslo.policy logs it and denies instead).
 * `name` only labels errors.
 */
export function parseRule(text: string, name?: string): Check {
  if (text === '') return new TrueCheck();
  try {
    const tokens = tokenize(text);
    if (tokens.length === 0) throw new PolicySyntaxError({ text, reason: 'the rule is only whitespace' });
    return new Parser(text, tokens).parse();
  } catch (error) {
    if (!(error instanceof PolicySyntaxError)) throw error;
    throw new PolicySyntaxError({ rule: name, text, reason: error.reason });
  }
}
