// The image service's default policy, following Glance's secure-RBAC defaults: the owner's
// members (and admins) change an image; readers of the owner project, of a project it is
// shared with, or anyone for public and community images, read it; only admins publicize.
// Which images a caller may even see is also decided in the listing query (a private image
// of another project is a 404, not a 403), as Glance does.
import type { RuleDefault } from '../core/policy/index.ts';

const OWNER_MEMBER = 'role:member and project_id:%(project_id)s';
const READERS = "role:reader and (project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s)";

const rules: Record<string, string> = {
  admin_required: 'role:admin',
  default: 'rule:admin_required',
  context_is_admin: 'role:admin',
  add_image: `role:admin or (${OWNER_MEMBER})`,
  get_image: `role:admin or (${READERS})`,
  get_images: 'role:admin or role:reader',
  modify_image: `role:admin or (${OWNER_MEMBER})`,
  delete_image: `role:admin or (${OWNER_MEMBER})`,
  publicize_image: 'role:admin',
  communitize_image: `role:admin or (${OWNER_MEMBER})`,
  upload_image: `role:admin or (${OWNER_MEMBER})`,
  download_image: `role:admin or (${READERS})`,
  deactivate: `role:admin or (${OWNER_MEMBER})`,
  reactivate: `role:admin or (${OWNER_MEMBER})`,
  add_image_tag: `role:admin or (${OWNER_MEMBER})`,
  delete_image_tag: `role:admin or (${OWNER_MEMBER})`,
  copy_image: 'role:admin',
  add_member: `role:admin or (${OWNER_MEMBER})`,
  delete_member: `role:admin or (${OWNER_MEMBER})`,
  get_member: 'role:admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s))',
  get_members: 'role:admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s))',
  modify_member: 'role:admin or (role:member and project_id:%(member_id)s)',
  tasks_api_access: 'role:admin',
  get_task: 'rule:default',
  get_tasks: 'rule:default',
  add_task: 'rule:default',
  stage_image: `role:admin or (${OWNER_MEMBER})`,
  import_image: `role:admin or (${OWNER_MEMBER})`,
  stores_info_detail: 'role:admin',
};

export const imagePolicyDefaults: RuleDefault[] = Object.entries(rules).map(([name, checkStr]) => ({ name, checkStr }));
