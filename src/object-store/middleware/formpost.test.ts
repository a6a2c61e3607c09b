import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { Capabilities } from '../capabilities.ts';
import { compose } from '../pipeline.ts';
import { formpost } from './formpost.ts';
import { parseContentDisposition } from './multipart.ts';
import { bodyText, MemorySwift, request } from './testing/memory-swift.ts';

const NOW = 1_700_000_000;
const KEY = 'form-key';
const BOUNDARY = '----WebKitFormBoundary7MA4YWxkTrZu0gW';

interface Field {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

function body(fields: Field[], boundary = BOUNDARY): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"`;
    if (f.filename !== undefined) head += `; filename="${f.filename}"`;
    head += '\r\n';
    if (f.contentType) head += `Content-Type: ${f.contentType}\r\n`;
    parts.push(Buffer.from(`${head}\r\n`), Buffer.from(f.value), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

interface Form {
  path?: string;
  redirect?: string;
  maxFileSize?: number;
  maxFileCount?: number;
  expires?: number;
  key?: string;
  digest?: string;
}

function signed(form: Form = {}): Field[] {
  const path = form.path ?? '/v1/AUTH_a/c/up/';
  const redirect = form.redirect ?? '';
  const size = String(form.maxFileSize ?? 1024);
  const count = String(form.maxFileCount ?? 5);
  const expires = String(form.expires ?? NOW + 600);
  const signature = createHmac(form.digest ?? 'sha256', form.key ?? KEY).update([path, redirect, size, count, expires].join('\n')).digest('hex');
  const fields: Field[] = [];
  if (redirect) fields.push({ name: 'redirect', value: redirect });
  fields.push({ name: 'max_file_size', value: size }, { name: 'max_file_count', value: count }, { name: 'expires', value: expires }, { name: 'signature', value: signature });
  return fields;
}

/** Feeds the body in small pieces, so boundaries fall across chunks. */
function post(path: string, data: Buffer, boundary = BOUNDARY) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 7) chunks.push(data.subarray(i, i + 7));
  return request('POST', path, { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(data.length) }, Readable.from(chunks));
}

function setup() {
  const swift = new MemorySwift();
  swift.account('AUTH_a', { 'x-account-meta-temp-url-key': KEY });
  swift.container('AUTH_a', 'c');
  swift.container('AUTH_a', 'keyed', { 'x-container-meta-temp-url-key': 'container-key' });
  const handler = compose(swift.handler, formpost({ now: () => NOW }));
  return { swift, handler };
}

describe('formpost', () => {
  test('files in a signed form become objects under the form path', async () => {
    const { swift, handler } = setup();
    const res = await handler(post('/v1/AUTH_a/c/up/', body([
      ...signed(),
      { name: 'file1', filename: 'a.txt', value: 'first file', contentType: 'text/plain' },
      { name: 'file2', filename: 'b.bin', value: Buffer.alloc(700, 1) },
    ])));
    assert.equal(res.status, 201);
    assert.equal(await bodyText(res), '201 Created');
    assert.equal(swift.object('AUTH_a', 'c', 'up/a.txt')?.data.toString(), 'first file');
    assert.equal(swift.object('AUTH_a', 'c', 'up/a.txt')?.headers['content-type'], 'text/plain');
    assert.equal(swift.object('AUTH_a', 'c', 'up/b.bin')?.data.length, 700);
    const puts = swift.seen.filter((r) => r.method === 'PUT');
    assert.deepEqual(puts.map((r) => [r.source, r.preauthorized, r.query]), [['FP', true, ''], ['FP', true, '']]);
  });

  test('a form to a container, or to a name prefix without a slash', async () => {
    const { swift, handler } = setup();
    assert.equal((await handler(post('/v1/AUTH_a/c', body([...signed({ path: '/v1/AUTH_a/c' }), { name: 'f', filename: 'top', value: '1' }])))).status, 201);
    assert.equal(swift.object('AUTH_a', 'c', 'top')?.data.toString(), '1');
    assert.equal((await handler(post('/v1/AUTH_a/c/pre', body([...signed({ path: '/v1/AUTH_a/c/pre' }), { name: 'f', filename: 'fix', value: '2' }])))).status, 201);
    assert.equal(swift.object('AUTH_a', 'c', 'prefix')?.data.toString(), '2');
  });

  test('a container key signs forms to its container', async () => {
    const { swift, handler } = setup();
    const res = await handler(post('/v1/AUTH_a/keyed/', body([...signed({ path: '/v1/AUTH_a/keyed/', key: 'container-key', digest: 'sha512' }), { name: 'f', filename: 'k', value: 'x' }])));
    assert.equal(res.status, 201);
    assert.ok(swift.object('AUTH_a', 'keyed', 'k'));
  });

  test('a redirect gets a 303 with the outcome in its query', async () => {
    const { handler } = setup();
    const res = await handler(post('/v1/AUTH_a/c/up/', body([...signed({ redirect: 'https://example.com/done?x=1' }), { name: 'f', filename: 'a', value: 'a' }])));
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, 'https://example.com/done?x=1&status=201&message=');
    assert.equal(await bodyText(res), '<html><body><p><a href="https://example.com/done?x=1&status=201&message=">Click to continue...</a></p></body></html>');
    const tooMany = await handler(post('/v1/AUTH_a/c/up/', body([...signed({ redirect: 'https://example.com/', maxFileCount: 1 }), { name: 'f', filename: 'a', value: 'a' }, { name: 'g', filename: 'b', value: 'b' }])));
    assert.equal(tooMany.headers.location, 'https://example.com/?status=400&message=max%20file%20count%20exceeded');
  });

  test('a bad or expired signature is a 401 and nothing is stored', async () => {
    const { swift, handler } = setup();
    const cases: [Field[], string][] = [
      [[...signed({ key: 'wrong' }), { name: 'f', filename: 'a', value: 'a' }], 'FormPost: Invalid Signature'],
      [[...signed({ path: '/v1/AUTH_a/c/other/' }), { name: 'f', filename: 'a', value: 'a' }], 'FormPost: Invalid Signature'],
      [[...signed({ expires: NOW - 1 }), { name: 'f', filename: 'a', value: 'a' }], 'FormPost: Form Expired'],
      [[...signed({ digest: 'md5' }), { name: 'f', filename: 'a', value: 'a' }], 'FormPost: Invalid Signature'],
    ];
    for (const [fields, text] of cases) {
      const res = await handler(post('/v1/AUTH_a/c/up/', body(fields)));
      assert.equal(res.status, 401, text);
      assert.equal(await bodyText(res), text);
    }
    assert.equal(swift.object('AUTH_a', 'c', 'up/a'), undefined);
    // an unsigned form allows no files at all
    const unsigned = await handler(post('/v1/AUTH_a/c/up/', body([{ name: 'f', filename: 'a', value: 'a' }])));
    assert.equal(await bodyText(unsigned), '400 Bad Request\r\nFormPost: Max File Count Exceeded');
    const noKeys = await handler(post('/v1/AUTH_b/c/up/', body([...signed({ path: '/v1/AUTH_b/c/up/' }), { name: 'f', filename: 'a', value: 'a' }])));
    assert.equal(noKeys.status, 401);
  });

  test('too many files: the first ones are stored, then 400', async () => {
    const { swift, handler } = setup();
    const res = await handler(post('/v1/AUTH_a/c/up/', body([...signed({ maxFileCount: 1 }), { name: 'f', filename: 'a', value: 'a' }, { name: 'g', filename: 'b', value: 'b' }])));
    assert.equal(res.status, 400);
    assert.equal(await bodyText(res), '400 Bad Request\r\nFormPost: Max File Count Exceeded');
    assert.ok(swift.object('AUTH_a', 'c', 'up/a'));
    assert.equal(swift.object('AUTH_a', 'c', 'up/b'), undefined);
  });

  test('a file over max_file_size is refused and not stored', async () => {
    const { swift, handler } = setup();
    const res = await handler(post('/v1/AUTH_a/c/up/', body([...signed({ maxFileSize: 10 }), { name: 'f', filename: 'big', value: 'x'.repeat(11) }])));
    assert.equal(res.status, 400);
    assert.equal(await bodyText(res), 'FormPost: max_file_size exceeded');
    assert.equal(swift.object('AUTH_a', 'c', 'up/big'), undefined);
    const exact = await handler(post('/v1/AUTH_a/c/up/', body([...signed({ maxFileSize: 10 }), { name: 'f', filename: 'fits', value: 'x'.repeat(10) }])));
    assert.equal(exact.status, 201);
  });

  test('malformed forms are 400s with Swift\'s messages', async () => {
    const { handler } = setup();
    const noFiles = await handler(post('/v1/AUTH_a/c/up/', body(signed())));
    assert.equal(noFiles.status, 400);
    assert.equal(await bodyText(noFiles), '400 Bad Request\r\nFormPost: No Files To Process');
    assert.equal(noFiles.headers['content-type'], 'text/plain');
    const badStart = await handler(post('/v1/AUTH_a/c/up/', Buffer.from('--not-the-boundary\r\n\r\n')));
    assert.equal(badStart.status, 400);
    assert.equal(await bodyText(badStart), 'FormPost: invalid starting boundary');
    assert.equal(badStart.headers['content-type'], 'text/plain');
    const fields = signed().map((f) => (f.name === 'max_file_size' ? { ...f, value: 'big' } : f));
    const badSize = await handler(post('/v1/AUTH_a/c/up/', body([...fields, { name: 'f', filename: 'a', value: 'a' }])));
    assert.equal(badSize.status, 400);
    assert.equal(await bodyText(badSize), 'FormPost: max_file_size not an integer');
    const badDelete = await handler(post('/v1/AUTH_a/c/up/', body([...signed(), { name: 'x_delete_at', value: 'tomorrow' }, { name: 'f', filename: 'a', value: 'a' }])));
    assert.equal(await bodyText(badDelete), 'FormPost: x_delete_at not an integer: Unix timestamp required.');
  });

  test('fields before a file apply to it: content type and expiry', async () => {
    const { swift, handler } = setup();
    const res = await handler(post('/v1/AUTH_a/c/up/', body([
      ...signed(),
      { name: 'content-type', value: 'image/png' },
      { name: 'x_delete_after', value: '3600' },
      { name: 'f', filename: 'p.png', value: 'png', contentType: 'text/plain' },
    ])));
    assert.equal(res.status, 201);
    const put = swift.seen.find((r) => r.method === 'PUT')!;
    assert.equal(put.headers['content-type'], 'image/png');
    assert.equal(put.headers['x-delete-after'], '3600');
  });

  test('a failed upload answers with its own status and body', async () => {
    const { swift, handler } = setup();
    swift.failures.set('PUT /v1/AUTH_a/c/up/a', 413);
    const res = await handler(post('/v1/AUTH_a/c/up/', body([...signed(), { name: 'f', filename: 'a', value: 'a' }])));
    assert.equal(res.status, 413);
    assert.match(await bodyText(res), /failing on purpose/);
  });

  test('an empty file field (no file chosen) is an ordinary field', async () => {
    const { handler } = setup();
    const res = await handler(post('/v1/AUTH_a/c/up/', body([...signed(), { name: 'f', filename: '', value: '' }])));
    assert.equal(await bodyText(res), '400 Bad Request\r\nFormPost: No Files To Process');
  });

  test('a client that goes away mid-form gets a 499 and leaves no object', async () => {
    const { swift, handler } = setup();
    const whole = body([...signed(), { name: 'f', filename: 'cut', value: 'x'.repeat(1000) }]);
    const source = new Readable({ read() {} });
    source.push(whole.subarray(0, whole.length - 300));
    setImmediate(() => source.destroy(new Error('socket hang up')));
    const res = await handler(request('POST', '/v1/AUTH_a/c/up/', { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': String(whole.length) }, source));
    assert.equal(res.status, 499, await bodyText(res));
    assert.equal(swift.object('AUTH_a', 'c', 'up/cut'), undefined);
  });

  test('other POSTs pass through', async () => {
    const { swift, handler } = setup();
    assert.equal((await handler(request('POST', '/v1/AUTH_a/c', { 'x-container-meta-a': 'b' }))).status, 204);
    assert.equal(swift.accounts.get('AUTH_a')!.containers.get('c')!.headers['x-container-meta-a'], 'b');
  });

  test('parseContentDisposition reads attributes as Swift does', () => {
    assert.deepEqual(parseContentDisposition('form-data; name="file1"; filename="a b.txt"'), ['form-data', { name: 'file1', filename: 'a b.txt' }]);
    assert.deepEqual(parseContentDisposition('multipart/form-data; boundary=abc'), ['multipart/form-data', { boundary: 'abc' }]);
    assert.deepEqual(parseContentDisposition('form-data'), ['form-data', {}]);
  });

  test('registers its /info section', () => {
    const capabilities = new Capabilities();
    formpost({ capabilities, allowedDigests: ['sha256', 'sha512'] });
    assert.deepEqual(capabilities.get('formpost'), { allowed_digests: ['sha256', 'sha512'] });
  });
});
