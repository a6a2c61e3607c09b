/** The request context's view used by checks (oslo.context's `to_policy_values()`). */
export interface Credentials {
  user_id?: string;
  user_domain_id?: string;
  project_id?: string;
  project_domain_id?: string;
  /** The domain the token is scoped to (a domain-scoped token). */
  domain_id?: string;
  /** 'all' when the token is system scoped. */
  system_scope?: string;
  roles: string[];
  is_admin?: boolean;
  is_admin_project?: boolean;
  [key: string]: unknown;
}

/** A rule registered in code by a service (oslo.policy's `RuleDefault` / `DocumentedRuleDefault`). */
export interface RuleDefault {
  name: string;
  checkStr: string;
  description?: string;
  operations?: { method: string; path: string }[];
  /** Token scopes the operation accepts: 'system', 'domain', 'project'. */
  scopeTypes?: string[];
}

/** Attributes of the object being acted on; `%(key)s` in a rule is filled from here. */
export type Target = Record<string, unknown>;
