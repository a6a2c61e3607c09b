// One object file (.data, .meta or .ts) holds its metadata in a trailer, since Node has no
// xattr API and a separate sidecar could not be renamed into place together with the data:
//
//   [data bytes][metadata as UTF-8 JSON][JSON length, uint32 big-endian]["TNM1"]
//
// .meta and .ts files have no data bytes. The metadata is a flat object of lower-case header
// names to strings, plus "name" (/<account>/<container>/<object>), as Swift keeps it.
import type { FileHandle } from 'node:fs/promises';

export type ObjectMetadata = Record<string, string>;

const MAGIC = Buffer.from('TNM1', 'ascii');
const FOOTER_LENGTH = 8;

export class CorruptObjectFile extends Error {}

export function encodeTrailer(metadata: ObjectMetadata): Buffer {
  const body = Buffer.from(JSON.stringify(metadata), 'utf8');
  const footer = Buffer.alloc(FOOTER_LENGTH);
  footer.writeUInt32BE(body.length, 0);
  MAGIC.copy(footer, 4);
  return Buffer.concat([body, footer]);
}

/** The metadata of an open object file and how many data bytes precede it. */
export async function readTrailer(handle: FileHandle): Promise<{ metadata: ObjectMetadata; dataLength: number }> {
  const { size } = await handle.stat();
  if (size < FOOTER_LENGTH) throw new CorruptObjectFile('file shorter than its footer');
  const footer = await readAt(handle, size - FOOTER_LENGTH, FOOTER_LENGTH);
  if (!footer.subarray(4).equals(MAGIC)) throw new CorruptObjectFile('no metadata trailer');
  const length = footer.readUInt32BE(0);
  const dataLength = size - FOOTER_LENGTH - length;
  if (dataLength < 0) throw new CorruptObjectFile('metadata longer than the file');
  let metadata: unknown;
  try {
    metadata = JSON.parse((await readAt(handle, dataLength, length)).toString('utf8'));
  } catch {
    throw new CorruptObjectFile('metadata is not JSON');
  }
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) throw new CorruptObjectFile('metadata is not an object');
  return { metadata: metadata as ObjectMetadata, dataLength };
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new CorruptObjectFile('file ended early');
    done += bytesRead;
  }
  return buffer;
}
