// What a validated token says about the caller, as every service sees it.
export interface RequestContext {
  /** the token itself, for calls made on the caller's behalf */
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  /** set when project scoped */
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  /** set when domain scoped */
  domainId?: string;
  domainName?: string;
  /** 'all' when system scoped */
  system?: string;
  roles: string[];
  roleIds: string[];
  methods: string[];
  auditIds: string[];
  expiresAt: string;
  /** the application credential the token was issued for, if any */
  applicationCredentialId?: string;
}

/** The credentials dictionary policy rules are checked against (oslo.context's to_policy_values). */
export function policyCredentials(ctx: RequestContext): Record<string, unknown> & { roles: string[] } {
  return {
    user_id: ctx.userId,
    user_domain_id: ctx.userDomainId,
    project_id: ctx.projectId,
    project_domain_id: ctx.projectDomainId,
    domain_id: ctx.domainId,
    system_scope: ctx.system,
    roles: ctx.roles,
  };
}
