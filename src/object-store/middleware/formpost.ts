// Browser uploads straight into a container (Swift's formpost): an HTML form POSTed as
// multipart/form-data to /v1/<account>/<container>[/<prefix>] becomes one object PUT per file
// field, each named <prefix><filename>. The form is signed by whoever holds a temp URL key:
//   HMAC(key, "<path>\n<redirect>\n<max_file_size>\n<max_file_count>\n<expires>")
// in the `signature` field (hex or "<digest>:<base64>"), next to `redirect` (optional),
// `max_file_size`, `max_file_count` and `expires`; `x_delete_at`, `x_delete_after`,
// `content-type` and `content-encoding` fields apply to the files after them. Fields after a
// file only apply to later files: the form is read as it streams in, never held whole.
// The answer is the last upload's status as text, or a 303 to `redirect` with ?status=&message=.
import { Transform, type Readable } from 'node:stream';
import type { Capabilities } from '../capabilities.ts';
import { parseInteger } from '../constraints.ts';
import { parseSwiftPath } from '../path.ts';
import { readBody, subrequest, type Handler, type Middleware, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { requestReader } from './byte-reader.ts';
import { formParts, MimeInvalid, parseContentDisposition, type FormPart } from './multipart.ts';
import { quote } from './quote.ts';
import { bodyResponse, errorPage, plainResponse, statusLine } from './responses.ts';
import { allowedDigests, hmacHex, parseSignature, sameSignature, tempUrlKeys } from './signatures.ts';

export interface FormPostOptions {
  /** digests a signature may use; default sha1 (deprecated) sha256 sha512 */
  allowedDigests?: readonly string[];
  /** where the /info "formpost" section is registered */
  capabilities?: Capabilities;
  /** seconds since the epoch; for tests */
  now?: () => number;
}

/** Longest field value kept; the rest is read and dropped. */
const MAX_VALUE_LENGTH = 4096;

/** The form is malformed: 400. */
class FormInvalid extends Error {}
/** The form's signature does not hold: 401. */
class FormUnauthorized extends Error {}

/** str.title(): "invalid signature" → "Invalid Signature". */
function title(text: string): string {
  return text.replace(/[A-Za-z]+/g, (word) => word[0]!.toUpperCase() + word.slice(1).toLowerCase());
}

export function formpost(opts: FormPostOptions = {}): Middleware {
  const digests = allowedDigests(opts.allowedDigests);
  const now = opts.now ?? (() => Date.now() / 1000);
  opts.capabilities?.register('formpost', {
    allowed_digests: digests.allowed,
    ...(digests.deprecated.length ? { deprecated_digests: digests.deprecated } : {}),
  });

  return (next: Handler): Handler => async (req) => {
    if (req.method !== 'POST') return next(req);
    const [type, params] = parseContentDisposition(req.headers['content-type'] ?? '');
    if (type !== 'multipart/form-data' || params.boundary === undefined) return next(req);
    const { reader, release } = requestReader(req.body);
    try {
      return await new FormUpload(req, next, digests.allowed, now()).run(formParts(reader, params.boundary));
    } catch (err) {
      if (err instanceof MimeInvalid) return plainResponse(400, 'FormPost: invalid starting boundary');
      if (err instanceof FormInvalid) return plainResponse(400, `FormPost: ${err.message}`);
      if (err instanceof FormUnauthorized) return bodyResponse(401, `FormPost: ${title(err.message)}`);
      // the client stopped sending: nobody is left to answer
      if (err !== undefined && err === reader.error) return errorPage(499);
      throw err;
    } finally {
      release();
    }
  };
}

interface UploadResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

class FormUpload {
  readonly #attributes: Record<string, string> = {};
  #keys: string[] | undefined;

  constructor(
    private readonly req: SwiftRequest,
    private readonly next: Handler,
    private readonly digests: readonly string[],
    private readonly now: number,
  ) {}

  async run(parts: AsyncGenerator<FormPart>): Promise<SwiftResponse> {
    let last: UploadResult | undefined;
    let message = '';
    let files = 0;
    for await (const part of parts) {
      const [disposition, attrs] = parseContentDisposition(part.headers['content-disposition'] ?? '');
      if (disposition === 'form-data' && attrs.filename) {
        files++;
        const maxCount = parseInteger(this.#attributes.max_file_count || '0');
        if (maxCount === undefined) throw new FormInvalid('max_file_count not an integer');
        if (files > maxCount) {
          last = { status: 400, headers: {}, body: Buffer.alloc(0) };
          message = 'max file count exceeded';
          break;
        }
        const fileAttributes: Record<string, string> = { ...this.#attributes, filename: attrs.filename };
        if (!('content-type' in this.#attributes) && part.headers['content-type'] !== undefined) {
          fileAttributes['content-type'] = part.headers['content-type'] || 'application/octet-stream';
        }
        if (!('content-encoding' in this.#attributes) && part.headers['content-encoding'] !== undefined) {
          fileAttributes['content-encoding'] = part.headers['content-encoding'];
        }
        last = await this.#upload(fileAttributes, part.body());
        if (!isSuccess(last.status)) break;
      } else {
        const value = await fieldValue(part.body());
        // trailing CR, LF and dashes are dropped, as Swift drops them
        if (attrs.name !== undefined) this.#attributes[attrs.name.toLowerCase()] = value.replace(/[\r\n-]+$/, '');
      }
    }
    if (!last) {
      last = { status: 400, headers: {}, body: Buffer.alloc(0) };
      message = 'no files to process';
    }
    return this.#answer(last, message);
  }

  #answer(last: UploadResult, message: string): SwiftResponse {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(last.headers)) if (name.startsWith('access-control')) headers[name] = value;
    const redirect = this.#attributes.redirect;
    if (!redirect) {
      let body: string | Buffer = statusLine(last.status) + (message ? `\r\nFormPost: ${title(message)}` : '');
      if (!isSuccess(last.status) && last.body.length) body = last.body;
      return plainResponse(last.status, body, headers);
    }
    const location = `${redirect}${redirect.includes('?') ? '&' : '?'}status=${quote(String(last.status))}&message=${quote(message)}`;
    const body = `<html><body><p><a href="${location}">Click to continue...</a></p></body></html>`;
    return { status: 303, headers: { ...headers, location, 'content-length': String(Buffer.byteLength(body)) }, body };
  }

  /** The temp URL keys of the account and the container; none when the form is not posted to a container. */
  async #formKeys(): Promise<string[]> {
    if (this.#keys) return this.#keys;
    const path = parseSwiftPath(this.req.path);
    this.#keys = path?.container === undefined ? [] : (await tempUrlKeys(this.req, this.next)).map((k) => k.key);
    return this.#keys;
  }

  async #upload(attributes: Record<string, string>, data: Readable): Promise<UploadResult> {
    const keys = await this.#formKeys();
    if (keys.length === 0) throw new FormUnauthorized('invalid signature');
    const maxFileSize = parseInteger(attributes.max_file_size || '0');
    if (maxFileSize === undefined) throw new FormInvalid('max_file_size not an integer');

    let path = this.req.path;
    if (!path.endsWith('/') && path.split('/').length - 1 < 4) path += '/';
    path += attributes.filename || 'filename';
    const headers: Record<string, string> = { 'transfer-encoding': 'chunked' };
    if ('x_delete_at' in attributes) {
      const at = parseInteger(attributes.x_delete_at!);
      if (at === undefined) throw new FormInvalid('x_delete_at not an integer: Unix timestamp required.');
      headers['x-delete-at'] = String(at);
    }
    if ('x_delete_after' in attributes) {
      const after = parseInteger(attributes.x_delete_after!);
      if (after === undefined) throw new FormInvalid('x_delete_after not an integer: Number of seconds required.');
      headers['x-delete-after'] = String(after);
    }
    if ('content-type' in attributes) headers['content-type'] = attributes['content-type'] || 'application/octet-stream';
    if ('content-encoding' in attributes) headers['content-encoding'] = attributes['content-encoding']!;
    const expires = parseInteger(attributes.expires || '0');
    if (expires === undefined) throw new FormInvalid('expired not an integer');
    if (expires < this.now) throw new FormUnauthorized('form expired');
    this.#checkSignature(attributes, keys);

    const capped = capAt(maxFileSize);
    data.on('error', (err) => capped.destroy(err));
    // the upload may be over before the cap trips; the flag says what happened
    capped.on('error', () => undefined);
    const res = await this.next(subrequest(this.req, { method: 'PUT', path, headers, body: data.pipe(capped), preauthorized: true, source: 'FP' }));
    const body = await readBody(res.body, 1 << 20).catch(() => Buffer.alloc(0));
    if (capped.exceeded) throw new FormInvalid('max_file_size exceeded');
    return { status: res.status, headers: res.headers, body };
  }

  #checkSignature(attributes: Record<string, string>, keys: string[]): void {
    const signature = parseSignature(attributes.signature ?? '');
    if (!signature || !this.digests.includes(signature.digest)) throw new FormUnauthorized('invalid signature');
    const parts = [
      this.req.path,
      attributes.redirect || '',
      attributes.max_file_size || '0',
      attributes.max_file_count || '0',
      attributes.expires || '0',
    ];
    // every key is tried, so the time taken says nothing about which one matched
    let valid = false;
    for (const key of keys) if (sameSignature(hmacHex(signature.digest, key, parts), signature.hex)) valid = true;
    if (!valid) throw new FormUnauthorized('invalid signature');
  }
}

/** A field's value: its first MAX_VALUE_LENGTH bytes, the rest read and dropped. */
async function fieldValue(body: Readable): Promise<string> {
  const kept: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = MAX_VALUE_LENGTH - size;
    if (room > 0) {
      kept.push((chunk as Buffer).subarray(0, room));
      size += Math.min(room, (chunk as Buffer).length);
    }
  }
  return Buffer.concat(kept).toString('utf8');
}

/** Passes a file through, failing the upload once it grows past `limit` bytes (so nothing is stored). */
function capAt(limit: number): Transform & { exceeded: boolean } {
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) {
        cap.exceeded = true;
        done(new Error('max_file_size exceeded'));
        return;
      }
      done(null, chunk);
    },
  }) as Transform & { exceeded: boolean };
  cap.exceeded = false;
  return cap;
}
