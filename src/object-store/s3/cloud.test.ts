// The S3 API end to end: real Identity (EC2 credentials, POST /v3/s3tokens as the object
// store's service user), the object store's whole proxy pipeline and a storage server. The
// buckets an S3 client makes are the containers the Swift API shows, in the same account.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startCloud, type ProjectUser, type TestCloud } from '../../testing/cloud.ts';
import { signV4 } from './testing.ts';
import { child, children, parseXml } from './xml.ts';

interface Ec2 {
  access: string;
  secret: string;
}

let cloud: TestCloud;
let alice: ProjectUser;
let bob: ProjectUser;
let reader: ProjectUser;
const keys = new Map<ProjectUser, Ec2>();

/** The user's own EC2 credential (a reader may not make one: the admin does). */
async function ec2Credential(user: ProjectUser, token = user.token): Promise<Ec2> {
  const res = await fetch(`${cloud.identity.url}/v3/users/${user.userId}/credentials/OS-EC2`, {
    method: 'POST',
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: user.projectId }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const { credential } = (await res.json()) as { credential: Ec2 };
  return credential;
}

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
}

async function s3(method: string, url: string, opts: { as?: ProjectUser; body?: Buffer | string; headers?: Record<string, string>; secret?: string; access?: string } = {}): Promise<Reply> {
  const base = new URL(cloud.objectStore!.url);
  const key = keys.get(opts.as ?? alice)!;
  const headers = signV4({
    method, url, headers: { host: base.host, ...opts.headers }, body: opts.body,
    access: opts.access ?? key.access, secret: opts.secret ?? key.secret,
    region: 'RegionOne', // the cloud's region, which S3 clients sign for
  });
  delete headers.host; // fetch sets it, to the same value
  const body = opts.body === undefined ? undefined : new Uint8Array(Buffer.from(opts.body));
  const res = await fetch(`${cloud.objectStore!.url}${url}`, { method, headers, body });
  const data = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body: data, text: data.toString('utf8') };
}

function errorCode(reply: Reply): string | undefined {
  return reply.text ? child(parseXml(reply.text), 'Code')?.text : undefined;
}

before(async () => {
  cloud = await startCloud('sqlite://', {}, {}, { objectStore: true });
  alice = await cloud.projectUser('member');
  bob = await cloud.projectUser('member');
  reader = await cloud.projectUser('reader');
  for (const user of [alice, bob]) keys.set(user, await ec2Credential(user));
  keys.set(reader, await ec2Credential(reader, cloud.identity.adminToken));
});

after(async () => {
  await cloud?.stop();
});

describe('S3 through the whole object store', () => {
  test('a bucket and an object made with S3 are a container and an object of the project\'s account', async () => {
    assert.equal((await s3('PUT', '/shared')).status, 200);
    const put = await s3('PUT', '/shared/notes.txt', { body: 'from s3', headers: { 'content-type': 'text/plain', 'x-amz-meta-author': 'alice' } });
    assert.equal(put.status, 200, put.text);

    const listed = await fetch(`${cloud.objectStoreAccountUrl(alice.projectId)}/shared?format=json`, { headers: { 'x-auth-token': alice.token } });
    assert.deepEqual(((await listed.json()) as { name: string }[]).map((o) => o.name), ['notes.txt']);
    const viaSwift = await fetch(`${cloud.objectStoreAccountUrl(alice.projectId)}/shared/notes.txt`, { headers: { 'x-auth-token': alice.token } });
    assert.equal(await viaSwift.text(), 'from s3');
    assert.equal(viaSwift.headers.get('x-object-meta-author'), 'alice');

    const got = await s3('GET', '/shared/notes.txt');
    assert.equal(got.text, 'from s3');
    assert.equal(got.headers.get('x-amz-meta-author'), 'alice');
    // nothing private leaks out of the pipeline
    assert.equal([...got.headers.keys()].some((h) => h.includes('sysmeta')), false);
  });

  test('another project\'s credentials reach that project\'s account, not this one', async () => {
    assert.equal(errorCode(await s3('GET', '/shared/notes.txt', { as: bob })), 'NoSuchBucket');
    const buckets = parseXml((await s3('GET', '/', { as: bob })).text);
    assert.equal(children(child(buckets, 'Buckets')!, 'Bucket').length, 0);
    assert.equal(child(child(buckets, 'Owner')!, 'ID')!.text, `${bob.projectName}:${bob.userName}`);
  });

  test('a reader may read but not write', async () => {
    const denied = await s3('PUT', '/reader-bucket', { as: reader });
    assert.equal(denied.status, 403);
    assert.equal(errorCode(denied), 'AccessDenied');
  });

  test('Identity refuses unknown keys and wrong secrets, in S3 terms', async () => {
    const unknown = await s3('GET', '/', { access: 'nobody-has-this-key' });
    assert.equal(unknown.status, 403);
    assert.equal(errorCode(unknown), 'InvalidAccessKeyId');
    const wrong = await s3('GET', '/', { as: bob, secret: 'not the secret' });
    assert.equal(wrong.status, 403);
    assert.equal(errorCode(wrong), 'SignatureDoesNotMatch');
  });

  test('a multipart upload of 5 MiB parts reads back byte for byte', async () => {
    await s3('PUT', '/big');
    const data = randomBytes(5 * 1024 * 1024 * 2 + 12345);
    const initiated = parseXml((await s3('POST', '/big/blob.bin?uploads')).text);
    const uploadId = child(initiated, 'UploadId')!.text;
    const size = 5 * 1024 * 1024;
    const etags: string[] = [];
    for (let i = 0; i * size < data.length; i++) {
      const part = await s3('PUT', `/big/blob.bin?partNumber=${i + 1}&uploadId=${uploadId}`, { body: data.subarray(i * size, (i + 1) * size) });
      assert.equal(part.status, 200, part.text);
      etags.push(part.headers.get('etag')!);
    }
    const body = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await s3('POST', `/big/blob.bin?uploadId=${uploadId}`, { body });
    assert.equal(done.status, 200, done.text);
    const md5s = etags.map((e) => Buffer.from(e.replace(/"/g, ''), 'hex'));
    const expected = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${etags.length}"`;
    assert.equal(child(parseXml(done.text), 'ETag')!.text, expected);

    const got = await s3('GET', '/big/blob.bin');
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('etag'), expected);
    assert.ok(got.body.equals(data));
  });
});
