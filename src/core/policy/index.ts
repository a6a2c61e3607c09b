/**
 * An oslo.policy-compatible policy engine: the rule language (`role:`, `rule:`, generic
 * `left:%(key)s` checks, `and`/`or`/`not`, parentheses, `@`, `!`), defaults registered in
 * code, and policy.yaml / policy.json overrides.
 *
 * Where Tenrec knowingly differs from oslo.policy:
 * - Rule text it cannot understand (a dangling `or`, a token without `kind:`, a stray `%`,
 *   whitespace only) throws PolicySyntaxError at load; oslo.policy logs it and denies.
 * - `rule:` cycles are refused at load; oslo.policy recurses until Python gives up.
 * - `http:`/`https:` checks are parsed but always deny (no remote policy server).
 * - A quoted right side (`name:'x'`) is the literal x; oslo.policy keeps the quotes, so such
 *   a check could never match there.
 * - A dotted `%(a.b)s` also walks nested target objects when the literal key is absent
 *   (oslo.policy only takes the literal key; Keystone flattens its targets to provide it).
 * - A null/undefined credential never matches; oslo.policy compares str(None) == 'None'.
 * - A bare `!` in YAML (a tag, read as the empty allow-all rule) is refused; quote it.
 * - Not supported: the list-of-lists JSON form (only `[]` is accepted: always allow),
 *   `policy_default_rule` (an undefined `rule:` simply denies), deprecated rule aliases,
 *   policy.d directories, and custom check kinds (Neutron's `field:`/owner checks).
 *   A check() of an unknown rule name throws instead of denying.
 */
export type { Credentials, RuleDefault, Target } from './types.ts';
export { PolicyNotAuthorized, InvalidScope, PolicySyntaxError } from './errors.ts';
export { Check, type RuleLookup } from './checks.ts';
export { Enforcer, type EnforcerOptions } from './enforcer.ts';
export { parseRule } from './parser.ts';
export { loadPolicyFile } from './file.ts';
