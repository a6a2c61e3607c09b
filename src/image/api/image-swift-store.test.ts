// The image service's swift store end to end: a cloud with Identity, the image API and a real
// object store (proxy and storage server), the image service keeping data in container
// "glance" of its own service account as Glance's single-tenant swift store does. Small
// segment sizes make a few MiB enough to go through segmented uploads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { ImageClient } from '../../clients/image.ts';
import { IdentityClient } from '../../clients/identity.ts';
import { ObjectStoreClient } from '../../clients/object-store.ts';
import { startCloud, type TestCloud } from '../../testing/cloud.ts';
import { startOrphanSweep } from '../upload/orphan-sweep.ts';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function* chunksOf(data: Buffer, size = 65_521): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('image data in the swift store', () => {
  let cloud: TestCloud;
  let images: ImageClient;
  /** the image service user's own account, where the swift store keeps images */
  let account: ObjectStoreClient;

  before(async () => {
    cloud = await startCloud(
      'sqlite://',
      {
        enabled_backends: 'local:file, swift:swift',
        default_backend: 'local',
        swift_store_large_object_size: '1',
        swift_store_large_object_chunk_size: '1',
      },
      {},
      { objectStore: true },
    );
    images = new ImageClient(cloud.imageUrl, cloud.identity.adminToken);
    const issued = await new IdentityClient(cloud.identity.url).passwordLogin({ username: 'image', password: 'image-service-pw', project: 'service' });
    account = new ObjectStoreClient(cloud.objectStoreAccountUrl(issued.body.project.id), issued.token);
  });
  after(() => cloud?.stop());

  async function newImage(): Promise<string> {
    const res = await images.createImage({ name: 'swift-test', disk_format: 'raw', container_format: 'bare' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }

  /** The names in container glance belonging to the image (its object, or its segments and manifest). */
  async function objectsOf(id: string): Promise<string[]> {
    const listed = await account.listObjects('glance', { prefix: id }).catch(() => []);
    return listed.map((e) => ('name' in e ? e.name : e.subdir));
  }

  test('/v2/info/stores lists both stores; stores-detail shows the swift one as type swift with its container', async () => {
    const stores = await images.rest.call('GET', '/v2/info/stores');
    assert.deepEqual(stores.body.stores.map((s: any) => [s.id, s.default]), [['local', 'true'], ['swift', undefined]]);
    const detail = await images.rest.call('GET', '/v2/info/stores/detail');
    const swift = detail.body.stores.find((s: any) => s.id === 'swift');
    assert.equal(swift.type, 'swift');
    assert.equal(swift.properties.container, 'glance');
  });

  test('an upload with Content-Length to the swift store is one object in the service account; download, Range and checksum match', async () => {
    const id = await newImage();
    const data = randomBytes(MiB / 2 + 17);
    assert.equal((await images.upload(id, data, { store: 'swift' })).status, 204);
    const image = (await images.getImage(id)).body;
    assert.equal(image.status, 'active');
    assert.equal(image.stores, 'swift');
    assert.equal(image.size, data.length);
    assert.equal(image.checksum, md5(data));
    assert.equal(image.os_hash_value, createHash('sha512').update(data).digest('hex'));
    assert.deepEqual(await objectsOf(id), [id]);
    assert.ok(md5(await account.download('glance', id)) === md5(data), 'the object holds the image bytes');

    const whole = await images.download(id);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['content-md5'], md5(data));
    assert.ok(whole.body.equals(data));
    const part = await images.download(id, { range: 'bytes=1000-1999' });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(data.subarray(1000, 2000)));
  });

  test('a chunked upload goes in 1 MiB segments plus a manifest; reads across segment edges are exact; delete removes every object', async () => {
    const id = await newImage();
    const data = randomBytes(2 * MiB + MiB / 2);
    assert.equal((await images.upload(id, chunksOf(data), { store: 'swift' })).status, 204);
    const names = await objectsOf(id);
    assert.equal(names.length, 4, `three segments and the manifest: ${names.join(', ')}`);
    assert.ok(names.includes(id));
    assert.equal((await images.getImage(id)).body.checksum, md5(data));

    assert.ok((await images.download(id)).body.equals(data));
    const across = await images.download(id, { range: `bytes=${MiB - 10}-${2 * MiB + 9}` });
    assert.equal(across.status, 206);
    assert.ok(across.body.equals(data.subarray(MiB - 10, 2 * MiB + 10)));
    const tail = await images.download(id, { range: 'bytes=-5' });
    assert.ok(tail.body.equals(data.subarray(data.length - 5)));

    assert.equal((await images.deleteImage(id)).status, 204);
    assert.deepEqual(await objectsOf(id), []);
  });

  test('a client that vanishes halfway through a segmented upload leaves the image queued and no segment behind', async () => {
    const id = await newImage();
    const data = randomBytes(3 * MiB);
    const req = request(`${cloud.imageUrl}/v2/images/${id}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': cloud.identity.adminToken, 'x-image-meta-store': 'swift', 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => {});
    req.on('response', (res) => res.resume());
    req.write(data.subarray(0, 2 * MiB));
    await images.waitFor(id, (img) => img.status === 'saving');
    // at least one segment is written before the client goes away
    for (let i = 0; i < 200 && (await objectsOf(id)).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    req.destroy();
    const image = await images.waitFor(id, (img) => img.status === 'queued');
    assert.equal(image.size, null);
    for (let i = 0; i < 200 && (await objectsOf(id)).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(await objectsOf(id), []);
  });

  test('copy-image puts a local image into the swift store too; deleting the image removes both copies', async () => {
    const id = await newImage();
    const data = randomBytes(MiB / 4 + 3);
    assert.equal((await images.upload(id, data)).status, 204);
    assert.equal((await images.getImage(id)).body.stores, 'local');
    assert.equal((await images.import(id, 'copy-image', { stores: ['swift'] })).status, 202);
    const copied = await images.waitFor(id, (img) => String(img.stores).split(',').includes('swift'));
    assert.deepEqual(String(copied.stores).split(',').sort(), ['local', 'swift']);
    assert.ok(md5(await account.download('glance', id)) === md5(data), 'the copy in the object store is byte-identical');
    assert.equal((await images.deleteImage(id)).status, 204);
    assert.deepEqual(await objectsOf(id), []);
  });

  test('an upload while the object store cannot store answers 503 and leaves the image queued; it works once the store is back', async () => {
    const id = await newImage();
    const data = randomBytes(4096);
    const [node] = cloud.objectStore!.nodes;
    await node!.stop();
    try {
      const res = await images.upload(id, data, { store: 'swift' });
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal((await images.getImage(id)).body.status, 'queued');
    } finally {
      await node!.start();
    }
    assert.equal((await images.upload(id, data, { store: 'swift' })).status, 204);
    assert.ok((await images.download(id)).body.equals(data));
  });

  test('an unknown store in X-Image-Meta-Store is a 400 and stores nothing', async () => {
    const id = await newImage();
    const res = await images.upload(id, randomBytes(100), { store: 'nowhere' });
    assert.equal(res.status, 400);
    assert.equal((await images.getImage(id)).body.status, 'queued');
  });

  test('the start-up sweep removes segments a dead upload left, and leaves those of a live upload and of complete images', async () => {
    // a complete segmented image
    const whole = await newImage();
    const wholeData = randomBytes(2 * MiB);
    assert.equal((await images.upload(whole, chunksOf(wholeData), { store: 'swift' })).status, 204);
    const wholeObjects = await objectsOf(whole);
    // what a process that died mid-upload left: the image queued again, two segments
    const dead = await newImage();
    for (const n of ['00001', '00002']) await account.putObject('glance', `${dead}-0123456789ab-${n}`, randomBytes(100));
    // an upload in progress right now
    const live = await newImage();
    const req = request(`${cloud.imageUrl}/v2/images/${live}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': cloud.identity.adminToken, 'x-image-meta-store': 'swift', 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => {});
    req.on('response', (res) => res.resume());
    req.write(randomBytes(MiB + 1));
    for (let i = 0; i < 200 && (await objectsOf(live)).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const liveObjects = await objectsOf(live);
    assert.ok(liveObjects.length > 0, 'the live upload wrote a segment');
    await new Promise((r) => setTimeout(r, 20));

    await startOrphanSweep(cloud.imageService.deps, { before: new Date(), logger: cloud.imageService.deps.logger }).done;
    assert.deepEqual(await objectsOf(dead), []);
    assert.deepEqual(await objectsOf(whole), wholeObjects);
    assert.deepEqual(await objectsOf(live), liveObjects);
    assert.ok((await images.download(whole)).body.equals(wholeData));
    req.destroy();
    await images.waitFor(live, (img) => img.status === 'queued');
  });
});
