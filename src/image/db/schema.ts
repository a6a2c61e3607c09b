// The image service's tables. Booleans are 0/1 integers, timestamps ISO strings (core/db).
export type ImageStatus = 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'pending_delete' | 'deactivated' | 'uploading' | 'importing';
export type Visibility = 'public' | 'private' | 'shared' | 'community';
export type MemberStatus = 'pending' | 'accepted' | 'rejected';

export interface ImageTable {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: number;
  os_hidden: number;
  owner: string | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  virtual_size: number | null;
  min_disk: number;
  min_ram: number;
  disk_format: string | null;
  container_format: string | null;
  created_at: string;
  updated_at: string;
}

/** Custom properties (any key not a core attribute), one row each. */
export interface ImagePropertyTable {
  image_id: string;
  name: string;
  value: string;
}

export interface ImageTagTable {
  image_id: string;
  value: string;
}

export interface ImageMemberTable {
  image_id: string;
  /** the project the image is shared with */
  member: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

/** Where an image's data is: one row per store holding a copy (copy-image adds more). */
export interface ImageLocationTable {
  image_id: string;
  store_id: string;
  url: string;
  /** 'active' once written; 'staged' for data waiting in the staging area for import */
  status: string;
  size: number;
  created_at: string;
}

export type TaskStatus = 'pending' | 'processing' | 'success' | 'failure';

/**
 * An asynchronous job on an image (Glance's tasks; Image API 2.12 shows them per image): every
 * import is one, type 'api_image_import'. Removed with its image; a finished task is kept until
 * expires_at (Glance's task_time_to_live).
 */
export interface TaskTable {
  id: string;
  type: string;
  status: TaskStatus;
  /** the project of the caller that started it */
  owner: string | null;
  image_id: string | null;
  user_id: string | null;
  /** the x-openstack-request-id of the request that started it */
  request_id: string | null;
  /** JSON object: for an import {image_id, import_req (the body as sent), backend (store ids)} */
  input: string;
  /** JSON object or null: {image_id} once an import succeeded */
  result: string | null;
  /** '' or why it failed */
  message: string;
  /** null until finished */
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ImageDatabase {
  image: ImageTable;
  image_property: ImagePropertyTable;
  image_tag: ImageTagTable;
  image_member: ImageMemberTable;
  image_location: ImageLocationTable;
  task: TaskTable;
}
