// multipart/form-data as browsers send it, read as a stream: each part's headers, then its body
// as a stream of its own, so an uploaded file passes through without being held in memory.
// Framing follows Swift's reader: blank lines may precede the first boundary, which must then
// be there; a part ends at CRLF--boundary; "--" after a boundary ends the form; a body cut off
// by the end of the request ends where the request ends.
import type { Readable } from 'node:stream';
import { Section, trimSpace, type ByteReader } from './byte-reader.ts';

export class MimeInvalid extends Error {}

export interface FormPart {
  /** lower-case names */
  headers: Record<string, string>;
  /** the part's body, once; left unread, the next part skips it */
  body(): Readable;
}

/** Part headers beyond this are not a form a browser sent. */
const MAX_HEADER_BYTES = 64 * 1024;
const CHUNK = 64 * 1024;

const ATTRIBUTE = /^(\w+)=(".*?"|[^";]+)(; ?|$)/;

/**
 * `form-data; name="file1"; filename="a.txt"` → ['form-data', {name: 'file1', filename: 'a.txt'}]
 * (also reads Content-Type parameters, e.g. the boundary). Parsing stops at the first attribute
 * it cannot read, as Swift's does.
 */
export function parseContentDisposition(header: string): [string, Record<string, string>] {
  const attributes: Record<string, string> = {};
  const semicolon = header.indexOf(';');
  if (semicolon < 0) return [header, attributes];
  let rest = header.slice(semicolon + 1).trim();
  for (let m = ATTRIBUTE.exec(rest); m; m = ATTRIBUTE.exec(rest)) {
    rest = rest.slice(m[0].length);
    attributes[m[1]!] = m[2]!.replace(/^"+|"+$/g, '');
  }
  return [header.slice(0, semicolon).trim(), attributes];
}

/** One line of at most `limit` bytes, its line end included. */
async function readLine(reader: ByteReader, limit: number): Promise<Buffer> {
  while (true) {
    const newline = reader.buffered.indexOf(0x0a);
    if ((newline >= 0 && newline < limit) || reader.buffered.length >= limit) return reader.take(newline >= 0 && newline < limit ? newline + 1 : limit);
    if (!(await reader.more())) return reader.take(reader.buffered.length);
  }
}

export async function* formParts(reader: ByteReader, boundary: string): AsyncGenerator<FormPart> {
  const opening = Buffer.from(`--${boundary}`, 'latin1');
  let line = await readLine(reader, opening.length + 2);
  while (line.equals(Buffer.from('\r\n'))) line = await readLine(reader, opening.length + 2);
  if (!trimSpace(line).equals(opening)) throw new MimeInvalid('invalid starting boundary');

  const delimiter = Buffer.concat([Buffer.from('\r\n'), opening]);
  const state = { last: false };
  while (true) {
    const part = new PartBody(reader, delimiter, state);
    const headers = await part.readHeaders();
    yield { headers, body: () => part.body.stream() };
    await part.body.skip();
    if (state.last || reader.exhausted) return;
  }
}

/** One part, from its headers to the delimiter that ends it. */
class PartBody {
  #done = false;
  readonly body = new Section(() => this.#readSome(), () => this.#done);

  constructor(
    private readonly reader: ByteReader,
    private readonly delimiter: Buffer,
    private readonly state: { last: boolean },
  ) {}

  async readHeaders(): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    let size = 0;
    while (!this.#done) {
      const line = await this.#headerLine();
      size += line.length;
      if (size > MAX_HEADER_BYTES) throw new MimeInvalid('part headers too long');
      const text = line.toString('utf8').replace(/\r?\n$/, '');
      if (text === '') break;
      const colon = text.indexOf(':');
      if (colon > 0) headers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
    }
    return headers;
  }

  /** A header line, or what comes before the delimiter if the part ends inside its headers. */
  async #headerLine(): Promise<Buffer> {
    while (true) {
      const buffered = this.reader.buffered;
      const end = buffered.indexOf(this.delimiter);
      const newline = buffered.indexOf('\r\n');
      if (end >= 0 && (newline < 0 || end < newline)) return this.#toDelimiter(end);
      if (newline >= 0) return this.reader.take(newline + 2);
      if (buffered.length > MAX_HEADER_BYTES) return this.reader.take(buffered.length);
      if (!(await this.reader.more())) return this.#cutShort();
    }
  }

  /** The request ended inside this part: what is left is its last bytes, and the form is over. */
  #cutShort(): Buffer {
    this.#done = true;
    this.state.last = true;
    return this.reader.take(this.reader.buffered.length);
  }

  /** What comes before the delimiter at `at`; the delimiter and the two bytes after it ("--" at the end) are consumed. */
  async #toDelimiter(at: number): Promise<Buffer> {
    const data = Buffer.from(this.reader.take(at));
    this.reader.take(this.delimiter.length);
    await this.reader.fill(2);
    const after = this.reader.take(Math.min(2, this.reader.buffered.length));
    if (after.toString('latin1') === '--') this.state.last = true;
    this.#done = true;
    return data;
  }

  async #readSome(): Promise<Buffer> {
    while (true) {
      const buffered = this.reader.buffered;
      const end = buffered.indexOf(this.delimiter);
      if (end >= 0) return this.#toDelimiter(end);
      // bytes that cannot be the start of a delimiter are safe to hand out
      const safe = buffered.length - (this.delimiter.length - 1);
      if (safe > 0) return this.reader.take(Math.min(safe, CHUNK));
      if (!(await this.reader.more())) return this.#cutShort();
    }
  }
}
