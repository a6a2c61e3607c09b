// Image data end to end, through real HTTP: uploads with and without Content-Length, byte-exact
// downloads with Content-MD5 and Range, the status machine (queued → saving → active, 409s),
// who may read and write data, a client vanishing mid-upload, and the size quotas — each
// failure leaving the image 'queued' and no byte (nor temporary file) in the store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ImageClient } from '../../clients/image.ts';
import { startCloud, type ProjectUser, type TestCloud } from '../../testing/cloud.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { IdentityClient } from '../../clients/identity.ts';
import { parseRange } from './image-data.ts';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

async function* chunksOf(data: Buffer, size = 7919): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) {
    yield data.subarray(i, i + size);
    await new Promise((r) => setImmediate(r));
  }
}

async function newImage(client: ImageClient, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await client.createImage({ name: 'data-test', disk_format: 'raw', container_format: 'bare', ...fields });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

/** Every entry of a store directory (temporary upload files included). */
function storeFiles(cloud: TestCloud, store = 'local'): string[] {
  const dir = join(cloud.stateDir, 'images', store);
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** A user with only the reader role on `projectId` (made through the identity API), logged in to it. */
async function readerOf(cloud: TestCloud, projectId: string): Promise<ImageClient> {
  const admin = cloud.identity.admin;
  const name = `reader-${randomBytes(6).toString('hex')}`;
  const user = (await admin.call('POST', '/v3/users', { body: { user: { name, password: 'reader-pw' } } })).body.user;
  const role = (await admin.call('GET', '/v3/roles?name=reader')).body.roles[0];
  await admin.call('PUT', `/v3/projects/${projectId}/users/${user.id}/roles/${role.id}`);
  const issued = await new IdentityClient(cloud.identity.url).passwordLogin({ username: name, password: 'reader-pw', projectId });
  return new ImageClient(cloud.imageUrl, issued.token);
}

/** Sends the first half of a body announced at full length, waits for 'saving', then drops the connection. */
async function uploadHalfAndVanish(cloud: TestCloud, client: ImageClient, token: string, id: string, data: Buffer): Promise<void> {
  const req = request(`${cloud.imageUrl}/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
  });
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  req.write(data.subarray(0, data.length / 2));
  await client.waitFor(id, (img) => img.status === 'saving');
  req.destroy();
}

test('parseRange follows Glance: single ranges, suffixes, clipping, 400 and 416', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=50-1000', 100), { start: 50, end: 99 });
  assert.equal(parseRange(undefined, 100), undefined);
  assert.throws(() => parseRange('bytes=0-1,5-6', 100), (e: any) => e.status === 400);
  for (const bad of ['bytes=100-', 'bytes=5-2', 'items=0-1', 'bytes=-', 'bytes=-0', 'bytes=a-b']) {
    assert.throws(() => parseRange(bad, 100), (e: any) => e.status === 416 && e.headers['content-range'] === 'bytes */100', bad);
  }
});

for (const backend of await cloudBackends()) {
  describe(`image data on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    let owner: ProjectUser;
    let ownerImages: ImageClient;
    let admin: ImageClient;

    before(async () => {
      cloud = await startCloud(backend.url);
      owner = await cloud.projectUser('member');
      ownerImages = new ImageClient(cloud.imageUrl, owner.token);
      admin = new ImageClient(cloud.imageUrl, cloud.image.token);
    });
    after(async () => {
      await cloud?.stop();
    });

    test('an upload with Content-Length activates the image; the download is byte-identical', async () => {
      const id = await newImage(ownerImages);
      const data = randomBytes(300 * 1024 + 17);
      const up = await ownerImages.upload(id, data);
      assert.equal(up.status, 204, JSON.stringify(up.body));
      const image = (await ownerImages.getImage(id)).body;
      assert.equal(image.status, 'active');
      assert.equal(image.size, data.length);
      assert.equal(image.virtual_size, data.length, 'raw: the virtual size is the size');
      assert.equal(image.checksum, md5(data));
      assert.equal(image.os_hash_algo, 'sha512');
      assert.equal(image.os_hash_value, sha512(data));
      assert.equal(image.stores, 'local');

      const down = await ownerImages.download(id);
      assert.equal(down.status, 200);
      assert.equal(down.headers['content-type'], 'application/octet-stream');
      assert.equal(down.headers['content-length'], String(data.length));
      assert.equal(down.headers['content-md5'], md5(data));
      assert.ok(down.body.equals(data));

      const head = await fetch(`${cloud.imageUrl}/v2/images/${id}/file`, { method: 'HEAD', headers: { 'x-auth-token': owner.token } });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(data.length));
      assert.equal(head.headers.get('content-md5'), md5(data));
    });

    test('a chunked upload (no Content-Length) is stored whole', async () => {
      const id = await newImage(ownerImages);
      const data = randomBytes(200 * 1024 + 3);
      const up = await ownerImages.upload(id, chunksOf(data));
      assert.equal(up.status, 204, JSON.stringify(up.body));
      const image = (await ownerImages.getImage(id)).body;
      assert.equal(image.status, 'active');
      assert.equal(image.size, data.length);
      assert.equal(image.checksum, md5(data));
      assert.ok((await ownerImages.download(id)).body.equals(data));
    });

    test('Range: 206 with Content-Range, suffix ranges, 416 when unsatisfiable', async () => {
      const id = await newImage(ownerImages);
      const data = randomBytes(1000);
      assert.equal((await ownerImages.upload(id, data)).status, 204);
      const part = await ownerImages.download(id, { range: 'bytes=100-199' });
      assert.equal(part.status, 206);
      assert.equal(part.headers['content-range'], 'bytes 100-199/1000');
      assert.equal(part.headers['content-length'], '100');
      assert.ok(part.body.equals(data.subarray(100, 200)));
      const tail = await ownerImages.download(id, { range: 'bytes=-10' });
      assert.equal(tail.status, 206);
      assert.equal(tail.headers['content-range'], 'bytes 990-999/1000');
      assert.ok(tail.body.equals(data.subarray(990)));
      const open = await ownerImages.download(id, { range: 'bytes=995-' });
      assert.ok(open.body.equals(data.subarray(995)));
      assert.equal((await ownerImages.download(id, { range: 'bytes=1000-1001' })).status, 416);
      assert.equal((await ownerImages.download(id, { range: 'bytes=0-1,4-5' })).status, 400);
    });

    test('the status machine: 204 for a queued image, 409 for an upload to an active one', async () => {
      const id = await newImage(ownerImages);
      const none = await ownerImages.download(id);
      assert.equal(none.status, 204);
      assert.equal(none.body.length, 0);
      assert.equal((await ownerImages.upload(id, Buffer.from('first'))).status, 204);
      const again = await ownerImages.upload(id, Buffer.from('second'));
      assert.equal(again.status, 409);
      assert.equal((again.body as any).message, 'Image status transition from active to saving is not allowed');
      assert.equal((again.body as any).code, '409 Conflict');
      assert.equal((await ownerImages.download(id)).body.toString(), 'first');
    });

    test('two concurrent uploads to one image: the second gets 409, the first completes', async () => {
      const id = await newImage(ownerImages);
      const data = randomBytes(64 * 1024);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      async function* slow() {
        yield data.subarray(0, 1024);
        await gate;
        yield data.subarray(1024);
      }
      const first = ownerImages.upload(id, slow(), { contentLength: data.length });
      await ownerImages.waitFor(id, (img) => img.status === 'saving');
      const second = await ownerImages.upload(id, Buffer.from('intruder'));
      assert.equal(second.status, 409);
      assert.equal((second.body as any).message, 'Image status transition from saving to saving is not allowed');
      release();
      assert.equal((await first).status, 204);
      assert.ok((await ownerImages.download(id)).body.equals(data));
    });

    test('an image deleted while its data is being written: 410 Gone and the data removed', async () => {
      const id = await newImage(ownerImages);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      async function* slow() {
        yield Buffer.alloc(1024, 1);
        await gate;
        yield Buffer.alloc(1024, 2);
      }
      const upload = ownerImages.upload(id, slow(), { contentLength: 2048 });
      await ownerImages.waitFor(id, (img) => img.status === 'saving');
      assert.equal((await ownerImages.deleteImage(id)).status, 204);
      release();
      const res = await upload;
      assert.equal(res.status, 410);
      assert.ok(!storeFiles(cloud).some((f) => f.includes(id)), 'nothing of the deleted image in the store');
    });

    test('bad requests: wrong media type 415, unknown store 400, formats unset 400, unknown image 404', async () => {
      const id = await newImage(ownerImages);
      const wrongType = await ownerImages.upload(id, Buffer.from('{}'), { contentType: 'application/json' });
      assert.equal(wrongType.status, 415);
      const unknownStore = await ownerImages.upload(id, Buffer.from('x'), { store: 'nowhere' });
      assert.equal(unknownStore.status, 400);
      const bare = await newImage(ownerImages, { disk_format: undefined, container_format: undefined });
      const noFormats = await ownerImages.upload(bare, Buffer.from('x'));
      assert.equal(noFormats.status, 400);
      assert.equal((noFormats.body as any).message, 'Properties disk_format, container_format must be set prior to saving data.');
      assert.equal((await ownerImages.upload('00000000-0000-0000-0000-000000000000', Buffer.from('x'))).status, 404);
      assert.equal((await ownerImages.getImage(id)).body.status, 'queued');
    });

    test('data of another kind than disk_format is refused (415) and the image stays queued', async () => {
      const id = await newImage(ownerImages, { disk_format: 'qcow2' });
      const res = await ownerImages.upload(id, randomBytes(4096));
      assert.equal(res.status, 415);
      const image = (await ownerImages.getImage(id)).body;
      assert.equal(image.status, 'queued');
      assert.equal(image.size, null);
      assert.ok(!storeFiles(cloud).includes(id));
    });

    test('who may touch data: another project 404, a reader downloads but may not upload, admins do both', async () => {
      const stranger = new ImageClient(cloud.imageUrl, (await cloud.projectUser('member')).token);
      const id = await newImage(ownerImages);
      assert.equal((await ownerImages.upload(id, Buffer.from('private bytes'))).status, 204);
      assert.equal((await stranger.download(id)).status, 404);
      const other = await newImage(ownerImages);
      assert.equal((await stranger.upload(other, Buffer.from('x'))).status, 404);

      const reader = await readerOf(cloud, owner.projectId);
      const read = await reader.download(id);
      assert.equal(read.status, 200);
      assert.equal(read.body.toString(), 'private bytes');
      const denied = await reader.upload(other, Buffer.from('x'));
      assert.equal(denied.status, 403);
      assert.equal((await ownerImages.getImage(other)).body.status, 'queued');

      assert.equal((await admin.download(id)).status, 200);
      assert.equal((await admin.upload(other, Buffer.from('by admin'))).status, 204);
    });

    test('a deactivated image: 403 to download for non-admins, admins still may', async () => {
      const id = await newImage(ownerImages);
      assert.equal((await ownerImages.upload(id, Buffer.from('soon deactivated'))).status, 204);
      await cloud.imageService.deps.data.write((tx) => tx.updateTable('image').set({ status: 'deactivated' }).where('id', '=', id).execute());
      const res = await ownerImages.download(id);
      assert.equal(res.status, 403);
      assert.equal((await admin.download(id)).status, 200);
    });

    test('a client vanishing mid-upload: the image is queued again and no byte is left', async () => {
      const id = await newImage(ownerImages);
      const data = randomBytes(2 * 1024 * 1024);
      await uploadHalfAndVanish(cloud, ownerImages, owner.token, id, data);
      const image = await ownerImages.waitFor(id, (img) => img.status === 'queued');
      assert.equal(image.size, null);
      assert.equal(image.checksum, null);
      assert.deepEqual(storeFiles(cloud).filter((f) => f.includes(id)), [], 'no data and no temporary file');
      assert.ok(!storeFiles(cloud).some((f) => f.endsWith('.tmp')), 'no temporary file at all');
      // and the upload can be retried
      assert.equal((await ownerImages.upload(id, data)).status, 204);
      assert.ok((await ownerImages.download(id)).body.equals(data));
    });
  });
}

describe('image data limits (SQLite)', () => {
  let cloud: TestCloud;
  let client: ImageClient;
  const CAP = 40_000;
  const TOTAL = 60_000;

  before(async () => {
    cloud = await startCloud('sqlite://', { image_size_cap: String(CAP), image_size_total: String(TOTAL), image_count_uploading: '1' });
    client = new ImageClient(cloud.imageUrl, (await cloud.projectUser('member')).token);
  });
  after(async () => {
    await cloud?.stop();
  });

  const assertNothingLeft = async (id: string) => {
    const image = (await client.getImage(id)).body;
    assert.equal(image.status, 'queued');
    assert.equal(image.size, null);
    assert.ok(!storeFiles(cloud).some((f) => f.includes(id)), `nothing of ${id} in the store`);
  };

  test('image_size_cap: 413 whether announced or discovered while streaming', async () => {
    const id = await newImage(client);
    const big = randomBytes(CAP + 1);
    const announced = await client.upload(id, big);
    assert.equal(announced.status, 413);
    assert.equal((announced.body as any).code, '413 Request Entity Too Large');
    await assertNothingLeft(id);
    const streamed = await client.upload(id, chunksOf(big, 4096));
    assert.equal(streamed.status, 413);
    await assertNothingLeft(id);
  });

  test('image_size_total: 413 with nothing left, whether announced or discovered while streaming', async () => {
    const first = await newImage(client);
    assert.equal((await client.upload(first, randomBytes(30_000))).status, 204);
    const second = await newImage(client);
    const over = randomBytes(31_000);
    const announced = await client.upload(second, over);
    assert.equal(announced.status, 413);
    assert.match((announced.body as any).message, /image_size_total/);
    await assertNothingLeft(second);
    const streamed = await client.upload(second, chunksOf(over, 4096));
    assert.equal(streamed.status, 413);
    await assertNothingLeft(second);
    assert.equal((await client.upload(second, randomBytes(30_000))).status, 204, 'exactly at the limit is fine');

    const usage = (await client.rest.send('GET', '/v2/info/usage')).body.usage;
    assert.deepEqual(usage.image_count_uploading, { limit: 1, usage: 0 });
    assert.equal(usage.image_count_total.usage, 3);
  });

  test('image_count_uploading: a second simultaneous upload of the project is a 413', async () => {
    const client = new ImageClient(cloud.imageUrl, (await cloud.projectUser('member')).token);
    const a = await newImage(client);
    const b = await newImage(client);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow() {
      yield Buffer.alloc(10);
      await gate;
      yield Buffer.alloc(10);
    }
    const first = client.upload(a, slow(), { contentLength: 20 });
    await client.waitFor(a, (img) => img.status === 'saving');
    const second = await client.upload(b, Buffer.alloc(0));
    assert.equal(second.status, 413);
    assert.match((second.body as any).message, /image_count_uploading/);
    assert.equal((await client.getImage(b)).body.status, 'queued');
    release();
    assert.equal((await first).status, 204);
  });
});
