// Builds tar archives for tests, member by member, including the awkward parts real archives
// have: ustar name prefixes, GNU long names, pax records, v7 headers, damaged checksums.

export interface HeaderOptions {
  type?: string;
  size?: number;
  prefix?: string;
  /** 'ustar' (POSIX), 'gnu' (GNU tar's own magic) or 'v7' (none) */
  format?: 'ustar' | 'gnu' | 'v7';
  /** write a wrong checksum */
  badChecksum?: boolean;
}

function field(block: Buffer, offset: number, length: number, value: string | Buffer): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  bytes.copy(block, offset, 0, Math.min(bytes.length, length));
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

export function header(name: string | Buffer, opts: HeaderOptions = {}): Buffer {
  const block = Buffer.alloc(512);
  field(block, 0, 100, name);
  field(block, 100, 8, octal(0o644, 8));
  field(block, 108, 8, octal(1000, 8));
  field(block, 116, 8, octal(1000, 8));
  field(block, 124, 12, octal(opts.size ?? 0, 12));
  field(block, 136, 12, octal(1_700_000_000, 12));
  field(block, 156, 1, opts.type ?? '0');
  const format = opts.format ?? 'ustar';
  if (format === 'ustar') field(block, 257, 8, 'ustar\u000000');
  if (format === 'gnu') field(block, 257, 8, 'ustar  \u0000');
  if (opts.prefix) field(block, 345, 155, opts.prefix);
  field(block, 148, 8, '        ');
  let sum = 0;
  for (const byte of block) sum += byte;
  field(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  if (opts.badChecksum) field(block, 148, 8, '0000001\0');
  return block;
}

function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

/** A regular file member. */
export function file(name: string | Buffer, data: string | Buffer, opts: HeaderOptions = {}): Buffer {
  const body = Buffer.from(data);
  return Buffer.concat([header(name, { ...opts, size: body.length }), padded(body)]);
}

export function directory(name: string): Buffer {
  return header(name, { type: '5' });
}

export function symlink(name: string): Buffer {
  return header(name, { type: '2' });
}

/** GNU tar's ././@LongLink member naming the member after it. */
export function gnuLongName(name: string): Buffer {
  const body = Buffer.from(`${name}\0`);
  return Buffer.concat([header('././@LongLink', { type: 'L', size: body.length, format: 'gnu' }), padded(body)]);
}

/** A pax extended header ('x', or 'g' for a global one) with these records. */
export function pax(records: Record<string, string>, type: 'x' | 'g' = 'x'): Buffer {
  let body = '';
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    let length = Buffer.byteLength(rest) + 1;
    while (String(length).length + Buffer.byteLength(rest) !== length) length = String(length).length + Buffer.byteLength(rest);
    body += `${length}${rest}`;
  }
  const data = Buffer.from(body);
  return Buffer.concat([header('PaxHeader', { type, size: data.length }), padded(data)]);
}

/** Members followed by the two zero blocks that end an archive. */
export function archive(...members: Buffer[]): Buffer {
  return Buffer.concat([...members, Buffer.alloc(1024)]);
}
