import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { annotate, ManifestInputError, parseManifestInput, rawManifest, sloEtag, strictBase64, type StoredSegment } from './slo-manifest.ts';

const md5 = (text: string | Buffer) => createHash('md5').update(text).digest('hex');
const PATH = '/v1/AUTH_test/c/manifest';

function problems(body: unknown): string {
  try {
    parseManifestInput(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), PATH);
  } catch (err) {
    assert.ok(err instanceof ManifestInputError);
    return err.message;
  }
  assert.fail('the manifest was accepted');
}

describe('SLO manifest input', () => {
  test('a list of object and data segments is accepted, sizes as numbers, data re-padded', () => {
    const parsed = parseManifestInput(
      Buffer.from(JSON.stringify([{ path: '/c/a', etag: null, size_bytes: '12' }, { data: 'aGk' + '=' }, { path: 'c/b', range: '1-5' }])),
      PATH,
    );
    assert.deepEqual(parsed[0], { path: '/c/a', etag: null, size_bytes: 12 });
    assert.deepEqual(parsed[1], { data: 'aGk=' });
    assert.deepEqual((parsed[2] as { range: unknown }).range, [[1, 5]]);
  });

  test('bad JSON and non-lists are refused with Swift\'s messages', () => {
    assert.equal(problems('{nope'), 'Manifest must be valid JSON.\n');
    assert.equal(problems({ path: '/c/o' }), 'Manifest must be a list.\n');
  });

  test('every bad segment is reported at once, one line each', () => {
    const text = problems([
      'just a string',
      { etag: 'x' },
      { path: '/c/o', color: 'blue', zebra: 1 },
      { path: 7 },
      { path: '/c/o', etag: 5 },
      { path: '/justcontainer' },
      { path: '/c/o', size_bytes: 'many' },
      { path: '/c/o', size_bytes: 0 },
      { path: '/c/manifest' },
      { path: '/c/o', range: '5' },
      { path: '/c/o', range: '1-2,4-5' },
      { path: '/c/o', range: '10-20', size_bytes: 5 },
      { data: 'not base64!' },
      { data: '' },
      { path: '/c/last', size_bytes: 0 },
    ]);
    assert.equal(
      text,
      [
        'Index 0: not a JSON object',
        "Index 1: expected keys to include one of 'data' or 'path'",
        'Index 2: extraneous keys "color", "zebra"',
        'Index 3: "path" must be a string',
        'Index 4: "etag" must be a string or null (if provided)',
        'Index 5: path does not refer to an object. Path must be of the form /container/object.',
        'Index 6: invalid size_bytes',
        'Index 7: too small; each segment must be at least 1 byte.',
        'Index 8: manifest must not include itself as a segment',
        'Index 9: invalid range',
        'Index 10: multiple ranges (only one allowed)',
        'Index 11: unsatisfiable range',
        'Index 12: data must be valid base64',
        'Index 13: too small; each segment must be at least 1 byte.',
        '',
      ].join('\n'),
    );
  });

  test('a manifest of data alone needs at least one object', () => {
    assert.equal(problems([{ data: 'YWJj' }]), 'Inline data segments require at least one object-backed segment.\n');
  });

  test('strict base64 refuses stray characters and missing padding', () => {
    assert.equal(strictBase64('YWJj')?.toString(), 'abc');
    assert.equal(strictBase64('YWI=')?.toString(), 'ab');
    assert.equal(strictBase64('YWI'), undefined);
    assert.equal(strictBase64('YW Jj'), undefined);
    assert.equal(strictBase64(12), undefined);
  });
});

describe('stored SLO manifests', () => {
  const stored: StoredSegment[] = [
    { name: '/c/a', bytes: 10, hash: 'aaa', content_type: 'text/plain', last_modified: '2024-01-01T00:00:00.000000' },
    { data: Buffer.from('inline').toString('base64') },
    { name: '/c/b', bytes: 100, hash: 'bbb', content_type: 'text/plain', last_modified: '2024-01-01T00:00:00.000000', range: '10-19' },
  ];

  test('the ETag is the MD5 of the segment ETags, ranges as "etag:range;", data as its MD5', () => {
    assert.equal(sloEtag(stored), md5(`aaa${md5('inline')}bbb:10-19;`));
  });

  test('lengths come from sizes, ranges and decoded data', () => {
    assert.deepEqual(
      annotate(stored).map((s) => s.length),
      [10, 6, 10],
    );
  });

  test('the raw form is what a client PUTs, keys sorted', () => {
    assert.equal(
      rawManifest(stored),
      JSON.stringify([
        { etag: 'aaa', path: '/c/a', size_bytes: 10 },
        { data: Buffer.from('inline').toString('base64') },
        { etag: 'bbb', path: '/c/b', range: '10-19', size_bytes: 100 },
      ]),
    );
  });
});
