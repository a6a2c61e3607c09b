// Revocation events, as Keystone keeps them: an event names some of user, project, domain,
// role, audit id and audit chain, and revokes every token that matches all it names and was
// issued no later than the event. Events are kept until the newest token they could match
// has expired, then pruned.
import { randomUUID } from 'node:crypto';
import type { IdentityDb, IdentityTx } from '../db/store.ts';
import type { RevocationEventTable } from '../db/schema.ts';

export type RevocationMatch = Partial<Pick<RevocationEventTable, 'user_id' | 'project_id' | 'domain_id' | 'role_id' | 'audit_id' | 'audit_chain_id'>>;

/** What a token is checked against events with. */
export interface TokenFacts {
  userId: string;
  userDomainId: string;
  projectId?: string;
  projectDomainId?: string;
  domainId?: string;
  roleIds: string[];
  auditIds: string[];
  issuedAt: Date;
}

/** Records an event revoking every matching token issued up to now. */
export async function recordRevocation(tx: IdentityTx, match: RevocationMatch, tokenLifetimeSeconds: number): Promise<void> {
  const now = new Date();
  await tx.insertInto('revocation_event').values({
    id: randomUUID(),
    user_id: match.user_id ?? null,
    project_id: match.project_id ?? null,
    domain_id: match.domain_id ?? null,
    role_id: match.role_id ?? null,
    audit_id: match.audit_id ?? null,
    audit_chain_id: match.audit_chain_id ?? null,
    issued_before: now.toISOString(),
    revoked_at: now.toISOString(),
    // allow_expired may look at tokens up to two days past expiry; keep the event that long too
    expires_at: new Date(now.getTime() + (tokenLifetimeSeconds + 2 * 86400) * 1000).toISOString(),
  }).execute();
}

function matches(event: RevocationEventTable, token: TokenFacts): boolean {
  // A token's issued_at has second precision (Fernet); an event covers its whole second.
  if (token.issuedAt.getTime() > Date.parse(event.issued_before)) return false;
  if (event.user_id && event.user_id !== token.userId) return false;
  if (event.project_id && event.project_id !== token.projectId) return false;
  if (event.domain_id && ![token.userDomainId, token.projectDomainId, token.domainId].includes(event.domain_id)) return false;
  if (event.role_id && !token.roleIds.includes(event.role_id)) return false;
  if (event.audit_id && event.audit_id !== token.auditIds[0]) return false;
  if (event.audit_chain_id && event.audit_chain_id !== (token.auditIds[1] ?? token.auditIds[0])) return false;
  return true;
}

/** The event list, re-read only when the identity generation has moved. */
export class RevocationList {
  private events: RevocationEventTable[] = [];
  private loadedAt = -1;

  constructor(private readonly db: IdentityDb) {}

  async refresh(generation: number): Promise<void> {
    if (generation === this.loadedAt) return;
    const now = new Date().toISOString();
    this.events = await this.db.selectFrom('revocation_event').selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    this.loadedAt = generation;
  }

  isRevoked(token: TokenFacts): boolean {
    return this.events.some((e) => matches(e, token));
  }

  /** Epoch seconds of the newest event, for avoiding same-second false revocations at issue. */
  newestSecond(): number {
    let newest = 0;
    for (const e of this.events) newest = Math.max(newest, Date.parse(e.issued_before));
    return Math.floor(newest / 1000);
  }
}

/** Forgets events whose tokens have all expired. */
export async function pruneRevocations(tx: IdentityTx): Promise<number> {
  const result = await tx.deleteFrom('revocation_event').where('expires_at', '<', new Date().toISOString()).executeTakeFirst();
  return Number(result.numDeletedRows ?? 0);
}
