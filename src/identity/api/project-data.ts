// Writes the projects and domains APIs share (Keystone keeps both in the `project` table): the
// update of a row, its tags, and what goes with a project or domain when it is deleted.
import { dbBool, fromDbBool } from '../../core/db/index.ts';
import { HttpError } from '../../core/http/index.ts';
import type { ProjectTable } from '../db/schema.ts';
import type { IdentityTx } from '../db/store.ts';
import { deleteCredentialsOf } from '../credential/records.ts';
import { uniquely, type IdentityDeps } from './common.ts';

/** What a PATCH of a project or domain changes; a field left undefined stays as it is. */
export interface ProjectChange {
  name?: string;
  description?: string | null;
  enabled?: boolean;
  /** the attributes without a column of their own (as extraOf gives them), merged onto the stored ones */
  extra: string;
  /** all the tags, replacing the stored ones */
  tags?: string[];
}

/**
 * Updates a project or domain row. Disabling it revokes the tokens scoped to it; a name its
 * domain already holds is Keystone's 409, naming the row as `kind`.
 */
export async function updateProjectRow(deps: IdentityDeps, kind: 'project' | 'domain', row: ProjectTable, change: ProjectChange): Promise<void> {
  const { name, description, enabled, tags } = change;
  await uniquely(`${kind} ${name}`, () =>
    deps.store.write(async (tx) => {
      await tx.updateTable('project').set({
        name: name ?? row.name,
        description: description === undefined ? row.description : description,
        enabled: enabled === undefined ? row.enabled : dbBool(enabled),
        extra: JSON.stringify({ ...JSON.parse(row.extra), ...JSON.parse(change.extra) }),
      }).where('id', '=', row.id).execute();
      if (tags) await replaceProjectTags(tx, row.id, tags);
      if (enabled === false && fromDbBool(row.enabled)) {
        await deps.tokens.revokeMatching(tx, fromDbBool(row.is_domain) ? { domain_id: row.id } : { project_id: row.id });
      }
    }),
  );
}

/** Sets a project's (or domain's) tags to these, once each. */
export async function replaceProjectTags(tx: IdentityTx, projectId: string, tags: string[]): Promise<void> {
  await tx.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
  for (const t of new Set(tags)) await tx.insertInto('project_tag').values({ project_id: projectId, name: t }).execute();
}

/** What goes with a project: its tags, the role assignments on it, the credentials for it. */
export async function deleteProjectData(tx: IdentityTx, projectId: string): Promise<void> {
  await deleteCredentialsOf(tx, { projectId });
  await tx.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
  await tx.deleteFrom('assignment').where('target_id', '=', projectId).execute();
}

/** Deletes a domain, which must be disabled first, with all it owns, and revokes its tokens. */
export async function deleteDomain(deps: IdentityDeps, row: ProjectTable): Promise<void> {
  if (fromDbBool(row.enabled)) throw new HttpError(403, 'Cannot delete a domain that is enabled, please disable it first.');
  await deps.store.write(async (tx) => {
    await deleteDomainData(tx, row.id);
    await deps.tokens.revokeMatching(tx, { domain_id: row.id });
  });
}

/** A domain and everything it owns: projects, users, groups, domain roles and their assignments. */
export async function deleteDomainData(tx: IdentityTx, domainId: string): Promise<void> {
  const projects = await tx.selectFrom('project').select('id').where('domain_id', '=', domainId).execute();
  for (const p of projects) await deleteProjectData(tx, p.id);
  await tx.deleteFrom('project').where('domain_id', '=', domainId).execute();
  const users = await tx.selectFrom('user').select('id').where('domain_id', '=', domainId).execute();
  const groups = await tx.selectFrom('user_group').select('id').where('domain_id', '=', domainId).execute();
  for (const u of users) await deleteCredentialsOf(tx, { userId: u.id });
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
