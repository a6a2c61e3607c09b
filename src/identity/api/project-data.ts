// What goes with a project or domain when it is deleted.
import type { IdentityTx } from '../db/store.ts';

export async function deleteProjectData(tx: IdentityTx, projectId: string): Promise<void> {
  await tx.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
  await tx.deleteFrom('assignment').where('target_id', '=', projectId).execute();
}

/** A domain and everything it owns: projects, users, groups, domain roles and their assignments. */
export async function deleteDomainData(tx: IdentityTx, domainId: string): Promise<void> {
  const projects = await tx.selectFrom('project').select('id').where('domain_id', '=', domainId).execute();
  for (const p of projects) await deleteProjectData(tx, p.id);
  await tx.deleteFrom('project').where('domain_id', '=', domainId).execute();
  const users = await tx.selectFrom('user').select('id').where('domain_id', '=', domainId).execute();
  const groups = await tx.selectFrom('user_group').select('id').where('domain_id', '=', domainId).execute();
  const actors = [...users, ...groups].map((a) => a.id);
  if (actors.length) await tx.deleteFrom('assignment').where('actor_id', 'in', actors).execute();
  await tx.deleteFrom('user').where('domain_id', '=', domainId).execute();
  await tx.deleteFrom('user_group').where('domain_id', '=', domainId).execute();
  const roles = await tx.selectFrom('role').select('id').where('domain_id', '=', domainId).execute();
  if (roles.length) await tx.deleteFrom('assignment').where('role_id', 'in', roles.map((r) => r.id)).execute();
  await tx.deleteFrom('role').where('domain_id', '=', domainId).execute();
  await deleteProjectData(tx, domainId);
  await tx.deleteFrom('project').where('id', '=', domainId).execute();
}
