// Percent-encoding as Swift does it (Python's urllib.parse.quote): names in bulk reports, the
// realm of a 401, Content-Disposition filenames and formpost redirects are all quoted this way,
// which differs from encodeURIComponent on characters like ! ' ( ) * and on what counts as safe.
// And the ways back: Python's lenient unquote, or decodeURIComponent with a fallback.

const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;

/** Quotes `value` (a string, taken as UTF-8, or raw bytes); characters in `safe` stay as they are. */
export function quote(value: string | Buffer, safe = '/'): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && (ALWAYS_SAFE.test(ch) || safe.includes(ch))) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** %XX escapes decoded and the bytes read as UTF-8 (Python's unquote): a bad escape stays literal. */
export function unquote(value: string): string {
  return unquoteToBytes(Buffer.from(value, 'utf8')).toString('utf8');
}

/** decodeURIComponent, but a value with a stray or invalid escape is taken as it is. */
export function tryDecodeURIComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Decodes %XX escapes into raw bytes (Python's unquote_to_bytes): a bad escape stays literal. */
export function unquoteToBytes(value: Buffer): Buffer {
  const out = Buffer.alloc(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i]!;
    if (byte === 0x25 && isHex(value[i + 1]) && isHex(value[i + 2])) {
      out[n++] = parseInt(String.fromCharCode(value[i + 1]!, value[i + 2]!), 16);
      i += 2;
    } else out[n++] = byte;
  }
  return out.subarray(0, n);
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
}

/** The UTF-8 text of `bytes`, or undefined when they are not valid UTF-8 or hold a NUL (Swift's check_utf8). */
export function strictUtf8(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
