import type { Check, RuleLookup } from './checks.ts';
import { InvalidScope, PolicyNotAuthorized, PolicySyntaxError } from './errors.ts';
import { loadPolicyFile } from './file.ts';
import { parseRule } from './parser.ts';
import { tokenScope, withSystemAlias } from './scope.ts';
import type { Credentials, RuleDefault, Target } from './types.ts';

export interface EnforcerOptions {
  /** Rule name -> check string, applied last (over the policy file). */
  overrides?: Record<string, string>;
  /** A policy.yaml or policy.json whose rules replace or add to the defaults. */
  policyFile?: string;
  /**
   * Deny when the token's scope is not in the default's `scopeTypes`, as oslo.policy does
   * (its `enforce_scope`, on by default and now always on). Default true.
   */
  enforceScope?: boolean;
}

type Verdict = { allowed: true } | { allowed: false; scope?: string };

/**
 * Holds the effective rules (defaults from code, then the policy file, then overrides), each
 * parsed once, and answers whether credentials may act on a target.
 */
export class Enforcer {
  readonly #defaults = new Map<string, RuleDefault>();
  readonly #texts = new Map<string, string>();
  readonly #sources = new Map<string, string>();
  readonly #trees = new Map<string, Check>();
  readonly #lookup: RuleLookup = (name) => this.#trees.get(name);
  readonly #enforceScope: boolean;

  constructor(defaults: RuleDefault[], opts: EnforcerOptions = {}) {
    this.#enforceScope = opts.enforceScope ?? true;
    for (const rule of defaults) {
      if (this.#defaults.has(rule.name)) throw new Error(`Policy rule "${rule.name}" is registered twice`);
      this.#defaults.set(rule.name, rule);
      this.#set(rule.name, rule.checkStr, 'defaults');
    }
    if (opts.policyFile !== undefined) {
      for (const [name, text] of Object.entries(loadPolicyFile(opts.policyFile))) this.#set(name, text, opts.policyFile);
    }
    for (const [name, text] of Object.entries(opts.overrides ?? {})) this.#set(name, text, 'overrides');

    for (const [name, text] of this.#texts) this.#trees.set(name, this.#parse(name, text));
    this.#rejectCycles();
  }

  /** Whether the rule allows `creds` to act on `target`. Throws for a rule that is not defined. */
  check(rule: string, target: Record<string, unknown>, creds: Credentials): boolean {
    return this.#decide(rule, target, creds).allowed;
  }

  /** Like check, but throws PolicyNotAuthorized (InvalidScope for a wrong token scope) on deny. */
  enforce(rule: string, target: Record<string, unknown>, creds: Credentials): void {
    const verdict = this.#decide(rule, target, creds);
    if (verdict.allowed) return;
    if (verdict.scope !== undefined) {
      throw new InvalidScope(rule, this.#defaults.get(rule)?.scopeTypes ?? [], verdict.scope);
    }
    throw new PolicyNotAuthorized(rule);
  }

  /** The effective rules (defaults merged with the file and overrides), for a `policy list` dump. */
  rules(): Record<string, string> {
    return Object.fromEntries(this.#texts);
  }

  #set(name: string, text: string, source: string): void {
    this.#texts.set(name, text);
    this.#sources.set(name, source);
  }

  #parse(name: string, text: string): Check {
    try {
      return parseRule(text, name);
    } catch (error) {
      if (error instanceof PolicySyntaxError) throw error.within(name, this.#sources.get(name));
      throw error;
    }
  }

  #decide(rule: string, target: Target, creds: Credentials): Verdict {
    const tree = this.#trees.get(rule);
    if (tree === undefined) throw new Error(`Policy rule "${rule}" is not defined`);
    const effective = withSystemAlias(creds);
    // As in oslo.policy, scope comes from the registered default, even when the rule text is
    // overridden; rules that exist only in overrides have no scope types.
    const scopeTypes = this.#defaults.get(rule)?.scopeTypes;
    if (this.#enforceScope && scopeTypes !== undefined && scopeTypes.length > 0) {
      const scope = tokenScope(effective);
      if (!scopeTypes.includes(scope)) return { allowed: false, scope };
    }
    return { allowed: tree.evaluate(target, effective, this.#lookup) };
  }

  /**
   * Rules that refer to themselves through `rule:` can never be decided (oslo.policy recurses
   * until Python gives up). Refuse them at load, naming the chain.
   */
  #rejectCycles(): void {
    const done = new Set<string>();
    const path: string[] = [];
    const visit = (name: string): void => {
      const loopStart = path.indexOf(name);
      if (loopStart !== -1) {
        const chain = [...path.slice(loopStart), name].join(' -> ');
        throw new PolicySyntaxError({
          rule: name,
          text: this.#texts.get(name) ?? '',
          reason: `rule references form a cycle (${chain})`,
          source: this.#sources.get(name),
        });
      }
      const tree = this.#trees.get(name);
      if (done.has(name) || tree === undefined) return;
      path.push(name);
      for (const ref of tree.references()) visit(ref);
      path.pop();
      done.add(name);
    };
    for (const name of this.#trees.keys()) visit(name);
  }
}
