// A streaming tar reader for archive extraction: members come out one at a time with their data
// as a stream, so an archive of any size passes through in constant memory. It reads what GNU
// tar, bsdtar and Python's tarfile write: ustar (with its name prefix), old v7 headers, GNU long
// names (././@LongLink) and pax extended headers (path, size, and the rest kept for the caller,
// e.g. SCHILY.xattr.*). Errors follow Python's tarfile, which Swift's bulk middleware reports:
// a bad first header is an error, a bad header later simply ends the archive, and data cut
// short is "unexpected end of data".
import type { Readable } from 'node:stream';
import { Section, type ByteReader } from './byte-reader.ts';

const BLOCK = 512;
const CHUNK = 64 * 1024;

export class TarError extends Error {}

export interface TarEntry {
  /** the member's path as stored: bytes, since tar does not promise UTF-8 */
  name: Buffer;
  /** the type flag: '0' (or '\0', '7') regular file, '5' directory, '2' symlink, ... */
  type: string;
  size: number;
  /** a regular file, with data (sparse files are not: their data is not the file) */
  isFile: boolean;
  /** pax records that applied to it, the archive's global ones included */
  pax: Record<string, string>;
  /** Its data, once. Left unread (or half read), the next member skips the rest. */
  body(): Readable;
}

const REGULAR = new Set(['0', '\0', '7']);
const SPARSE = 'S';
const GNU_LONG = new Set(['L', 'K']);
const PAX_LOCAL = new Set(['x', 'X']);
const PAX_GLOBAL = 'g';
const SUPPORTED = new Set(['0', '\0', '7', 'S', '1', '2', '3', '4', '5', '6', 'L', 'K', 'x', 'X', 'g']);

/** A header problem, in tarfile's words. */
class HeaderError extends Error {
  constructor(message: string, readonly endOfArchive = false) {
    super(message);
  }
}

/** NUL-terminated text field. */
function nts(field: Buffer): Buffer {
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

/** A numeric field: octal text, or GNU's base-256 with the high bit of the first byte set. */
function nti(field: Buffer): number {
  if (field[0] === 0x80 || field[0] === 0xff) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return field[0] === 0xff ? n - 256 ** (field.length - 1) : n;
  }
  const text = nts(field).toString('latin1').trim();
  if (!/^[0-7]*$/.test(text)) throw new HeaderError('invalid header');
  return text ? parseInt(text, 8) : 0;
}

function checksumMatches(block: Buffer, stored: number): boolean {
  let unsigned = 256;
  let signed = 256;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const byte = block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

interface Header {
  name: Buffer;
  type: string;
  size: number;
  sparseExtended: boolean;
}

function parseHeader(block: Buffer): Header {
  if (block.length === 0) throw new HeaderError('empty header', true);
  if (block.length < BLOCK) throw new HeaderError('truncated header', true);
  if (block.every((b) => b === 0)) throw new HeaderError('end of file header', true);
  if (!checksumMatches(block, nti(block.subarray(148, 156)))) throw new HeaderError('bad checksum');
  for (const [start, end] of [[100, 108], [108, 116], [116, 124], [136, 148], [329, 337], [337, 345]] as const) nti(block.subarray(start, end));
  const size = nti(block.subarray(124, 136));
  if (size < 0) throw new HeaderError('invalid header');
  let type = String.fromCharCode(block[156]!);
  let name = nts(block.subarray(0, 100));
  const prefix = nts(block.subarray(345, 500));
  // v7 archives mark a directory by its trailing slash
  if (type === '\0' && name.at(-1) === 0x2f) type = '5';
  if (type === '5') name = stripTrailingSlashes(name);
  if (prefix.length && !GNU_LONG.has(type) && type !== SPARSE) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  return { name, type, size, sparseExtended: type === SPARSE && block[482] !== 0 };
}

function stripTrailingSlashes(name: Buffer): Buffer {
  let end = name.length;
  while (end > 0 && name[end - 1] === 0x2f) end--;
  return name.subarray(0, end);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** pax "<length> <keyword>=<value>\n" records; values kept as bytes. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    const space = data.indexOf(0x20, pos);
    const lengthText = space < 0 ? '' : data.subarray(pos, space).toString('latin1');
    if (!/^\d{1,20}$/.test(lengthText)) throw new HeaderError('invalid header');
    const length = Number(lengthText);
    if (length < 5 || pos + length > data.length || data[pos + length - 1] !== 0x0a) throw new HeaderError('invalid header');
    const record = data.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new HeaderError('invalid header');
    records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
    pos += length;
  }
  return records;
}

/** The members of a tar stream, in order. The generator must be driven to its end or returned. */
export async function* readTar(reader: ByteReader): AsyncGenerator<TarEntry> {
  const globalPax = new Map<string, Buffer>();
  let first = true;
  while (true) {
    let member: { header: Header; pax: Map<string, Buffer> } | undefined;
    try {
      member = await nextMember(reader, globalPax);
    } catch (err) {
      if (!(err instanceof HeaderError)) throw err;
      // A damaged header after the first member ends the archive, as tarfile has it.
      if (!first || err.endOfArchive && err.message === 'end of file header') return;
      throw new TarError(err.message === 'empty header' ? 'empty file' : err.message);
    }
    first = false;
    const { header, pax } = member;
    const sparse = header.type === SPARSE || [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'));
    const hasData = REGULAR.has(header.type) || header.type === SPARSE || !SUPPORTED.has(header.type);
    const dataSize = hasData ? header.size : 0;
    const data = memberData(reader, dataSize);
    yield {
      name: header.name,
      type: header.type,
      size: header.size,
      isFile: REGULAR.has(header.type) && !sparse,
      pax: Object.fromEntries([...pax].map(([k, v]) => [k, v.toString('utf8')])),
      body: () => data.section.stream(),
    };
    await data.finish();
  }
}

/**
 * The next member's header, with the extension headers before it (GNU long names, pax
 * records) applied; the outermost extension wins, as in tarfile.
 */
async function nextMember(reader: ByteReader, globalPax: Map<string, Buffer>): Promise<{ header: Header; pax: Map<string, Buffer> }> {
  const localPax = new Map<string, Buffer>();
  let name: Buffer | undefined;
  let size: number | undefined;
  let extended = false;
  try {
    while (true) {
      const header = parseHeader(await reader.readFully(BLOCK));
      if (header.sparseExtended) await skipSparseExtensions(reader);
      if (!GNU_LONG.has(header.type) && !PAX_LOCAL.has(header.type) && header.type !== PAX_GLOBAL) {
        const pax = new Map([...globalPax, ...localPax]);
        if (name === undefined && !localPax.has('path') && globalPax.has('path')) name = stripTrailingSlashes(globalPax.get('path')!);
        if (size === undefined && globalPax.has('size')) size = paxNumber(globalPax.get('size')!);
        return { header: { ...header, name: name ?? header.name, size: size ?? header.size }, pax };
      }
      const data = await reader.readFully(padded(header.size));
      if (data.length < padded(header.size)) throw new TarError('unexpected end of data');
      const content = data.subarray(0, header.size);
      if (header.type === 'L') name ??= stripTrailingSlashes(nts(content));
      else if (header.type === PAX_GLOBAL) for (const [k, v] of parsePax(content)) globalPax.set(k, v);
      else if (header.type !== 'K') {
        const records = parsePax(content);
        for (const [k, v] of records) if (!localPax.has(k)) localPax.set(k, v);
        const path = records.get('path');
        if (path !== undefined) name ??= stripTrailingSlashes(path);
        const paxSize = records.get('size');
        if (paxSize !== undefined) size ??= paxNumber(paxSize);
      }
      extended = true;
    }
  } catch (err) {
    // whatever is wrong with the header an extension header promised is an error, wherever it is
    if (extended && err instanceof HeaderError) throw new TarError(err.message);
    throw err;
  }
}

function paxNumber(value: Buffer): number {
  const text = value.toString('latin1');
  return /^\d+$/.test(text) ? Number(text) : 0;
}

/** Old GNU sparse headers may continue in extension blocks before the data. */
async function skipSparseExtensions(reader: ByteReader): Promise<void> {
  while (true) {
    const block = await reader.readFully(BLOCK);
    if (block.length < BLOCK) throw new TarError('unexpected end of data');
    if (block[504] === 0) return;
  }
}

/** One member's data, then its padding. */
function memberData(reader: ByteReader, size: number): { section: Section; finish(): Promise<void> } {
  let remaining = size;
  const section = new Section(async () => {
    const chunk = await reader.read(Math.min(remaining, CHUNK));
    if (chunk.length === 0) throw new TarError('unexpected end of data');
    remaining -= chunk.length;
    return chunk;
  }, () => remaining === 0);
  return {
    section,
    finish: async () => {
      await section.skip();
      const padding = padded(size) - size;
      if ((await reader.skip(padding)) < padding) throw new TarError('unexpected end of data');
    },
  };
}
