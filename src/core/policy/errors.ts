/** Raised by `Enforcer.enforce` when the rule denies the request; handlers answer 403. */
export class PolicyNotAuthorized extends Error {
  readonly rule: string;

  constructor(rule: string, message = `${rule} is disallowed by policy`) {
    super(message);
    this.name = 'PolicyNotAuthorized';
    this.rule = rule;
  }
}

/**
 * The token's scope is not one the operation accepts (oslo.policy's `InvalidScope`). A
 * subclass of PolicyNotAuthorized so that handlers which only know that one still answer 403.
 */
export class InvalidScope extends PolicyNotAuthorized {
  readonly scopeTypes: readonly string[];
  readonly tokenScope: string;

  constructor(rule: string, scopeTypes: readonly string[], tokenScope: string) {
    super(
      rule,
      `${rule} requires a scope of [${scopeTypes.join(', ')}], request was made with ${tokenScope} scope.`,
    );
    this.name = 'InvalidScope';
    this.scopeTypes = scopeTypes;
    this.tokenScope = tokenScope;
  }
}

export interface PolicySyntaxErrorDetails {
  /** The rule name, when known (parseRule on bare text does not know it). */
  rule?: string;
  /** The whole check string as written. */
  text: string;
  /** What is wrong with it. */
  reason: string;
  /** Where the rule came from: a policy file path, 'overrides' or 'defaults'. */
  source?: string;
}

/** A check string that cannot be understood. oslo.policy logs these and denies; we refuse to load. */
export class PolicySyntaxError extends Error {
  readonly rule: string | undefined;
  readonly text: string;
  readonly reason: string;
  readonly source: string | undefined;

  constructor(details: PolicySyntaxErrorDetails) {
    const name = details.rule === undefined ? 'policy rule' : `policy rule "${details.rule}"`;
    const where = details.source === undefined ? '' : ` (from ${details.source})`;
    super(`Invalid ${name}${where}: ${details.reason}: ${JSON.stringify(details.text)}`);
    this.name = 'PolicySyntaxError';
    this.rule = details.rule;
    this.text = details.text;
    this.reason = details.reason;
    this.source = details.source;
  }

  /** The same error, told which rule and source it belongs to. */
  within(rule: string, source?: string): PolicySyntaxError {
    return new PolicySyntaxError({ rule, text: this.text, reason: this.reason, source });
  }
}
