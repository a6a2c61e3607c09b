import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Capabilities } from '../capabilities.ts';
import { compose, type Handler, type SwiftRequest } from '../pipeline.ts';
import { bulk, type BulkOptions } from './bulk.ts';
import { bodyText, MemorySwift, request } from './testing/memory-swift.ts';
import * as tar from './testing/tar-writer.ts';

function setup(options: BulkOptions = {}, below?: (next: Handler) => Handler) {
  const swift = new MemorySwift();
  swift.container('AUTH_a', 'c');
  swift.container('AUTH_a', 'd');
  swift.putObject('AUTH_a', 'c', 'one', '1');
  swift.putObject('AUTH_a', 'c', 'two words', '2');
  swift.putObject('AUTH_a', 'd', 'ünï', '3');
  const middlewares = [bulk(options), ...(below ? [below] : [])];
  return { swift, handler: compose(swift.handler, ...middlewares) };
}

function bulkDelete(names: string, headers: Record<string, string> = {}): SwiftRequest {
  return request('POST', '/v1/AUTH_a?bulk-delete', { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(names)), ...headers }, Readable.from([Buffer.from(names)]));
}

function extract(path: string, archive: Buffer, headers: Record<string, string> = {}): SwiftRequest {
  const chunks: Buffer[] = [];
  for (let i = 0; i < archive.length; i += 1000) chunks.push(archive.subarray(i, i + 1000));
  return request('PUT', path, { 'content-length': String(archive.length), ...headers }, Readable.from(chunks));
}

async function json(res: { body?: unknown }): Promise<Record<string, unknown>> {
  return JSON.parse(await bodyText(res as never)) as Record<string, unknown>;
}

describe('bulk delete', () => {
  test('objects and then their emptied containers, counted', async () => {
    const { swift, handler } = setup();
    const res = await handler(bulkDelete('/c/one\n/c/two%20words\n/d/%C3%BCn%C3%AF\n/c\n/d\n/c/missing\n\n', { accept: 'application/json' }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(await json(res), { 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': 5, 'Number Not Found': 1, Errors: [] });
    assert.equal(swift.accounts.get('AUTH_a')!.containers.size, 0);
    const deletes = swift.seen.filter((r) => r.method === 'DELETE');
    assert.ok(deletes.every((r) => r.source === 'BD' && !r.preauthorized));
    assert.deepEqual(deletes.slice(-2).map((r) => r.path).sort(), ['/v1/AUTH_a/c', '/v1/AUTH_a/d']);
  });

  test('containers wait for every object delete to finish', async () => {
    // object deletes that finish late, as they may with several storage nodes
    const slow = (next: Handler): Handler => async (req) => {
      if (req.method === 'DELETE' && req.path.split('/').length > 4) await new Promise((r) => setTimeout(r, 20));
      return next(req);
    };
    const { swift, handler } = setup({ deleteConcurrency: 4 }, slow);
    const res = await handler(bulkDelete('/c/one\n/c/two%20words\n/c\n', { accept: 'application/json' }));
    assert.deepEqual((await json(res))['Number Deleted'], 3);
    assert.equal(swift.accounts.get('AUTH_a')!.containers.has('c'), false);
  });

  test('the plain text and XML reports', async () => {
    const { handler } = setup();
    const plain = await handler(bulkDelete('/c/one\n/c/nope'));
    assert.equal(plain.headers['content-type'], 'text/plain');
    assert.equal(await bodyText(plain), 'Number Deleted: 1\nNumber Not Found: 1\nResponse Body: \nResponse Status: 200 OK\nErrors:\n');
    const xml = await handler(bulkDelete('/c\n', { accept: 'application/xml' }));
    assert.equal(
      await bodyText(xml),
      '<delete>\n<number_deleted>0</number_deleted>\n<number_not_found>0</number_not_found>\n<response_body></response_body>\n' +
        '<response_status>400 Bad Request</response_status>\n<errors>\n<object><name>/c</name><status>409 Conflict</status></object>\n</errors>\n</delete>\n',
    );
  });

  test('failures: a server error makes it 502, and names are quoted', async () => {
    const { swift, handler } = setup();
    swift.failures.set('DELETE /v1/AUTH_a/c/two words', 503);
    const res = await handler(bulkDelete('/c/one\n/c/two%20words\n/c/%FF\n', { accept: 'application/json' }));
    assert.deepEqual(await json(res), {
      'Response Status': '502 Bad Gateway',
      'Response Body': '',
      'Number Deleted': 1,
      'Number Not Found': 0,
      Errors: [['/c/two%20words', '503 Service Unavailable'], ['/c/%EF%BF%BD', '412 Precondition Failed']],
    });
  });

  test('what is refused before anything is deleted', async () => {
    const { swift, handler } = setup({ maxDeletesPerRequest: 2 });
    const report = async (req: SwiftRequest) => json(await handler(req));
    assert.deepEqual(await report(bulkDelete('/c/one\n/c/two%20words\n/d/x\n', { accept: 'application/json' })), {
      'Response Status': '413 Request Entity Too Large', 'Response Body': 'Maximum Bulk Deletes: 2 per request', 'Number Deleted': 0, 'Number Not Found': 0, Errors: [],
    });
    assert.ok(swift.object('AUTH_a', 'c', 'one'));
    assert.equal((await report(bulkDelete('/c/one', { accept: 'application/json', 'content-type': 'application/json' })))['Response Status'], '406 Not Acceptable');
    assert.equal((await report(bulkDelete(`/c/${'x'.repeat(3000)}`, { accept: 'application/json' })))['Response Body'], 'Invalid File Name');
    assert.deepEqual(await report(bulkDelete('\n\n', { accept: 'application/json' })), {
      'Response Status': '400 Bad Request', 'Response Body': 'Invalid bulk delete.', 'Number Deleted': 0, 'Number Not Found': 0, Errors: [],
    });
    const noLength = request('POST', '/v1/AUTH_a?bulk-delete', { accept: 'application/json' }, Readable.from([Buffer.from('/c/one')]));
    assert.equal((await report(noLength))['Response Status'], '411 Length Required');
    assert.ok(swift.object('AUTH_a', 'c', 'one'));
  });

  test('an Accept it cannot meet is a 406 in the report', async () => {
    const { swift, handler } = setup();
    const res = await handler(bulkDelete('/c/one', { accept: 'image/png' }));
    assert.equal(res.status, 200);
    assert.match(await bodyText(res), /Response Status: 406 Not Acceptable/);
    assert.ok(swift.object('AUTH_a', 'c', 'one'));
  });

  test('whitespace keeps the connection alive while it works, then a blank line and the report', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const hold = (next: Handler): Handler => async (req) => {
      if (req.method === 'DELETE') await held;
      return next(req);
    };
    const { handler } = setup({ yieldFrequency: 0.001 }, hold);
    const res = await handler(bulkDelete('/c/one', { accept: 'application/xml' }));
    const body = res.body as Readable;
    const chunks: string[] = [];
    for await (const chunk of body) {
      chunks.push(String(chunk));
      if (chunks.length === 2) release(); // two beats seen: let the delete finish
    }
    assert.equal(chunks[0], '<?xml version="1.0" encoding="UTF-8"?>\n');
    assert.equal(chunks[1], ' ');
    assert.match(chunks.join(''), /^<\?xml[^\n]*\n +\r\n\r\n<delete>\n<number_deleted>1<\/number_deleted>/);
  });

  test('other requests pass through', async () => {
    const { handler } = setup();
    assert.equal((await handler(request('GET', '/v1/AUTH_a/c/one'))).status, 200);
    assert.equal((await handler(request('GET', '/v1/AUTH_a/c/one?bulk-delete'))).status, 200);
  });
});

describe('archive extraction', () => {
  const archive = tar.archive(
    tar.directory('photos/'),
    tar.file('photos/a.jpg', 'AAA'),
    tar.file('./photos/sub/b.jpg', 'BB'),
    tar.file('top-level.txt', 'ignored'),
    tar.symlink('photos/link'),
    tar.file('docs/readme', 'read me'),
  );

  test('files become objects, their first directory the container, created as needed', async () => {
    const { swift, handler } = setup();
    const res = await handler(extract('/v1/AUTH_a?extract-archive=tar', archive, { accept: 'application/json' }));
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { 'Response Status': '201 Created', 'Response Body': '', 'Number Files Created': 3, Errors: [] });
    assert.equal(swift.object('AUTH_a', 'photos', 'a.jpg')?.data.toString(), 'AAA');
    assert.equal(swift.object('AUTH_a', 'photos', 'sub/b.jpg')?.data.toString(), 'BB');
    assert.equal(swift.object('AUTH_a', 'docs', 'readme')?.data.toString(), 'read me');
    const containerPuts = swift.seen.filter((r) => r.method === 'PUT' && r.path.split('/').length === 4);
    assert.deepEqual(containerPuts.map((r) => r.path), ['/v1/AUTH_a/photos', '/v1/AUTH_a/docs']);
  });

  test('into a container and prefix, gzipped', async () => {
    const { swift, handler } = setup();
    const res = await handler(extract('/v1/AUTH_a/c/backup/?extract-archive=.tar.gz.', gzipSync(archive)));
    assert.match(await bodyText(res), /Number Files Created: 4\nResponse Body: \nResponse Status: 201 Created/);
    assert.equal(swift.object('AUTH_a', 'c', 'backup/top-level.txt')?.data.toString(), 'ignored');
    assert.equal(swift.object('AUTH_a', 'c', 'backup/photos/sub/b.jpg')?.data.toString(), 'BB');
  });

  test('metadata from the request and from extended attributes', async () => {
    const { swift, handler } = setup();
    const withXattrs = tar.archive(
      tar.pax({ 'SCHILY.xattr.user.mime_type': 'text/x-python', 'SCHILY.xattr.user.meta.lunch': 'burger', 'SCHILY.xattr.user.stuff': 'x' }),
      tar.file('c/setup.py', 'print()'),
    );
    await bodyText(await handler(extract('/v1/AUTH_a?extract-archive=tar', withXattrs, { 'x-object-meta-batch': '7', 'x-delete-after': '60', 'content-type': 'ignored/type' })));
    const put = swift.seen.find((r) => r.path === '/v1/AUTH_a/c/setup.py')!;
    assert.equal(put.headers['content-type'], 'text/x-python');
    assert.equal(put.headers['x-object-meta-lunch'], 'burger');
    assert.equal(put.headers['x-object-meta-batch'], '7');
    assert.equal(put.headers['x-delete-after'], '60');
    assert.equal(put.headers['x-object-meta-stuff'], undefined);
    assert.equal(put.headers['content-length'], '7');
    assert.equal(put.source, 'EA');
  });

  test('broken archives are reported in tar\'s words', async () => {
    const { handler } = setup();
    const report = async (body: Buffer, type = 'tar') => json(await handler(extract(`/v1/AUTH_a?extract-archive=${type}`, body, { accept: 'application/json' })));
    const cases: [Buffer, string, string][] = [
      [Buffer.from('not a tar'), 'tar', 'Invalid Tar File: truncated header'],
      [Buffer.alloc(0), 'tar', 'Invalid Tar File: empty file'],
      [tar.archive(tar.file('top', 'x'), tar.directory('dir/')), 'tar', 'Invalid Tar File: No Valid Files'],
      [Buffer.from('not gzip at all, not at all'), 'tar.gz', 'Invalid Tar File: not a gzip file'],
      [gzipSync(archive).subarray(0, 100), 'tar.gz', 'Invalid Tar File: unexpected end of data'],
    ];
    for (const [body, type, message] of cases) {
      const fields = await report(body, type);
      assert.equal(fields['Response Status'], '400 Bad Request', message);
      assert.equal(fields['Response Body'], message);
    }
  });

  test('a file cut short fails the archive, keeping what was done', async () => {
    const { swift, handler } = setup();
    const whole = tar.archive(tar.file('c/first', 'complete'), tar.file('c/second', 'x'.repeat(5000)));
    const fields = await json(await handler(extract('/v1/AUTH_a?extract-archive=tar', whole.subarray(0, 3000), { accept: 'application/json' })));
    assert.equal(fields['Response Body'], 'Invalid Tar File: unexpected end of data');
    assert.equal(fields['Number Files Created'], 1);
    assert.equal(swift.object('AUTH_a', 'c', 'second'), undefined);
  });

  test('a client that goes away mid-archive stops it', async () => {
    const { swift, handler } = setup();
    const whole = tar.archive(tar.file('c/first', 'complete'), tar.file('c/second', 'x'.repeat(5000)));
    const source = new Readable({ read() {} });
    source.push(whole.subarray(0, 3000));
    setImmediate(() => source.destroy(new Error('socket hang up')));
    const req = request('PUT', '/v1/AUTH_a?extract-archive=tar', { 'content-length': String(whole.length), accept: 'application/json' }, source);
    const fields = await json(await handler(req));
    assert.equal(fields['Response Status'], '499 Client Disconnect');
    assert.equal(swift.object('AUTH_a', 'c', 'second'), undefined);
  });

  test('failed uploads are listed; a server error makes it 502', async () => {
    const { swift, handler } = setup();
    swift.failures.set('PUT /v1/AUTH_a/c/bad', 503);
    swift.failures.set('PUT /v1/AUTH_a/newc', 403);
    swift.failures.set('PUT /v1/AUTH_a/newc/f', 403);
    const body = tar.archive(tar.file('c/good', 'g'), tar.file('c/bad', 'b'), tar.file('newc/f', 'f'));
    assert.deepEqual(await json(await handler(extract('/v1/AUTH_a?extract-archive=tar', body, { accept: 'application/json' }))), {
      'Response Status': '502 Bad Gateway',
      'Response Body': '',
      'Number Files Created': 1,
      Errors: [['c/bad', '503 Service Unavailable'], ['/v1/AUTH_a/newc', '403 Forbidden'], ['newc/f', '403 Forbidden']],
    });
  });

  test('unsupported formats and missing lengths', async () => {
    const { handler } = setup();
    const zip = await handler(extract('/v1/AUTH_a?extract-archive=zip', archive));
    assert.equal(zip.status, 400);
    assert.equal(await bodyText(zip), 'Unsupported archive format');
    const bz2 = await handler(extract('/v1/AUTH_a?extract-archive=tar.bz2', archive));
    assert.equal(bz2.status, 400);
    assert.match(await bodyText(bz2), /bzip2 decoder/);
    const noLength = request('PUT', '/v1/AUTH_a?extract-archive=tar', { accept: 'application/json' }, Readable.from([archive]));
    assert.equal((await json(await handler(noLength)))['Response Status'], '411 Length Required');
  });

  test('at most max_failed_extractions failures', async () => {
    const { swift, handler } = setup({ maxFailedExtractions: 1 });
    swift.failures.set('PUT /v1/AUTH_a/c/x', 500);
    const fields = await json(await handler(extract('/v1/AUTH_a?extract-archive=tar', tar.archive(tar.file('c/x', 'x'), tar.file('c/y', 'y')), { accept: 'application/json' })));
    assert.equal(fields['Number Files Created'], 0);
    assert.equal(swift.object('AUTH_a', 'c', 'y'), undefined);
  });

  test('registers its /info sections', () => {
    const capabilities = new Capabilities();
    bulk({ capabilities });
    assert.deepEqual(capabilities.get('bulk_upload'), { max_containers_per_extraction: 10000, max_failed_extractions: 1000 });
    assert.deepEqual(capabilities.get('bulk_delete'), { max_deletes_per_request: 10000, max_failed_deletes: 1000 });
  });
});
