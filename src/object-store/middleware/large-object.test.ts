// The large-object body and response on their own, over a stub pipeline that serves or fails
// segment GETs as each test says.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { readBody, textResponse, type Handler, type SwiftRequest } from '../pipeline.ts';
import { largeObjectResponse } from './large-object.ts';
import { segmentBytes, type Segment } from './segments.ts';

const md5 = (data: string) => createHash('md5').update(data).digest('hex');

function request(headers: Record<string, string> = {}): SwiftRequest {
  return { method: 'GET', path: '/v1/AUTH_t/c/lo', query: new URLSearchParams(), headers, env: { transId: 'tx' } };
}

/** Serves /v1/AUTH_t/c/<name> from `objects` (Range included); a number answers with that status. */
function stub(objects: Record<string, string | number>, seen: SwiftRequest[] = []): Handler {
  return async (req) => {
    seen.push(req);
    const found = objects[req.path.split('/').pop()!];
    if (found === undefined) return textResponse(404);
    if (typeof found === 'number') return textResponse(found);
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const body = m ? found.slice(Number(m[1]), m[2] ? Number(m[2]) + 1 : undefined) : found;
    return { status: m ? 206 : 200, headers: { etag: md5(found), 'content-length': String(body.length) }, body: Readable.from([Buffer.from(body)]) };
  };
}

function respond(next: Handler, segments: Segment[], total: number, headers: Record<string, string> = {}) {
  const req = request(headers);
  return largeObjectResponse({
    req,
    headers: { etag: '"lo-etag"', 'content-type': 'text/plain' },
    total,
    range: undefined,
    multiRange: true,
    data: () => segmentBytes(req, next, segments, 'TEST', req.path),
    name: req.path,
  });
}

const path = (name: string) => `/v1/AUTH_t/c/${name}`;

describe('large object responses', () => {
  test('segment pieces are asked for with a Range and as stored objects', async () => {
    const seen: SwiftRequest[] = [];
    const res = await respond(stub({ a: 'abcdef', b: 'ghij' }, seen), [{ path: path('a'), first: 2, last: 4 }, { path: path('b') }], 7);
    assert.equal((await readBody(res.body, 100)).toString(), 'cdeghij');
    assert.deepEqual(seen.map((r) => [r.headers.range, r.query.get('multipart-manifest')]), [['bytes=2-4', 'get'], [undefined, 'get']]);
  });

  test('storage failing on the first segment is a 503; a missing one a 409', async () => {
    assert.equal((await respond(stub({ a: 503 }), [{ path: path('a') }], 5)).status, 503);
    assert.equal((await respond(stub({}), [{ path: path('a') }], 5)).status, 409);
  });

  test('a first segment whose ETag changed is a 409', async () => {
    const res = await respond(stub({ a: 'abc' }), [{ path: path('a'), etag: md5('xyz') }], 3);
    assert.equal(res.status, 409);
  });

  test('a later segment that is short cuts the body instead of leaving it inconsistent', async () => {
    const res = await respond(stub({ a: 'abc', b: 'de' }), [{ path: path('a') }, { path: path('b') }], 8);
    assert.equal(res.status, 200);
    await assert.rejects(readBody(res.body, 100), /Expected another 3 bytes/);
  });

  test('conditions are answered before any segment is read', async () => {
    const seen: SwiftRequest[] = [];
    const res = await respond(stub({ a: 'abc' }, seen), [{ path: path('a') }], 3, { 'if-none-match': '"lo-etag"' });
    assert.equal(res.status, 304);
    assert.equal(seen.length, 0);
  });
});
