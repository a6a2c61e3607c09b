import { policyString, type Template } from './template.ts';
import type { Credentials, Target } from './types.ts';

/** Finds the tree of a named rule, for `rule:` checks. */
export type RuleLookup = (name: string) => Check | undefined;

/** What one evaluation carries down the tree. */
export interface Evaluation {
  target: Target;
  creds: Credentials;
  lookup: RuleLookup;
  /** Names of the `rule:` references being evaluated, to stop a cycle. */
  active: string[];
}

const noRules: RuleLookup = () => undefined;

/** A node of a parsed rule. `toString()` renders it the way oslo.policy's `str()` does. */
export abstract class Check {
  /** Evaluates the tree; `rule:` references resolve through `lookup` (none by default). */
  evaluate(target: Target, creds: Credentials, lookup: RuleLookup = noRules): boolean {
    return this.test({ target, creds, lookup, active: [] });
  }

  /** Evaluation within a tree; call `evaluate` from outside. */
  abstract test(ev: Evaluation): boolean;

  /** Rule names this tree refers to with `rule:`. */
  references(): string[] {
    return [];
  }

  abstract toString(): string;
}

/** `@` and the empty rule: always allow. */
export class TrueCheck extends Check {
  test(): boolean {
    return true;
  }
  toString(): string {
    return '@';
  }
}

/** `!`: always deny. */
export class FalseCheck extends Check {
  test(): boolean {
    return false;
  }
  toString(): string {
    return '!';
  }
}

export class NotCheck extends Check {
  constructor(readonly rule: Check) {
    super();
  }
  test(ev: Evaluation): boolean {
    return !this.rule.test(ev);
  }
  override references(): string[] {
    return this.rule.references();
  }
  toString(): string {
    return `not ${this.rule}`;
  }
}

export class AndCheck extends Check {
  constructor(readonly rules: readonly Check[]) {
    super();
  }
  test(ev: Evaluation): boolean {
    return this.rules.every((rule) => rule.test(ev));
  }
  override references(): string[] {
    return this.rules.flatMap((rule) => rule.references());
  }
  toString(): string {
    return `(${this.rules.join(' and ')})`;
  }
}

export class OrCheck extends Check {
  constructor(readonly rules: readonly Check[]) {
    super();
  }
  test(ev: Evaluation): boolean {
    return this.rules.some((rule) => rule.test(ev));
  }
  override references(): string[] {
    return this.rules.flatMap((rule) => rule.references());
  }
  toString(): string {
    return `(${this.rules.join(' or ')})`;
  }
}

/** `rule:name`: the named rule's verdict; an undefined rule denies. */
export class RuleCheck extends Check {
  constructor(readonly name: string) {
    super();
  }
  test(ev: Evaluation): boolean {
    // A rule reached again while being evaluated is a cycle; deny rather than recurse forever
    // (oslo.policy would run into Python's recursion limit). The Enforcer rejects cycles at load.
    if (ev.active.includes(this.name)) return false;
    const rule = ev.lookup(this.name);
    if (rule === undefined) return false;
    ev.active.push(this.name);
    try {
      return rule.test(ev);
    } finally {
      ev.active.pop();
    }
  }
  override references(): string[] {
    return [this.name];
  }
  toString(): string {
    return `rule:${this.name}`;
  }
}

/** `role:name`: the credentials hold that role, compared case-insensitively. */
export class RoleCheck extends Check {
  constructor(readonly match: Template) {
    super();
  }
  test(ev: Evaluation): boolean {
    const wanted = this.match.render(ev.target);
    if (wanted === undefined || !Array.isArray(ev.creds.roles)) return false;
    const lowered = wanted.toLowerCase();
    return ev.creds.roles.some((role) => typeof role === 'string' && role.toLowerCase() === lowered);
  }
  toString(): string {
    return `role:${this.match.source}`;
  }
}

/**
 * `left:right`. The right side is filled from the target; it is then compared with the left
 * side when that is a literal ('member', True, 42), or else with the credentials value at the
 * dotted path `left`. A list on that path matches when any element does, as in oslo.policy.
 */
export class GenericCheck extends Check {
  constructor(
    readonly kind: string,
    /** The left side's text when it is a literal, else undefined. */
    readonly literal: string | undefined,
    readonly match: Template,
  ) {
    super();
  }
  test(ev: Evaluation): boolean {
    const match = this.match.render(ev.target);
    if (match === undefined) return false;
    if (this.literal !== undefined) return match === this.literal;
    return credsMatch(ev.creds, this.kind.split('.'), 0, match);
  }
  toString(): string {
    return `${this.kind}:${this.match.source}`;
  }
}

/**
 * `http:` / `https:` checks ask a remote server. Tenrec does not support them: they always
 * deny, which is also what oslo.policy does when the server cannot be reached.
 */
export class UnsupportedCheck extends Check {
  constructor(
    readonly kind: string,
    readonly match: string,
  ) {
    super();
  }
  test(): boolean {
    return false;
  }
  toString(): string {
    return `${this.kind}:${this.match}`;
  }
}

function credsMatch(value: unknown, path: readonly string[], depth: number, match: string): boolean {
  // A null or missing credential never matches; oslo.policy would compare 'None' == 'None'.
  if (value === null || value === undefined) return false;
  if (depth === path.length) return policyString(value) === match;
  if (typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const key = path[depth] as string;
  if (!Object.hasOwn(record, key)) return false;
  const next = record[key];
  if (Array.isArray(next)) return next.some((item) => credsMatch(item, path, depth + 1, match));
  return credsMatch(next, path, depth + 1, match);
}
