// The S3 API over HTTP through a real proxy and three storage servers, with Swift's copy
// and SLO middlewares below it and a stand-in Identity answering s3tokens: what an S3
// client sees for each operation, including its errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copy } from '../middleware/copy.ts';
import { slo } from '../middleware/slo.ts';
import type { Middleware } from '../pipeline.ts';
import { startCluster, type Reply, type TestCluster } from '../proxy/testing/cluster.ts';
import { s3Api } from './s3api.ts';
import { s3Token } from './s3token.ts';
import { presignV4, signV4, startFakeIdentity, type FakeIdentity, type TestCredential } from './testing.ts';
import { child, children, parseXml, type XmlElement } from './xml.ts';

const ALICE: TestCredential = { access: 'AKALICE', secret: 'alice-secret', userId: 'u-alice', userName: 'alice', projectId: 'p-one', projectName: 'one' };
const BOB: TestCredential = { access: 'AKBOB', secret: 'bob-secret', userId: 'u-bob', userName: 'bob', projectId: 'p-two', projectName: 'two' };
/** parts of this size or more may be followed by others (small, so tests stay quick) */
const MIN_PART = 1024;

let identity: FakeIdentity;
let cluster: TestCluster;
/** while set, listings of parts take this long (to see CompleteMultipartUpload's heartbeat) */
let slowParts = 0;
const slowPartListings: Middleware = (next) => async (req) => {
  if (slowParts && req.method === 'GET' && req.path.endsWith('+segments')) await new Promise((resolve) => setTimeout(resolve, slowParts));
  return next(req);
};

interface S3Options {
  headers?: Record<string, string>;
  body?: Buffer | string;
  as?: TestCredential;
  payloadHash?: string;
  now?: number;
}

function s3(method: string, url: string, opts: S3Options = {}): Promise<Reply> {
  const who = opts.as ?? ALICE;
  const headers = signV4({
    method, url, headers: { host: `127.0.0.1:${cluster.port}`, ...opts.headers }, body: opts.body, payloadHash: opts.payloadHash,
    access: who.access, secret: who.secret, now: opts.now,
  });
  return cluster.call(method, url, { headers, body: opts.body });
}

function xml(reply: Reply): XmlElement {
  assert.match(reply.headers['content-type'] ?? '', /xml/);
  return parseXml(reply.text);
}

function text(element: XmlElement, path: string): string | undefined {
  let at: XmlElement | undefined = element;
  for (const name of path.split('/')) at = at && child(at, name);
  return at?.text;
}

/** The S3 error a reply carries: status, code, and the request id in body and header alike. */
function assertError(reply: Reply, status: number, code: string): XmlElement {
  assert.equal(reply.status, status, reply.text);
  if (reply.text === '') return parseXml('<Error/>'); // HEAD answers carry no body
  const doc = xml(reply);
  assert.equal(doc.name, 'Error');
  assert.equal(text(doc, 'Code'), code);
  assert.ok(text(doc, 'Message'));
  assert.equal(text(doc, 'RequestId'), reply.headers['x-amz-request-id']);
  return doc;
}

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest();

before(async () => {
  identity = await startFakeIdentity([ALICE, BOB]);
  cluster = await startCluster({
    middlewares: [
      s3Api({ minSegmentSize: MIN_PART, maxBucketListing: 1000, storageDomains: ['s3.test'], heartbeatMs: 50 }),
      s3Token({ identityUrl: identity.url, serviceToken: async () => identity.serviceToken }),
      slowPartListings,
      copy(),
      slo(),
    ],
  });
});

after(async () => {
  await cluster.close();
  await identity.close();
});

describe('buckets', () => {
  test('created buckets are listed, owned by project:user; a second create is BucketAlreadyOwnedByYou', async () => {
    const created = await s3('PUT', '/photos');
    assert.equal(created.status, 200);
    assert.equal(created.headers.location, '/photos');
    assert.ok(created.headers['x-amz-request-id']);

    const listed = xml(await s3('GET', '/'));
    assert.equal(text(listed, 'Owner/ID'), 'one:alice');
    assert.deepEqual(children(child(listed, 'Buckets')!, 'Bucket').map((b) => text(b, 'Name')), ['photos']);
    assert.match(text(children(child(listed, 'Buckets')!, 'Bucket')[0]!, 'CreationDate')!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);

    const again = assertError(await s3('PUT', '/photos'), 409, 'BucketAlreadyOwnedByYou');
    assert.equal(text(again, 'BucketName'), 'photos');
    assert.equal(text(again, 'Resource'), '/photos');

    // another project has its own namespace (its own account)
    assert.equal((await s3('PUT', '/photos', { as: BOB })).status, 200);
    const bobs = xml(await s3('GET', '/', { as: BOB }));
    assert.equal(text(bobs, 'Owner/ID'), 'two:bob');
  });

  test('a location constraint must name our region', async () => {
    const config = (region: string) => `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;
    assert.equal((await s3('PUT', '/located', { body: config('us-east-1') })).status, 200);
    assertError(await s3('PUT', '/elsewhere', { body: config('eu-west-1') }), 400, 'InvalidLocationConstraint');
    assertError(await s3('PUT', '/broken', { body: '<CreateBucketConfiguration><Location' }), 400, 'MalformedXML');
    assertError(await s3('PUT', '/broken', { body: '<LocationConstraint>RegionOne</LocationConstraint>' }), 400, 'MalformedXML');
    const location = xml(await s3('GET', '/located?location'));
    assert.equal(location.name, 'LocationConstraint');
    assert.equal(location.text, '');
    assertError(await s3('GET', '/nowhere?location'), 404, 'NoSuchBucket');
  });

  test('bucket names S3 does not allow are InvalidBucketName', async () => {
    for (const name of ['ab', 'Upper', 'a..b', '192.168.1.1', 'ends-', 'x'.repeat(64)]) {
      assertError(await s3('PUT', `/${name}`), 400, 'InvalidBucketName');
    }
  });

  test('HeadBucket: 200 with the region, 404 without a body when missing', async () => {
    const head = await s3('HEAD', '/photos');
    assert.equal(head.status, 200);
    assert.equal(head.headers['x-amz-bucket-region'], 'us-east-1');
    const missing = await s3('HEAD', '/no-such-bucket');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '');
  });

  test('a bucket with objects cannot be deleted; an empty one can, and is gone', async () => {
    await s3('PUT', '/doomed');
    await s3('PUT', '/doomed/thing', { body: 'x' });
    assertError(await s3('DELETE', '/doomed'), 409, 'BucketNotEmpty');
    assert.equal((await s3('DELETE', '/doomed/thing')).status, 204);
    assert.equal((await s3('DELETE', '/doomed')).status, 204);
    assertError(await s3('DELETE', '/doomed'), 404, 'NoSuchBucket');
  });

  test('canned and XML ACLs become container ACLs, and read back as grants', async () => {
    const grants = async () => children(child(xml(await s3('GET', '/public?acl')), 'AccessControlList')!, 'Grant')
      .map((g) => `${text(g, 'Grantee/URI') ?? text(g, 'Grantee/ID')}=${text(g, 'Permission')}`);
    assert.equal((await s3('PUT', '/public', { headers: { 'x-amz-acl': 'public-read' } })).status, 200);
    assert.equal((await cluster.call('HEAD', '/v1/AUTH_p-one/public')).headers['x-container-read'], '.r:*,.rlistings');
    assert.deepEqual(await grants(), ['one:alice=FULL_CONTROL', 'http://acs.amazonaws.com/groups/global/AllUsers=READ']);

    assert.equal((await s3('PUT', '/public?acl', { headers: { 'x-amz-acl': 'private' } })).status, 200);
    assert.deepEqual(await grants(), ['one:alice=FULL_CONTROL']);
    const policy = `<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><AccessControlList>
      <Grant><Grantee xsi:type="CanonicalUser"><ID>one:alice</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>
      <Grant><Grantee xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
    </AccessControlList></AccessControlPolicy>`;
    assert.equal((await s3('PUT', '/public?acl', { body: policy })).status, 200);
    assert.deepEqual(await grants(), ['one:alice=FULL_CONTROL', 'http://acs.amazonaws.com/groups/global/AllUsers=READ']);

    assertError(await s3('PUT', '/public?acl', { headers: { 'x-amz-acl': 'everyone-please' } }), 400, 'InvalidArgument');
    assertError(await s3('PUT', '/public?acl'), 400, 'MissingSecurityHeader');
    assertError(await s3('PUT', '/public?acl', { body: '<AccessControlPolicy><oops' }), 400, 'MalformedACLError');
    assertError(await s3('PUT', '/public?acl', { body: policy.replaceAll('AccessControlPolicy', 'NotAPolicy') }), 400, 'MalformedACLError');
  });

  test('versioning reads as never enabled; unsupported sub-resources are NotImplemented', async () => {
    const versioning = xml(await s3('GET', '/photos?versioning'));
    assert.equal(versioning.name, 'VersioningConfiguration');
    assertError(await s3('GET', '/photos?policy'), 501, 'NotImplemented');
    assertError(await s3('POST', '/photos'), 405, 'MethodNotAllowed');
  });
});

describe('objects', () => {
  before(async () => {
    await s3('PUT', '/objects');
  });

  test('PutObject then GetObject: the body, type, metadata and quoted ETag come back', async () => {
    const put = await s3('PUT', '/objects/dir/hello.txt', {
      body: 'hello world', headers: { 'content-type': 'text/plain', 'x-amz-meta-colour': 'blue', 'x-amz-meta-two_words': 'kept', 'content-md5': md5('hello world').toString('base64') },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.headers.etag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');

    const got = await s3('GET', '/objects/dir/hello.txt');
    assert.equal(got.status, 200);
    assert.equal(got.text, 'hello world');
    assert.equal(got.headers['content-type'], 'text/plain');
    assert.equal(got.headers['x-amz-meta-colour'], 'blue');
    assert.equal(got.headers['x-amz-meta-two_words'], 'kept');
    assert.equal(got.headers.etag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    assert.ok(got.headers['last-modified']);
    // nothing of Swift's own leaks through
    assert.equal(Object.keys(got.headers).some((h) => h.startsWith('x-object-')), false);

    const head = await s3('HEAD', '/objects/dir/hello.txt');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '11');
    assert.equal(head.text, '');
  });

  test('an object without a type is binary/octet-stream; response-* parameters override headers', async () => {
    await s3('PUT', '/objects/untyped', { body: 'data' });
    const got = await s3('GET', '/objects/untyped?response-content-type=text%2Fcsv&response-content-disposition=attachment');
    assert.equal(got.headers['content-type'], 'text/csv');
    assert.equal(got.headers['content-disposition'], 'attachment');
    assert.equal((await s3('HEAD', '/objects/untyped')).headers['content-type'], 'binary/octet-stream');
  });

  test('ranges and conditions', async () => {
    await s3('PUT', '/objects/digits', { body: '0123456789' });
    const ranged = await s3('GET', '/objects/digits', { headers: { range: 'bytes=2-5' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.text, '2345');
    assert.equal(ranged.headers['content-range'], 'bytes 2-5/10');

    const headRange = await s3('HEAD', '/objects/digits', { headers: { range: 'bytes=-3' } });
    assert.equal(headRange.status, 206);
    assert.equal(headRange.headers['content-range'], 'bytes 7-9/10');
    assert.equal(headRange.headers['content-length'], '3');
    assertError(await s3('GET', '/objects/digits', { headers: { range: 'bytes=20-30' } }), 416, 'InvalidRange');

    const etag = (await s3('HEAD', '/objects/digits')).headers.etag!;
    assert.equal((await s3('GET', '/objects/digits', { headers: { 'if-none-match': etag } })).status, 304);
    assertError(await s3('GET', '/objects/digits', { headers: { 'if-match': '"00000000000000000000000000000000"' } }), 412, 'PreconditionFailed');
    assert.equal((await s3('GET', '/objects/digits', { headers: { 'if-match': etag } })).status, 200);
  });

  test('missing keys and buckets', async () => {
    const key = assertError(await s3('GET', '/objects/nothing-here'), 404, 'NoSuchKey');
    assert.equal(text(key, 'Key'), 'nothing-here');
    assert.equal(text(key, 'Resource'), '/objects/nothing-here');
    assertError(await s3('GET', '/no-bucket-here/key'), 404, 'NoSuchBucket');
    assertError(await s3('PUT', '/no-bucket-here/key', { body: 'x' }), 404, 'NoSuchBucket');
  });

  test('a body that does not match Content-MD5 or x-amz-content-sha256 is refused and not stored', async () => {
    assertError(await s3('PUT', '/objects/md5', { body: 'actual', headers: { 'content-md5': md5('other').toString('base64') } }), 400, 'BadDigest');
    assertError(await s3('PUT', '/objects/md5', { body: 'actual', headers: { 'content-md5': 'not-md5' } }), 400, 'InvalidDigest');
    const sha = assertError(await s3('PUT', '/objects/sha', { body: 'actual', payloadHash: createHash('sha256').update('other').digest('hex') }), 400, 'XAmzContentSHA256Mismatch');
    assert.equal(text(sha, 'ClientComputedContentSHA256'), createHash('sha256').update('other').digest('hex'));
    assertError(await s3('HEAD', '/objects/md5'), 404, 'NoSuchKey');
    assertError(await s3('HEAD', '/objects/sha'), 404, 'NoSuchKey');
  });

  test('a key longer than 1024 bytes is KeyTooLongError', async () => {
    assertError(await s3('PUT', `/objects/${'k'.repeat(1025)}`, { body: 'x' }), 400, 'KeyTooLongError');
  });

  test('DeleteObject: 204 whether or not the key was there; NoSuchBucket when the bucket is not', async () => {
    await s3('PUT', '/objects/to-delete', { body: 'x' });
    assert.equal((await s3('DELETE', '/objects/to-delete')).status, 204);
    assert.equal((await s3('DELETE', '/objects/to-delete')).status, 204);
    assertError(await s3('GET', '/objects/to-delete'), 404, 'NoSuchKey');
    assertError(await s3('DELETE', '/no-bucket-here/key'), 404, 'NoSuchBucket');
  });

  test('CopyObject keeps the metadata (COPY) or takes the request\'s (REPLACE)', async () => {
    await s3('PUT', '/objects/original', { body: 'copy me', headers: { 'content-type': 'text/plain', 'x-amz-meta-a': '1' } });
    const copied = await s3('PUT', '/objects/copy-1', { headers: { 'x-amz-copy-source': '/objects/original' } });
    assert.equal(copied.status, 200, copied.text);
    const result = xml(copied);
    assert.equal(result.name, 'CopyObjectResult');
    assert.equal(text(result, 'ETag'), `"${md5('copy me').toString('hex')}"`);
    assert.match(text(result, 'LastModified')!, /\.000Z$/);
    const one = await s3('GET', '/objects/copy-1');
    assert.equal(one.text, 'copy me');
    assert.equal(one.headers['x-amz-meta-a'], '1');
    assert.equal(one.headers['content-type'], 'text/plain');

    await s3('PUT', '/objects/copy-2', { headers: { 'x-amz-copy-source': 'objects/original', 'x-amz-metadata-directive': 'REPLACE', 'x-amz-meta-b': '2', 'content-type': 'text/csv' } });
    const two = await s3('HEAD', '/objects/copy-2');
    assert.equal(two.headers['x-amz-meta-a'], undefined);
    assert.equal(two.headers['x-amz-meta-b'], '2');
    assert.equal(two.headers['content-type'], 'text/csv');

    assertError(await s3('PUT', '/objects/original', { headers: { 'x-amz-copy-source': '/objects/original' } }), 400, 'InvalidRequest');
    assertError(await s3('PUT', '/objects/copy-3', { headers: { 'x-amz-copy-source': '/objects/absent' } }), 404, 'NoSuchKey');
    assertError(await s3('PUT', '/objects/copy-3', { headers: { 'x-amz-copy-source': 'objects' } }), 400, 'InvalidArgument');
    assertError(await s3('PUT', '/objects/copy-3', { headers: { 'x-amz-copy-source': '/objects/original', 'x-amz-copy-source-if-match': '"0000"' } }), 412, 'PreconditionFailed');
  });

  test('headers for features this cloud lacks are refused as S3 refuses them', async () => {
    assertError(await s3('PUT', '/objects/x', { body: 'x', headers: { 'x-amz-storage-class': 'GLACIER' } }), 400, 'InvalidStorageClass');
    assertError(await s3('PUT', '/objects/x', { body: 'x', headers: { 'x-amz-server-side-encryption': 'AES256' } }), 501, 'NotImplemented');
    assertError(await s3('PUT', '/objects/x', { body: 'x', headers: { 'if-match': '"abc"' } }), 501, 'NotImplemented');
    assertError(await s3('PUT', '/objects/x', { body: 'x', headers: { 'x-amz-metadata-directive': 'MERGE' } }), 400, 'InvalidArgument');
  });
});

describe('listing objects', () => {
  const keys = ['a.txt', 'docs/one.txt', 'docs/two.txt', 'docs/sub/three.txt', 'photos/cat.jpg', 'z y.txt'];
  before(async () => {
    await s3('PUT', '/listing');
    for (const key of keys) await s3('PUT', `/listing/${key.split('/').map(encodeURIComponent).join('/')}`, { body: key });
  });

  const contents = (doc: XmlElement) => children(doc, 'Contents').map((c) => text(c, 'Key'));
  const prefixes = (doc: XmlElement) => children(doc, 'CommonPrefixes').map((c) => text(c, 'Prefix'));

  test('ListObjects (v1): prefix, delimiter and common prefixes, owners, sizes', async () => {
    const all = xml(await s3('GET', '/listing'));
    assert.deepEqual(contents(all), [...keys].sort());
    const first = children(all, 'Contents')[0]!;
    assert.equal(text(first, 'Size'), String('a.txt'.length));
    assert.equal(text(first, 'ETag'), `"${md5('a.txt').toString('hex')}"`);
    assert.equal(text(first, 'Owner/ID'), 'one:alice');
    assert.equal(text(first, 'StorageClass'), 'STANDARD');

    const top = xml(await s3('GET', '/listing?delimiter=%2F'));
    assert.deepEqual(contents(top), ['a.txt', 'z y.txt']);
    assert.deepEqual(prefixes(top), ['docs/', 'photos/']);
    assert.equal(text(top, 'Delimiter'), '/');

    const docs = xml(await s3('GET', '/listing?prefix=docs%2F&delimiter=%2F'));
    assert.deepEqual(contents(docs), ['docs/one.txt', 'docs/two.txt']);
    assert.deepEqual(prefixes(docs), ['docs/sub/']);
    assert.equal(text(docs, 'Prefix'), 'docs/');
  });

  test('ListObjects (v1) pages with max-keys and marker', async () => {
    const page1 = xml(await s3('GET', '/listing?max-keys=2'));
    assert.deepEqual(contents(page1), ['a.txt', 'docs/one.txt']);
    assert.equal(text(page1, 'IsTruncated'), 'true');
    assert.equal(text(page1, 'MaxKeys'), '2');
    const page2 = xml(await s3('GET', '/listing?max-keys=2&marker=docs%2Fone.txt'));
    assert.deepEqual(contents(page2), ['docs/sub/three.txt', 'docs/two.txt']);
    const delimited = xml(await s3('GET', '/listing?max-keys=1&delimiter=%2F'));
    assert.equal(text(delimited, 'NextMarker'), 'a.txt');
    assertError(await s3('GET', '/listing?max-keys=-1'), 400, 'InvalidArgument');
  });

  test('ListObjectsV2: KeyCount, continuation tokens, start-after, fetch-owner', async () => {
    const page1 = xml(await s3('GET', '/listing?list-type=2&max-keys=3'));
    assert.deepEqual(contents(page1), ['a.txt', 'docs/one.txt', 'docs/sub/three.txt']);
    assert.equal(text(page1, 'KeyCount'), '3');
    assert.equal(text(page1, 'IsTruncated'), 'true');
    assert.equal(child(children(page1, 'Contents')[0]!, 'Owner'), undefined);
    const token = text(page1, 'NextContinuationToken')!;
    const page2 = xml(await s3('GET', `/listing?list-type=2&max-keys=3&continuation-token=${encodeURIComponent(token)}`));
    assert.deepEqual(contents(page2), ['docs/two.txt', 'photos/cat.jpg', 'z y.txt']);
    assert.equal(text(page2, 'IsTruncated'), 'false');
    assert.equal(text(page2, 'ContinuationToken'), token);

    const after = xml(await s3('GET', '/listing?list-type=2&start-after=photos%2Fcat.jpg&fetch-owner=true'));
    assert.deepEqual(contents(after), ['z y.txt']);
    assert.equal(text(after, 'StartAfter'), 'photos/cat.jpg');
    assert.equal(text(children(after, 'Contents')[0]!, 'Owner/ID'), 'one:alice');

    const delimited = xml(await s3('GET', '/listing?list-type=2&delimiter=%2F'));
    assert.equal(text(delimited, 'KeyCount'), '4');
    assertError(await s3('GET', '/listing?list-type=2&continuation-token=%21%21'), 400, 'InvalidArgument');
  });

  test('encoding-type=url encodes keys and prefixes', async () => {
    const doc = xml(await s3('GET', '/listing?encoding-type=url&prefix=z'));
    assert.deepEqual(contents(doc), ['z%20y.txt']);
    assert.equal(text(doc, 'EncodingType'), 'url');
    // the slashes of a key stay as they are
    assert.deepEqual(contents(xml(await s3('GET', '/listing?encoding-type=url&prefix=docs%2Fsub'))), ['docs/sub/three.txt']);
    assertError(await s3('GET', '/listing?encoding-type=base64'), 400, 'InvalidArgument');
  });

  test('listing a missing bucket is NoSuchBucket', async () => {
    assertError(await s3('GET', '/no-such-listing'), 404, 'NoSuchBucket');
  });
});

describe('DeleteObjects', () => {
  const deleteBody = (keys: string[], quiet = false) =>
    `<Delete>${quiet ? '<Quiet>true</Quiet>' : ''}${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;

  test('deletes every key named (missing ones count as deleted), quietly when asked', async () => {
    await s3('PUT', '/multi');
    for (const key of ['a', 'b', 'c']) await s3('PUT', `/multi/${key}`, { body: key });
    const body = deleteBody(['a', 'b', 'never-was']);
    const reply = await s3('POST', '/multi?delete', { body, headers: { 'content-md5': md5(body).toString('base64') } });
    assert.equal(reply.status, 200, reply.text);
    const result = xml(reply);
    assert.deepEqual(children(result, 'Deleted').map((d) => text(d, 'Key')), ['a', 'b', 'never-was']);
    assertError(await s3('HEAD', '/multi/a'), 404, 'NoSuchKey');

    const quiet = deleteBody(['c'], true);
    const quietReply = xml(await s3('POST', '/multi?delete', { body: quiet, headers: { 'content-md5': md5(quiet).toString('base64') } }));
    assert.equal(children(quietReply, 'Deleted').length, 0);
    assertError(await s3('HEAD', '/multi/c'), 404, 'NoSuchKey');
  });

  test('the body must carry a Content-MD5 (or a checksum) that matches, and be a Delete document', async () => {
    const body = deleteBody(['a']);
    assertError(await s3('POST', '/multi?delete', { body }), 400, 'InvalidRequest');
    assertError(await s3('POST', '/multi?delete', { body, headers: { 'content-md5': md5('other').toString('base64') } }), 400, 'BadDigest');
    const bad = '<Delete><Object></Object></Delete>';
    assertError(await s3('POST', '/multi?delete', { body: bad, headers: { 'content-md5': md5(bad).toString('base64') } }), 400, 'UserKeyMustBeSpecified');
    const notXml = 'not xml';
    assertError(await s3('POST', '/multi?delete', { body: notXml, headers: { 'content-md5': md5(notXml).toString('base64') } }), 400, 'MalformedXML');
  });
});

describe('multipart uploads', () => {
  const part1 = Buffer.alloc(MIN_PART + 100, 'a');
  const part2 = Buffer.alloc(MIN_PART, 'b');
  const part3 = Buffer.from('the end');

  before(async () => {
    await s3('PUT', '/mpu');
  });

  async function initiate(key: string, headers: Record<string, string> = {}): Promise<string> {
    const reply = await s3('POST', `/mpu/${key}?uploads`, { headers });
    assert.equal(reply.status, 200, reply.text);
    const doc = xml(reply);
    assert.equal(text(doc, 'Bucket'), 'mpu');
    assert.equal(text(doc, 'Key'), key);
    return text(doc, 'UploadId')!;
  }

  async function uploadPart(key: string, uploadId: string, number: number, data: Buffer): Promise<string> {
    const reply = await s3('PUT', `/mpu/${key}?partNumber=${number}&uploadId=${uploadId}`, { body: data });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.etag, `"${md5(data).toString('hex')}"`);
    return reply.headers.etag!;
  }

  const completeBody = (parts: [number, string][]) =>
    `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

  test('initiate, upload parts, list them, complete: one object with the multipart ETag', async () => {
    const id = await initiate('big.bin', { 'content-type': 'application/x-big', 'x-amz-meta-origin': 'test' });
    // where the parts go is no bucket of the client's
    const buckets = children(child(xml(await s3('GET', '/')), 'Buckets')!, 'Bucket').map((b) => text(b, 'Name'));
    assert.ok(buckets.includes('mpu') && !buckets.includes('mpu+segments'), buckets.join());
    const uploads = xml(await s3('GET', '/mpu?uploads'));
    assert.ok(children(uploads, 'Upload').some((u) => text(u, 'Key') === 'big.bin' && text(u, 'UploadId') === id));

    const e1 = await uploadPart('big.bin', id, 1, part1);
    const e3 = await uploadPart('big.bin', id, 3, part3);
    const e2 = await uploadPart('big.bin', id, 2, part2);

    const listed = xml(await s3('GET', `/mpu/big.bin?uploadId=${id}`));
    assert.deepEqual(children(listed, 'Part').map((p) => [text(p, 'PartNumber'), text(p, 'ETag'), text(p, 'Size')]), [
      ['1', e1, String(part1.length)], ['2', e2, String(part2.length)], ['3', e3, String(part3.length)],
    ]);
    const page = xml(await s3('GET', `/mpu/big.bin?uploadId=${id}&max-parts=1&part-number-marker=1`));
    assert.deepEqual(children(page, 'Part').map((p) => text(p, 'PartNumber')), ['2']);
    assert.equal(text(page, 'IsTruncated'), 'true');
    assert.equal(text(page, 'NextPartNumberMarker'), '2');

    const complete = await s3('POST', `/mpu/big.bin?uploadId=${id}`, { body: completeBody([[1, e1], [2, e2], [3, e3]]) });
    assert.equal(complete.status, 200, complete.text);
    const expectedEtag = `"${createHash('md5').update(Buffer.concat([md5(part1), md5(part2), md5(part3)])).digest('hex')}-3"`;
    const result = xml(complete);
    assert.equal(text(result, 'ETag'), expectedEtag);
    assert.equal(text(result, 'Key'), 'big.bin');
    assert.match(text(result, 'Location')!, /\/mpu\/big\.bin$/);

    const got = await s3('GET', '/mpu/big.bin');
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(Buffer.concat([part1, part2, part3])));
    assert.equal(got.headers.etag, expectedEtag);
    assert.equal(got.headers['content-type'], 'application/x-big');
    assert.equal(got.headers['x-amz-meta-origin'], 'test');

    const listing = xml(await s3('GET', '/mpu?prefix=big'));
    assert.equal(text(children(listing, 'Contents')[0]!, 'ETag'), expectedEtag);
    assert.equal(text(children(listing, 'Contents')[0]!, 'Size'), String(part1.length + part2.length + part3.length));

    // a part by number, and a range across parts
    assertError(await s3('GET', '/mpu/big.bin?partNumber=4'), 416, 'InvalidPartNumber');
    const second = await s3('GET', '/mpu/big.bin?partNumber=2');
    assert.equal(second.status, 206);
    assert.ok(second.body.equals(part2));
    assert.equal(second.headers['x-amz-mp-parts-count'], '3');
    const across = await s3('GET', '/mpu/big.bin', { headers: { range: `bytes=${part1.length - 2}-${part1.length + 1}` } });
    assert.equal(across.text, 'aabb');

    // the upload is done: no longer listed, its id no longer usable for parts
    assert.equal(children(xml(await s3('GET', '/mpu?uploads')), 'Upload').some((u) => text(u, 'UploadId') === id), false);
    assertError(await s3('PUT', `/mpu/big.bin?partNumber=4&uploadId=nope`, { body: 'x' }), 404, 'NoSuchUpload');
    // completing again with the same parts is the same success
    assert.equal((await s3('POST', `/mpu/big.bin?uploadId=${id}`, { body: completeBody([[1, e1], [2, e2], [3, e3]]) })).status, 200);

    // deleting the object deletes its parts too
    assert.equal((await s3('DELETE', '/mpu/big.bin')).status, 204);
    assertError(await s3('GET', '/mpu/big.bin'), 404, 'NoSuchKey');
    const segments = await s3('GET', '/v1/AUTH_p-one/mpu+segments?format=json');
    assert.ok(segments.status === 404 || !segments.text.includes(id), segments.text);
  });

  // what awscli's ranged downloads send: If-Match with the ETag it was given
  test('If-Match and If-None-Match with the multipart ETag', async () => {
    const id = await initiate('cond.bin');
    const e1 = await uploadPart('cond.bin', id, 1, part3);
    await s3('POST', `/mpu/cond.bin?uploadId=${id}`, { body: completeBody([[1, e1]]) });
    const etag = (await s3('HEAD', '/mpu/cond.bin')).headers.etag!;
    assert.match(etag, /-1"$/);
    assert.equal((await s3('GET', '/mpu/cond.bin', { headers: { 'if-match': etag } })).status, 200);
    assert.equal((await s3('GET', '/mpu/cond.bin', { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await s3('GET', '/mpu/cond.bin', { headers: { 'if-match': etag, range: 'bytes=0-2' } })).text, 'the');
    assertError(await s3('GET', '/mpu/cond.bin', { headers: { 'if-match': '"other"', range: 'bytes=0-2' } }), 412, 'PreconditionFailed');
    assertError(await s3('PUT', '/mpu/cond-copy', { headers: { 'x-amz-copy-source': '/mpu/cond.bin', 'x-amz-copy-source-if-none-match': etag } }), 412, 'PreconditionFailed');
    assert.equal((await s3('PUT', '/mpu/cond-copy', { headers: { 'x-amz-copy-source': '/mpu/cond.bin', 'x-amz-copy-source-if-match': etag } })).status, 200);
    assert.equal((await s3('GET', '/mpu/cond-copy')).text, 'the end');
  });

  test('parts too small, in the wrong order, or not as uploaded are refused at completion', async () => {
    const id = await initiate('strict.bin');
    const small = await uploadPart('strict.bin', id, 1, Buffer.from('tiny'));
    const e2 = await uploadPart('strict.bin', id, 2, part2);
    assertError(await s3('POST', `/mpu/strict.bin?uploadId=${id}`, { body: completeBody([[1, small], [2, e2]]) }), 400, 'EntityTooSmall');
    assertError(await s3('POST', `/mpu/strict.bin?uploadId=${id}`, { body: completeBody([[2, e2], [1, small]]) }), 400, 'InvalidPartOrder');
    assertError(await s3('POST', `/mpu/strict.bin?uploadId=${id}`, { body: completeBody([[2, `"${'0'.repeat(32)}"`]]) }), 400, 'InvalidPart');
    assertError(await s3('POST', `/mpu/strict.bin?uploadId=${id}`, { body: completeBody([[5, e2]]) }), 400, 'InvalidPart');
    assertError(await s3('POST', `/mpu/strict.bin?uploadId=${id}`, { body: '<CompleteMultipartUpload/>' }), 400, 'MalformedXML');
    assertError(await s3('PUT', `/mpu/strict.bin?partNumber=0&uploadId=${id}`, { body: 'x' }), 400, 'InvalidArgument');
    assertError(await s3('PUT', `/mpu/strict.bin?partNumber=10001&uploadId=${id}`, { body: 'x' }), 400, 'InvalidArgument');
    // a single small part is a whole object
    assert.equal((await s3('POST', `/mpu/strict.bin?uploadId=${id}`, { body: completeBody([[1, small]]) })).status, 200);
    assert.equal((await s3('GET', '/mpu/strict.bin')).text, 'tiny');
  });

  test('a completion that takes long answers 200 at once and keeps the connection alive until the outcome', async () => {
    const ok = await initiate('slow.bin');
    const e1 = await uploadPart('slow.bin', ok, 1, part3);
    const bad = await initiate('slow-bad.bin');
    slowParts = 300;
    try {
      const done = await s3('POST', `/mpu/slow.bin?uploadId=${ok}`, { body: completeBody([[1, e1]]) });
      assert.equal(done.status, 200);
      assert.ok(done.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
      const result = parseXml(done.text);
      assert.equal(result.name, 'CompleteMultipartUploadResult');
      assert.equal(text(result, 'ETag'), `"${createHash('md5').update(md5(part3)).digest('hex')}-1"`);

      // the outcome is an error, told in the body of the 200 (as S3 does; SDKs look for it)
      const failed = await s3('POST', `/mpu/slow-bad.bin?uploadId=${bad}`, { body: completeBody([[1, e1]]) });
      assert.equal(failed.status, 200);
      const error = parseXml(failed.text);
      assert.equal(error.name, 'Error');
      assert.equal(text(error, 'Code'), 'InvalidPart');
    } finally {
      slowParts = 0;
    }
    assert.equal((await s3('GET', '/mpu/slow.bin')).text, 'the end');
  });

  test('abort removes the upload and its parts', async () => {
    const id = await initiate('aborted.bin');
    await uploadPart('aborted.bin', id, 1, part1);
    assert.equal((await s3('DELETE', `/mpu/aborted.bin?uploadId=${id}`)).status, 204);
    assertError(await s3('GET', `/mpu/aborted.bin?uploadId=${id}`), 404, 'NoSuchUpload');
    assertError(await s3('DELETE', `/mpu/aborted.bin?uploadId=${id}`), 404, 'NoSuchUpload');
    assertError(await s3('POST', `/mpu/aborted.bin?uploadId=${id}`, { body: completeBody([[1, `"${md5(part1).toString('hex')}"`]]) }), 404, 'NoSuchUpload');
  });

  test('UploadPartCopy copies a range of another object into a part', async () => {
    await s3('PUT', '/mpu/source', { body: '0123456789' });
    const id = await initiate('copied.bin');
    const reply = await s3('PUT', `/mpu/copied.bin?partNumber=1&uploadId=${id}`, { headers: { 'x-amz-copy-source': '/mpu/source', 'x-amz-copy-source-range': 'bytes=2-5' } });
    assert.equal(reply.status, 200, reply.text);
    const result = xml(reply);
    assert.equal(result.name, 'CopyPartResult');
    assert.equal(text(result, 'ETag'), `"${md5('2345').toString('hex')}"`);
    assertError(await s3('PUT', `/mpu/copied.bin?partNumber=2&uploadId=${id}`, { headers: { 'x-amz-copy-source': '/mpu/source', 'x-amz-copy-source-range': 'bytes=20-30' } }), 400, 'InvalidArgument');
    await s3('POST', `/mpu/copied.bin?uploadId=${id}`, { body: completeBody([[1, text(result, 'ETag')!]]) });
    assert.equal((await s3('GET', '/mpu/copied.bin')).text, '2345');
  });

  test('encoding-type=url quotes keys in upload and part listings as in object listings', async () => {
    const path = `/mpu/${encodeURIComponent('odd name (1).bin')}`;
    const id = text(xml(await s3('POST', `${path}?uploads`)), 'UploadId')!;
    const uploads = xml(await s3('GET', '/mpu?uploads&encoding-type=url&prefix=odd'));
    assert.deepEqual(children(uploads, 'Upload').map((u) => text(u, 'Key')), ['odd%20name%20%281%29.bin']);
    assert.equal(text(xml(await s3('GET', `${path}?uploadId=${id}&encoding-type=url`)), 'Key'), 'odd%20name%20%281%29.bin');
    assertError(await s3('GET', `${path}?uploadId=${id}&encoding-type=base64`), 400, 'InvalidArgument');
    await s3('DELETE', `${path}?uploadId=${id}`);
  });

  test('listing uploads with a prefix and a delimiter', async () => {
    const a = await initiate('logs/2024/a');
    const b = await initiate('logs/2025/b');
    const top = xml(await s3('GET', '/mpu?uploads&prefix=logs%2F&delimiter=%2F'));
    assert.deepEqual(children(top, 'CommonPrefixes').map((p) => text(p, 'Prefix')), ['logs/2024/', 'logs/2025/']);
    const y2024 = xml(await s3('GET', '/mpu?uploads&prefix=logs%2F2024%2F'));
    assert.deepEqual(children(y2024, 'Upload').map((u) => text(u, 'UploadId')), [a]);
    assert.equal(text(children(y2024, 'Upload')[0]!, 'Initiator/ID'), 'one:alice');
    await s3('DELETE', `/mpu/logs/2024/a?uploadId=${a}`);
    await s3('DELETE', `/mpu/logs/2025/b?uploadId=${b}`);
  });
});

test('virtual-hosted style: the bucket in the Host header under a storage domain', async () => {
  await s3('PUT', '/vhost-bucket');
  const host = `vhost-bucket.s3.test:${cluster.port}`;
  const call = (method: string, url: string, body?: string) =>
    cluster.call(method, url, { headers: signV4({ method, url, headers: { host }, body, access: ALICE.access, secret: ALICE.secret }), body });
  assert.equal((await call('PUT', '/in/host.txt', 'by host')).status, 200);
  assert.equal((await s3('GET', '/vhost-bucket/in/host.txt')).text, 'by host');
  const listed = xml(await call('GET', '/?list-type=2'));
  assert.equal(text(listed, 'Name'), 'vhost-bucket');
  assert.deepEqual(children(listed, 'Contents').map((c) => text(c, 'Key')), ['in/host.txt']);
});

describe('signatures and who signed', () => {
  before(async () => {
    await s3('PUT', '/signed');
    await s3('PUT', '/signed/file', { body: 'secret stuff' });
  });

  test('an unknown access key is InvalidAccessKeyId, a wrong secret SignatureDoesNotMatch', async () => {
    const stranger = { ...ALICE, access: 'AKNOBODY' };
    const unknown = assertError(await s3('GET', '/signed/file', { as: stranger }), 403, 'InvalidAccessKeyId');
    assert.equal(text(unknown, 'AWSAccessKeyId'), 'AKNOBODY');
    const wrong = assertError(await s3('GET', '/signed/file', { as: { ...ALICE, secret: 'guess' } }), 403, 'SignatureDoesNotMatch');
    assert.ok(text(wrong, 'StringToSign')?.startsWith('AWS4-HMAC-SHA256\n'));
    assert.ok(text(wrong, 'CanonicalRequest')?.startsWith('GET\n/signed/file\n'));
  });

  test('a request signed more than 15 minutes ago is RequestTimeTooSkewed', async () => {
    assertError(await s3('GET', '/signed/file', { now: Date.now() - 20 * 60_000 }), 403, 'RequestTimeTooSkewed');
  });

  test('each project sees its own account only', async () => {
    assertError(await s3('GET', '/signed/file', { as: BOB }), 404, 'NoSuchBucket');
  });

  test('presigned URLs work until they expire', async () => {
    const host = `127.0.0.1:${cluster.port}`;
    const url = presignV4({ method: 'GET', url: '/signed/file', headers: { host }, access: ALICE.access, secret: ALICE.secret, expires: 60 });
    const got = await cluster.call('GET', url, { headers: { host } });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'secret stuff');
    const old = presignV4({ method: 'GET', url: '/signed/file', headers: { host }, access: ALICE.access, secret: ALICE.secret, expires: 60, now: Date.now() - 120_000 });
    assertError(await cluster.call('GET', old, { headers: { host } }), 403, 'AccessDenied');
    const tampered = url.replace('/signed/file', '/signed/other');
    assertError(await cluster.call('GET', tampered, { headers: { host } }), 403, 'SignatureDoesNotMatch');
  });

  test('the secret, once fetched, checks later signatures without asking Identity', async () => {
    const before = identity.calls.filter((c) => c === 'POST /v3/s3tokens').length;
    await s3('GET', '/signed/file');
    await s3('GET', '/signed/file');
    assert.equal(identity.calls.filter((c) => c === 'POST /v3/s3tokens').length, before);
    // a signature the cached secret does not make is asked of Identity again (and refused)
    assertError(await s3('GET', '/signed/file', { as: { ...ALICE, secret: 'changed' } }), 403, 'SignatureDoesNotMatch');
    assert.equal(identity.calls.filter((c) => c === 'POST /v3/s3tokens').length, before + 1);
  });

  test('requests without S3 credentials pass through to Swift', async () => {
    const swift = await cluster.call('GET', '/v1/AUTH_p-one/signed?format=json');
    assert.equal(swift.status, 200);
    assert.deepEqual(JSON.parse(swift.text).map((o: { name: string }) => o.name), ['file']);
  });
});

describe('aws-chunked uploads', () => {
  test('a body in signed chunks is decoded and stored; a tampered chunk stores nothing', async () => {
    await s3('PUT', '/chunked');
    const data = Buffer.from(Array.from({ length: 20000 }, (_, i) => i % 256));
    const host = `127.0.0.1:${cluster.port}`;
    const { createHmac } = await import('node:crypto');
    const { signingKeyV4, sha256Hex } = await import('./signature.ts');
    const upload = async (key: string, tamper: boolean) => {
      const headers = signV4({
        method: 'PUT', url: `/chunked/${key}`, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        headers: { host, 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length) },
        access: ALICE.access, secret: ALICE.secret,
      });
      const seed = /Signature=([0-9a-f]+)/.exec(headers.authorization!)![1]!;
      const amzDate = headers['x-amz-date']!;
      const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
      const key4 = signingKeyV4(ALICE.secret, scope);
      let previous = seed;
      const pieces: Buffer[] = [];
      for (const chunk of [data.subarray(0, 16384), data.subarray(16384), Buffer.alloc(0)]) {
        const sig = createHmac('sha256', key4).update(['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha256Hex(''), sha256Hex(chunk)].join('\n')).digest('hex');
        previous = sig;
        const sent = tamper && chunk.length > 0 && chunk.length < 16384 ? Buffer.from(chunk.map((b, i) => (i === 0 ? b ^ 1 : b))) : chunk;
        pieces.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${sig}\r\n`), sent, Buffer.from('\r\n'));
      }
      return cluster.call('PUT', `/chunked/${key}`, { headers, body: Buffer.concat(pieces) });
    };
    const good = await upload('good.bin', false);
    assert.equal(good.status, 200, good.text);
    const got = await s3('GET', '/chunked/good.bin');
    assert.ok(got.body.equals(data));
    assert.equal(got.headers['content-encoding'], undefined);

    assertError(await upload('bad.bin', true), 403, 'SignatureDoesNotMatch');
    assertError(await s3('HEAD', '/chunked/bad.bin'), 404, 'NoSuchKey');
  });
});
