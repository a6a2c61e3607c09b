// Image data stores (glance_store): where image bytes live. The API and the service build a
// StoreRegistry from configuration and use only the ImageStore interface.
//   file          FileStore: one file per image under a data directory (file:// locations)
//   object-store  ObjectStorageStore: Swift-style objects, segmented when large (swift+config://)
export type { AddOptions, ByteRange, ImageStore, StoredImage } from './types.ts';
export {
  StoreDuplicate,
  StoreError,
  StoreFull,
  StoreInvalidRange,
  StoreNotFound,
  StoreQuotaExceeded,
  StoreSizeMismatch,
  StoreUnavailable,
} from './errors.ts';
export { FileStore, type FileStoreOptions } from './file-store.ts';
export { ObjectStorageStore, type ObjectStorageStoreOptions, DEFAULT_LARGE_OBJECT_SIZE, DEFAULT_SEGMENT_SIZE } from './object-store.ts';
export type { ObjectInfo, ObjectStorageClient } from './object-storage-client.ts';
export { StoreRegistry, UnknownStore } from './registry.ts';
export { DEFAULT_HASH_ALGO, ImageHasher, type ImageDigest } from './hashing.ts';
