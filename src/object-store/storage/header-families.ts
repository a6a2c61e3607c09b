// The header families the storage servers store: user metadata (X-<Type>-Meta-*), system
// metadata set by proxy middlewares (X-<Type>-Sysmeta-*), and object transient sysmeta
// (X-Object-Transient-Sysmeta-*). Header names are lower case here. The limits on them are
// the cluster's constraints (../constraints.ts), shared with the proxy.
export type ServerType = 'account' | 'container' | 'object';

const OBJECT_TRANSIENT_SYSMETA_PREFIX = 'x-object-transient-sysmeta-';

/** x-<type>-meta-<something> */
export function isUserMeta(type: ServerType, name: string): boolean {
  const prefix = `x-${type}-meta-`;
  return name.length > prefix.length && name.startsWith(prefix);
}

export function isSysMeta(type: ServerType, name: string): boolean {
  const prefix = `x-${type}-sysmeta-`;
  return name.length > prefix.length && name.startsWith(prefix);
}

export function isSysOrUserMeta(type: ServerType, name: string): boolean {
  return isUserMeta(type, name) || isSysMeta(type, name);
}

export function isObjectTransientSysmeta(name: string): boolean {
  return name.length > OBJECT_TRANSIENT_SYSMETA_PREFIX.length && name.startsWith(OBJECT_TRANSIENT_SYSMETA_PREFIX);
}

/** Swift's config_true_value, for X-Backend-* flags. */
export function isTrue(value: string | null | undefined): boolean {
  return value !== undefined && value !== null && ['true', '1', 'yes', 'on', 't', 'y'].includes(value.trim().toLowerCase());
}
