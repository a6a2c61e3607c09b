// Disk image formats: recognising them from their headers, and making the starter qcow2.
export { inspectHeader, INSPECT_BYTES, type DiskFormat, type InspectResult } from './inspect.ts';
export { makeQcow2, QCOW2_CLUSTER_SIZE } from './qcow2.ts';
