// The Object Storage API through ObjectStoreClient, against an in-process cloud: identity,
// the proxy and one storage server (one replica), tokens validated over HTTP as deployed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ObjectStoreClient, ObjectStoreError } from '../clients/object-store.ts';
import { startCloud, type ProjectUser, type TestCloud } from '../testing/cloud.ts';
import { imageStoreClient } from '../testing/object-store.ts';

let cloud: TestCloud;
let alice: ProjectUser;
let bob: ProjectUser;
/** alice's own account, as alice */
let aliceStore: ObjectStoreClient;

before(async () => {
  cloud = await startCloud('sqlite://', {}, {}, { objectStore: true });
  alice = await cloud.projectUser('member');
  bob = await cloud.projectUser('member');
  aliceStore = alice.objectStore!;
});
after(() => cloud?.stop());

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');
/** alice's account, as someone else (or no one) sees it */
const aliceAccountAs = (token?: string) => new ObjectStoreClient(cloud.objectStoreAccountUrl(alice.projectId), token);

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (err) {
    if (err instanceof ObjectStoreError) return err.status;
    throw err;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('object storage API', () => {
  test('a member\'s containers and objects round-trip', async () => {
    const store = aliceStore;
    assert.equal(await store.putContainer('photos', { 'x-container-meta-owner': 'alice' }), 201);
    assert.equal(await store.putContainer('photos'), 202);

    const small = Buffer.from('hello, object storage');
    assert.deepEqual(await store.putObject('photos', '2024/cat.txt', small, { contentType: 'text/plain', headers: { 'x-object-meta-mood': 'sleepy' } }), { etag: md5(small) });
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    assert.equal((await store.putObject('photos', 'big.bin', Readable.from(chunks))).etag, md5(big), 'a chunked stream');

    assert.deepEqual(await store.download('photos', '2024/cat.txt'), small);
    assert.ok((await store.download('photos', 'big.bin')).equals(big));
    const part = await store.getObject('photos', 'big.bin', { start: 1000, end: 1999 });
    assert.equal(part.status, 206);
    assert.equal(part.size, 1000);
    assert.ok((await readAll(part.stream)).equals(big.subarray(1000, 2000)));

    const head = await store.headObject('photos', '2024/cat.txt');
    assert.equal(head?.size, small.length);
    assert.equal(head?.etag, md5(small));
    assert.equal(head?.contentType, 'text/plain');
    assert.deepEqual(head?.metadata, { mood: 'sleepy' });
    assert.equal(await store.headObject('photos', 'nope'), null);

    await store.postObject('photos', '2024/cat.txt', { 'x-object-meta-mood': 'awake' });
    assert.deepEqual((await store.headObject('photos', '2024/cat.txt'))?.metadata, { mood: 'awake' });

    await store.copyObject({ container: 'photos', name: '2024/cat.txt' }, { container: 'photos', name: 'copy of cat.txt' });
    assert.deepEqual(await store.download('photos', 'copy of cat.txt'), small);

    const listed = await store.listObjects('photos');
    assert.deepEqual(listed.map((o) => ('name' in o ? o.name : o.subdir)), ['2024/cat.txt', 'big.bin', 'copy of cat.txt']);
    assert.deepEqual((await store.listObjects('photos', { delimiter: '/' })).map((o) => ('name' in o ? o.name : o.subdir)), ['2024/', 'big.bin', 'copy of cat.txt']);

    const container = await store.headContainer('photos');
    assert.equal(container.objectCount, 3);
    assert.equal(container.bytesUsed, 2 * small.length + big.length);
    assert.deepEqual(container.metadata, { owner: 'alice' });
    assert.deepEqual((await store.listContainers()).map((c) => c.name), ['photos']);
    assert.equal((await store.headAccount()).containerCount, 1);

    assert.equal(await status(store.deleteContainer('photos')), 409, 'not while it holds objects');
    for (const name of ['2024/cat.txt', 'big.bin', 'copy of cat.txt']) await store.deleteObject('photos', name);
    assert.equal((await store.send('DELETE', '/photos/big.bin')).status, 404);
    await store.deleteContainer('photos');
    assert.deepEqual(await store.listContainers(), []);
  });

  test('another project\'s user gets 403, anonymous 401', async () => {
    await aliceStore.putContainer('private');
    await aliceStore.putObject('private', 'secret.txt', 'mine');
    const asBob = aliceAccountAs(bob.token);
    assert.equal(await status(asBob.headAccount()), 403);
    assert.equal(await status(asBob.listObjects('private')), 403);
    assert.equal(await status(asBob.download('private', 'secret.txt')), 403);
    assert.equal(await status(asBob.putObject('private', 'mine-now.txt', 'bob')), 403);
    assert.equal(await status(asBob.deleteObject('private', 'secret.txt')), 403);
    assert.equal(await status(asBob.putContainer('bobs')), 403);

    const anonymous = aliceAccountAs();
    const res = await anonymous.send('GET', '/private/secret.txt');
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /^Keystone uri="http:\/\/127\.0\.0\.1:\d+\/v3"$/);
    assert.equal(await status(anonymous.listObjects('private')), 401);
    assert.equal(await status(new ObjectStoreClient(cloud.objectStoreAccountUrl(alice.projectId), 'not-a-token').listObjects('private')), 401);
  });

  test('.r:* makes objects public but not the listing, unless .rlistings', async () => {
    await aliceStore.putContainer('public', { 'x-container-read': '.r:*' });
    await aliceStore.putObject('public', 'index.html', '<h1>hi</h1>', { contentType: 'text/html' });
    const anonymous = aliceAccountAs();
    assert.equal((await anonymous.download('public', 'index.html')).toString(), '<h1>hi</h1>');
    assert.equal(await status(anonymous.listObjects('public')), 401);
    assert.equal(await status(anonymous.putObject('public', 'defaced.html', 'x')), 401);

    await aliceStore.postContainer('public', { 'x-container-read': '.r:*,.rlistings' });
    assert.deepEqual((await anonymous.listObjects('public')).map((o) => ('name' in o ? o.name : '')), ['index.html']);
    assert.equal((await aliceStore.headContainer('public')).read, '.r:*,.rlistings', 'the owner still sees the ACL');
  });

  test('X-Container-Write lets another project\'s user write, without reading or seeing the ACL', async () => {
    await aliceStore.putContainer('dropbox', { 'x-container-write': `${bob.projectId}:${bob.userId}` });
    const asBob = aliceAccountAs(bob.token);
    assert.equal((await asBob.putObject('dropbox', 'from-bob.txt', 'a present')).etag, md5('a present'));
    assert.equal(await status(asBob.download('dropbox', 'from-bob.txt')), 403);
    assert.equal((await aliceStore.download('dropbox', 'from-bob.txt')).toString(), 'a present');
    // the owner sees the ACL; a reader let in by it does not
    assert.equal((await aliceStore.headContainer('dropbox')).write, `${bob.projectId}:${bob.userId}`);
    await aliceStore.postContainer('dropbox', { 'x-container-read': `${bob.projectId}:*` });
    const seenByBob = await asBob.headContainer('dropbox');
    assert.equal(seenByBob.read, undefined);
    assert.equal(seenByBob.write, undefined);
    // nor may bob change it
    assert.equal(await status(asBob.postContainer('dropbox', { 'x-container-write': '*:*' })), 403);
  });

  test('grantees by name work across projects of the default domain; the account records its domain', async () => {
    await aliceStore.putContainer('shared', { 'x-container-read': `${bob.projectName}:${bob.userName}` });
    await aliceStore.putObject('shared', 'notes.txt', 'for bob');
    assert.equal((await aliceStore.headAccount()).headers['x-account-project-domain-id'], 'default');
    const asBob = aliceAccountAs(bob.token);
    assert.equal((await asBob.download('shared', 'notes.txt')).toString(), 'for bob');
    assert.deepEqual((await asBob.listObjects('shared')).map((o) => ('name' in o ? o.name : '')), ['notes.txt']);
  });

  test('a malformed ACL is a 400', async () => {
    const err = await aliceStore.putContainer('bad-acl', { 'x-container-write': '.r:*' }).catch((e) => e);
    assert.ok(err instanceof ObjectStoreError);
    assert.equal(err.status, 400);
    assert.match(err.body, /Referrers not allowed in write ACL/);
  });

  test('/healthcheck needs no token', async () => {
    const res = await fetch(`${cloud.objectStore!.url}/healthcheck`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
  });

  test('the catalog names the member\'s own account', async () => {
    const issued = await cloud.identity.anonymous().passwordLogin({ username: alice.userName, password: 'user-pw', projectId: alice.projectId });
    const service = issued.body.catalog.find((s: any) => s.type === 'object-store');
    assert.equal(service?.name, 'swift');
    const urls = service.endpoints.map((e: any) => [e.interface, e.url]).sort();
    assert.deepEqual(urls, ['admin', 'internal', 'public'].map((i) => [i, cloud.objectStoreAccountUrl(alice.projectId)]));
  });

  test('the image service\'s object-store backend contract: all-or-nothing puts, ranges, missing objects', async () => {
    const images = imageStoreClient(cloud.identity.url, { username: alice.userName, password: 'user-pw', projectName: alice.projectName }, cloud.objectStoreAccountUrl(alice.projectId));
    assert.deepEqual(await images.listObjects('glance'), [], 'a container not made yet lists nothing');
    await images.ensureContainer('glance');
    await images.ensureContainer('glance');
    const data = randomBytes(100_000);
    assert.deepEqual(await images.putObject('glance', 'img-1', Readable.from([data]), { contentLength: data.length }), { etag: md5(data) });
    const got = await images.getObject('glance', 'img-1', { start: 10, end: 19 });
    assert.equal(got.size, 10);
    assert.ok((await readAll(got.stream)).equals(data.subarray(10, 20)));
    assert.deepEqual(await images.headObject('glance', 'img-1').then((i) => i && [i.size, i.etag]), [data.length, md5(data)]);

    // announced longer than it is: refused, nothing stored
    await assert.rejects(images.putObject('glance', 'img-2', Readable.from([data]), { contentLength: data.length + 1 }));
    assert.equal(await images.headObject('glance', 'img-2'), null);
    // a stream that fails midway: refused, nothing stored
    async function* failing() {
      yield data.subarray(0, 50_000);
      throw new Error('disk on fire');
    }
    await assert.rejects(images.putObject('glance', 'img-3', Readable.from(failing()), { contentLength: data.length }), /disk on fire/);
    assert.equal(await images.headObject('glance', 'img-3'), null);

    // listed in name order with the time of the write, in pages after a marker
    const before = Date.now() - 2000;
    await images.putObject('glance', 'img-0', Readable.from([data.subarray(0, 10)]), { contentLength: 10 });
    const listed = await images.listObjects('glance');
    assert.deepEqual(listed.map((o) => o.name), ['img-0', 'img-1']);
    for (const o of listed) assert.ok(o.lastModified > before && o.lastModified <= Date.now() + 1000, `${o.name} ${o.lastModified}`);
    assert.deepEqual((await images.listObjects('glance', { marker: 'img-0' })).map((o) => o.name), ['img-1']);
    assert.deepEqual(await images.listObjects('glance', { marker: 'img-1' }), []);

    await images.deleteObject('glance', 'img-0');
    await images.deleteObject('glance', 'img-1');
    await images.deleteObject('glance', 'img-1'); // missing is not an error
    await assert.rejects(images.getObject('glance', 'img-1'), (err: unknown) => err instanceof ObjectStoreError && err.status === 404);
  });
});
