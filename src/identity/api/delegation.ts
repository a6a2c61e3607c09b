// What a token made from an application credential may not do, as Keystone rules it: a
// restricted one may not make further credentials, and none may reach credentials of another
// project than its own (a stolen delegated token must not read or change a user's other keys).
import type { RequestContext } from '../../core/auth/index.ts';
import { fromDbBool } from '../../core/db/index.ts';
import { forbidden } from '../../core/http/index.ts';
import type { IdentityDb } from '../db/store.ts';

/** 403 when the token comes from a restricted application credential; `what` is the kind being managed. */
export async function refuseRestrictedApplicationCredential(db: IdentityDb, ctx: RequestContext, what: string): Promise<void> {
  // by its credential id too: a token made from an ec2 credential bound to one has other methods
  if (!ctx.applicationCredentialId && !ctx.methods.includes('application_credential')) return;
  const cred = ctx.applicationCredentialId
    ? await db.selectFrom('application_credential').select('unrestricted').where('id', '=', ctx.applicationCredentialId).executeTakeFirst()
    : undefined;
  if (!cred || !fromDbBool(cred.unrestricted)) {
    throw forbidden(`You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional ${what}.`);
  }
}

/** False when a delegated token reaches for a credential outside its project (none has no project). */
export const withinDelegation = (ctx: RequestContext, projectId: string | null | undefined): boolean =>
  !ctx.applicationCredentialId || (projectId ?? undefined) === ctx.projectId;

/** 403 unless withinDelegation. */
export function assertWithinDelegation(ctx: RequestContext, projectId: string | null | undefined, what = 'Credential'): void {
  if (!withinDelegation(ctx, projectId)) {
    throw forbidden(`You are not authorized to perform the requested action: ${what} project does not match the project scope of the delegated token.`);
  }
}
