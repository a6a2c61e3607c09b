/**
 * The manifest of a segmented image: the list of its segment objects, in order, in the JSON
 * form of a Swift SLO manifest PUT (`[{"path": "/<container>/<object>", "etag", "size_bytes"}]`),
 * so an operator reading it with any Swift tool recognises it.
 *
 * The store assembles the segments itself on read rather than relying on the server's SLO
 * middleware: it then works against any object service that can put, get and delete.
 * The manifest object is marked by its content type; a plain image object never has it.
 */
import { StoreError } from './errors.ts';

export const MANIFEST_CONTENT_TYPE = 'application/x-tenrec-image-manifest+json';
/** A manifest of a 10 TiB image in 200 MiB segments is ~5 MB; anything far larger is not ours. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface Segment {
  name: string;
  etag: string;
  size: number;
}

export function encodeManifest(container: string, segments: Segment[]): Buffer {
  return Buffer.from(JSON.stringify(segments.map((s) => ({ path: `/${container}/${s.name}`, etag: s.etag, size_bytes: s.size }))));
}

/** Parses and checks a manifest: every segment must be an object of this image in this container. */
export function decodeManifest(container: string, imageId: string, body: Buffer): Segment[] {
  const corrupt = (why: string) => new StoreError(`corrupt manifest for image ${imageId}: ${why}`);
  let entries: unknown;
  try {
    entries = JSON.parse(body.toString('utf8'));
  } catch {
    throw corrupt('not JSON');
  }
  if (!Array.isArray(entries) || entries.length === 0) throw corrupt('not a list of segments');
  const prefix = `/${container}/${imageId}-`;
  return entries.map((entry: unknown) => {
    const { path, etag, size_bytes: size } = (entry ?? {}) as Record<string, unknown>;
    if (typeof path !== 'string' || !path.startsWith(prefix) || path.slice(prefix.length).includes('/')) throw corrupt(`foreign segment ${String(path)}`);
    if (typeof etag !== 'string') throw corrupt('segment without etag');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw corrupt('bad segment size');
    return { name: path.slice(container.length + 2), etag, size };
  });
}
