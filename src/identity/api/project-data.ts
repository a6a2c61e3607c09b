// What goes with a project or domain when it is deleted: its tags and every role assignment on it.
import type { IdentityTx } from '../db/store.ts';

export async function deleteProjectData(tx: IdentityTx, projectId: string): Promise<void> {
  await tx.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
  await tx.deleteFrom('assignment').where('target_id', '=', projectId).execute();
}
