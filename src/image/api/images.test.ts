// Images end to end on a real in-process cloud: create (defaults, every attribute, custom
// properties, the ids, the owner and visibility rules, quotas), show, delete (protected, data
// removed from the store), deactivate/reactivate, tags one by one, and the schema documents;
// with every bad input Glance refuses (400/403/404/409/413), never a 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RestClient } from '../../clients/http.ts';
import { startCloud, type ProjectUser, type TestCloud } from '../../testing/cloud.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { IMAGE_PROPERTY_QUOTA, IMAGE_TAG_QUOTA } from './image-rules.ts';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function create(client: RestClient, body: Record<string, unknown> = {}): Promise<any> {
  const res = await client.send('POST', '/v2/images', { body: { name: 'img', disk_format: 'raw', container_format: 'bare', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function upload(cloud: TestCloud, token: string, id: string, data = Buffer.from('some image bytes')): Promise<number> {
  const res = await fetch(`${cloud.imageUrl}/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: data,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Asserts a Glance (WebOb) fault with this status. */
function fault(res: { status: number; body: any }, status: number, match?: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(typeof res.body.message, 'string');
  assert.match(res.body.code, new RegExp(`^${status} `));
  if (match) assert.match(res.body.message, match);
}

for (const backend of await cloudBackends()) {
  describe(`images on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    let alice: ProjectUser;
    let bob: ProjectUser;
    let reader: ProjectUser;

    before(async () => {
      cloud = await startCloud(backend.url);
      alice = await cloud.projectUser('member');
      bob = await cloud.projectUser('member');
      reader = await cloud.projectUser('reader');
    });
    after(async () => {
      await cloud?.stop();
    });

    test('create with no attributes: a queued, shared image owned by the caller', async () => {
      const res = await alice.image.send('POST', '/v2/images', { body: {} });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const img = res.body;
      assert.match(img.id, /^[0-9a-f-]{36}$/);
      assert.equal(img.status, 'queued');
      assert.equal(img.visibility, 'shared');
      assert.equal(img.protected, false);
      assert.equal(img.os_hidden, false);
      assert.equal(img.owner, alice.projectId);
      assert.equal(img.name, null);
      assert.equal(img.disk_format, null);
      assert.equal(img.container_format, null);
      assert.equal(img.size, null);
      assert.equal(img.virtual_size, null);
      assert.equal(img.checksum, null);
      assert.equal(img.os_hash_algo, null);
      assert.equal(img.min_disk, 0);
      assert.equal(img.min_ram, 0);
      assert.deepEqual(img.tags, []);
      assert.match(img.created_at, TIME);
      assert.equal(img.created_at, img.updated_at);
      assert.equal(img.self, `/v2/images/${img.id}`);
      assert.equal(img.file, `/v2/images/${img.id}/file`);
      assert.equal(img.schema, '/v2/schemas/image');
      assert.equal(res.headers.get('location'), `${cloud.imageUrl}/v2/images/${img.id}`);
      assert.ok(res.headers.get('openstack-image-import-methods')?.includes('glance-direct'));
      assert.equal(res.headers.get('openstack-image-store-ids'), 'local');
    });

    test('create with every settable attribute, custom properties and tags', async () => {
      const id = randomUUID();
      const img = await create(alice.image, {
        id,
        name: 'cirros',
        visibility: 'private',
        protected: true,
        os_hidden: true,
        disk_format: 'qcow2',
        container_format: 'bare',
        min_disk: 1,
        min_ram: 64,
        tags: ['a', 'b', 'a'],
        os_distro: 'cirros',
        hw_disk_bus: 'virtio',
        kernel_id: null,
      });
      assert.equal(img.id, id);
      assert.equal(img.name, 'cirros');
      assert.equal(img.visibility, 'private');
      assert.equal(img.protected, true);
      assert.equal(img.os_hidden, true);
      assert.equal(img.disk_format, 'qcow2');
      assert.equal(img.min_disk, 1);
      assert.equal(img.min_ram, 64);
      assert.deepEqual([...img.tags].sort(), ['a', 'b']);
      assert.equal(img.os_distro, 'cirros');
      assert.equal(img.hw_disk_bus, 'virtio');
      assert.equal('kernel_id' in img, false);
      const shown = await alice.image.call('GET', `/v2/images/${id}`);
      assert.deepEqual(shown.body, img);
      // the id is taken now, also for another project
      fault(await bob.image.send('POST', '/v2/images', { body: { id } }), 409, /already exists/);
    });

    test('create refuses bad bodies with 400', async () => {
      const bad: unknown[] = [
        [],
        'text',
        { id: 'not-a-uuid' },
        { name: 5 },
        { name: 'x'.repeat(256) },
        { name: 'nul\u0000' },
        { disk_format: 'floppy' },
        { container_format: 'crate' },
        { visibility: 'everyone' },
        { protected: 'yes' },
        { os_hidden: 1 },
        { min_ram: -1 },
        { min_disk: 1.5 },
        { min_ram: 2147483648 },
        { min_ram: '64' },
        { tags: 'a' },
        { tags: [1] },
        { tags: ['x'.repeat(256)] },
        { tags: ['nul\u0000'] },
        { custom: 5 },
        { custom: null },
        { custom: { a: 1 } },
        { ['k'.repeat(256)]: 'v' },
        { kernel_id: 'not-a-uuid' },
        { cinder_encryption_key_deletion_policy: 'sometimes' },
        { owner: 'x'.repeat(300) },
      ];
      for (const body of bad) {
        const res = await alice.image.send('POST', '/v2/images', { body });
        fault(res, 400);
      }
      const schemaError = await alice.image.send('POST', '/v2/images', { body: { disk_format: 'floppy' } });
      assert.match(schemaError.body.message, /^Provided object does not match schema 'image': 'floppy' is not one of \[None, 'ami'/);
      fault(await alice.image.send('POST', '/v2/images', { rawBody: '{"name": ' }), 400);
      fault(await alice.image.send('POST', '/v2/images', { rawBody: '' }), 400, /Body expected/);
    });

    test('create refuses read-only and reserved attributes with 403', async () => {
      for (const key of ['status', 'checksum', 'size', 'virtual_size', 'created_at', 'updated_at', 'os_hash_algo', 'os_hash_value', 'self', 'file', 'schema', 'direct_url', 'stores']) {
        // schema-valid values: the schema is checked first (a bad status is a 400 'not one of')
        const value = key === 'size' || key === 'virtual_size' ? 1 : key === 'status' ? 'active' : 'x';
        const res = await alice.image.send('POST', '/v2/images', { body: { [key]: value } });
        fault(res, 403, new RegExp(`Attribute '${key}' is read-only`));
      }
      for (const key of ['location', 'locations', 'deleted', 'deleted_at', 'os_glance_import_task']) {
        const res = await alice.image.send('POST', '/v2/images', { body: { [key]: key === 'locations' ? [] : 'x' } });
        fault(res, 403, new RegExp(`Attribute '${key}' is reserved`));
      }
    });

    test('owner and visibility rules on create', async () => {
      fault(await alice.image.send('POST', '/v2/images', { body: { owner: bob.projectId } }), 403, /not permitted to create images owned by/);
      const own = await create(alice.image, { owner: alice.projectId });
      assert.equal(own.owner, alice.projectId);
      fault(await alice.image.send('POST', '/v2/images', { body: { visibility: 'public' } }), 403, /publicize_image/);
      assert.equal((await create(alice.image, { visibility: 'community' })).visibility, 'community');
      const pub = await create(cloud.image, { visibility: 'public', owner: bob.projectId });
      assert.equal(pub.visibility, 'public');
      assert.equal(pub.owner, bob.projectId);
      const ownerless = await create(cloud.image, { owner: null });
      assert.equal(ownerless.owner, null);
      // a reader may not create
      fault(await reader.image.send('POST', '/v2/images', { body: {} }), 403);
    });

    test('tags and custom properties are limited to 128 each (413)', async () => {
      const tags = Array.from({ length: IMAGE_TAG_QUOTA + 1 }, (_, i) => `t${i}`);
      fault(await alice.image.send('POST', '/v2/images', { body: { tags } }), 413, /allowed image tags/);
      const props = Object.fromEntries(Array.from({ length: IMAGE_PROPERTY_QUOTA + 1 }, (_, i) => [`p${i}`, 'v']));
      fault(await alice.image.send('POST', '/v2/images', { body: props }), 413, /allowed image properties/);
      const full = await create(alice.image, { tags: tags.slice(0, IMAGE_TAG_QUOTA) });
      assert.equal(full.tags.length, IMAGE_TAG_QUOTA);
      const res = await alice.image.send('PUT', `/v2/images/${full.id}/tags/one-more`);
      fault(res, 413, /Image tag limit exceeded/);
      // an existing tag is no new tag
      assert.equal((await alice.image.send('PUT', `/v2/images/${full.id}/tags/t0`)).status, 204);
    });

    test('show: visible images only, 404 otherwise', async () => {
      const priv = await create(alice.image, { visibility: 'private' });
      const shared = await create(alice.image, { visibility: 'shared' });
      const comm = await create(alice.image, { visibility: 'community' });
      const pub = await create(cloud.image, { visibility: 'public' });
      assert.equal((await alice.image.send('GET', `/v2/images/${priv.id}`)).status, 200);
      fault(await bob.image.send('GET', `/v2/images/${priv.id}`), 404, new RegExp(`No image found with ID ${priv.id}`));
      fault(await bob.image.send('GET', `/v2/images/${shared.id}`), 404);
      assert.equal((await bob.image.send('GET', `/v2/images/${comm.id}`)).status, 200);
      assert.equal((await bob.image.send('GET', `/v2/images/${pub.id}`)).status, 200);
      assert.equal((await cloud.image.send('GET', `/v2/images/${priv.id}`)).status, 200);
      fault(await alice.image.send('GET', `/v2/images/${randomUUID()}`), 404);
      fault(await alice.image.send('GET', '/v2/images/%00'), 404);
      fault(await alice.image.send('GET', `/v2/images/${'x'.repeat(500)}`), 404);
      // an empty id is not the list (tempest's test_get_image_null_id)
      fault(await alice.image.send('GET', '/v2/images/'), 404);
      assert.equal((await alice.image.send('GET', `/v2/images/${priv.id}`, { token: 'bogus' })).status, 401);
    });

    test('delete: policy, protection, and the data leaves the store', async () => {
      const img = await create(alice.image, { visibility: 'community', protected: true });
      fault(await bob.image.send('DELETE', `/v2/images/${img.id}`), 403, /delete_image/);
      fault(await alice.image.send('DELETE', `/v2/images/${img.id}`), 403, /is protected and cannot be deleted/);
      const priv = await create(alice.image, { visibility: 'private' });
      fault(await bob.image.send('DELETE', `/v2/images/${priv.id}`), 404, /Failed to find image/);
      fault(await alice.image.send('DELETE', `/v2/images/${randomUUID()}`), 404);

      const withData = await create(alice.image);
      assert.equal(await upload(cloud, alice.token, withData.id), 204);
      const file = join(cloud.stateDir, 'images', 'local', withData.id);
      assert.ok(existsSync(file), 'the upload is in the file store');
      await alice.image.call('PUT', `/v2/images/${withData.id}/tags/x`);
      assert.equal((await alice.image.send('DELETE', `/v2/images/${withData.id}`)).status, 204);
      assert.equal(existsSync(file), false, 'the data is gone with the image');
      fault(await alice.image.send('GET', `/v2/images/${withData.id}`), 404);
      fault(await alice.image.send('DELETE', `/v2/images/${withData.id}`), 404);
      // staged data (an import under way) goes too
      const staged = await create(alice.image);
      const stage = await fetch(`${cloud.imageUrl}/v2/images/${staged.id}/stage`, {
        method: 'PUT',
        headers: { 'x-auth-token': alice.token, 'content-type': 'application/octet-stream' },
        body: Buffer.from('staged bytes'),
      });
      assert.equal(stage.status, 204);
      assert.equal((await alice.image.call('GET', `/v2/images/${staged.id}`)).body.status, 'uploading');
      const stagedFile = join(cloud.stateDir, 'image-staging', staged.id);
      assert.ok(existsSync(stagedFile), 'the staged data is in the staging area');
      assert.equal((await alice.image.send('DELETE', `/v2/images/${staged.id}`)).status, 204);
      assert.equal(existsSync(stagedFile), false, 'the staged data is gone with the image');
      // a queued image without data deletes too; admins delete anyone's
      const other = await create(bob.image);
      assert.equal((await cloud.image.send('DELETE', `/v2/images/${other.id}`)).status, 204);
    });

    test('deactivate and reactivate', async () => {
      const img = await create(alice.image, { visibility: 'community' });
      const act = (id: string, action: string, client = alice.image) => client.send('POST', `/v2/images/${id}/actions/${action}`);
      fault(await act(img.id, 'deactivate'), 403, /Not allowed to deactivate image in status 'queued'/);
      fault(await act(img.id, 'reactivate'), 403, /Not allowed to reactivate image in status 'queued'/);
      assert.equal(await upload(cloud, alice.token, img.id), 204);
      fault(await act(img.id, 'deactivate', bob.image), 403, /deactivate/);
      assert.equal((await act(img.id, 'deactivate')).status, 204);
      assert.equal((await alice.image.call('GET', `/v2/images/${img.id}`)).body.status, 'deactivated');
      assert.equal((await act(img.id, 'deactivate')).status, 204, 'deactivating twice is fine');
      // still editable while deactivated
      const res = await fetch(`${cloud.imageUrl}/v2/images/${img.id}`, {
        method: 'PATCH',
        headers: { 'x-auth-token': alice.token, 'content-type': 'application/openstack-images-v2.1-json-patch' },
        body: JSON.stringify([{ op: 'replace', path: '/name', value: 'renamed' }]),
      });
      assert.equal(res.status, 200);
      assert.equal((await act(img.id, 'reactivate')).status, 204);
      assert.equal((await act(img.id, 'reactivate')).status, 204);
      assert.equal((await alice.image.call('GET', `/v2/images/${img.id}`)).body.status, 'active');
      const priv = await create(alice.image, { visibility: 'private' });
      fault(await act(priv.id, 'deactivate', bob.image), 404);
      fault(await act(randomUUID(), 'reactivate'), 404);
      // admins may act on anyone's image
      assert.equal((await act(img.id, 'deactivate', cloud.image)).status, 204);
    });

    test('tags one by one', async () => {
      const img = await create(alice.image, { visibility: 'community' });
      assert.equal((await alice.image.send('PUT', `/v2/images/${img.id}/tags/linux`)).status, 204);
      assert.equal((await alice.image.send('PUT', `/v2/images/${img.id}/tags/linux`)).status, 204);
      assert.equal((await alice.image.send('PUT', `/v2/images/${img.id}/tags/${encodeURIComponent('with space')}`)).status, 204);
      assert.deepEqual([...(await alice.image.call('GET', `/v2/images/${img.id}`)).body.tags].sort(), ['linux', 'with space']);
      fault(await alice.image.send('PUT', `/v2/images/${img.id}/tags/${'x'.repeat(256)}`), 400, /too long/);
      fault(await alice.image.send('PUT', `/v2/images/${img.id}/tags/%00`), 400);
      fault(await bob.image.send('PUT', `/v2/images/${img.id}/tags/mine`), 403);
      fault(await bob.image.send('DELETE', `/v2/images/${img.id}/tags/linux`), 403);
      fault(await alice.image.send('PUT', `/v2/images/${randomUUID()}/tags/x`), 404);
      assert.equal((await alice.image.send('DELETE', `/v2/images/${img.id}/tags/linux`)).status, 204);
      fault(await alice.image.send('DELETE', `/v2/images/${img.id}/tags/linux`), 404);
      assert.deepEqual((await alice.image.call('GET', `/v2/images/${img.id}`)).body.tags, ['with space']);
      const priv = await create(alice.image, { visibility: 'private' });
      fault(await bob.image.send('PUT', `/v2/images/${priv.id}/tags/x`), 404);
    });

    test('a reader of the owner project reads but does not change', async () => {
      const img = await create(alice.image, { visibility: 'private' });
      fault(await reader.image.send('GET', `/v2/images/${img.id}`), 404);
      // an image of the reader's own project
      const mine = await create(cloud.image, { owner: reader.projectId, visibility: 'private' });
      assert.equal((await reader.image.send('GET', `/v2/images/${mine.id}`)).status, 200);
      fault(await reader.image.send('DELETE', `/v2/images/${mine.id}`), 403);
      fault(await reader.image.send('PUT', `/v2/images/${mine.id}/tags/x`), 403);
      fault(await reader.image.send('POST', `/v2/images/${mine.id}/actions/deactivate`), 403);
    });

    test('schemas', async () => {
      const image = (await alice.image.call('GET', '/v2/schemas/image')).body;
      assert.equal(image.name, 'image');
      assert.deepEqual(image.additionalProperties, { type: 'string' });
      assert.deepEqual(image.properties.disk_format.enum[0], null);
      assert.ok(image.properties.disk_format.enum.includes('qcow2'));
      assert.ok(image.properties.container_format.enum.includes('bare'));
      assert.deepEqual(image.properties.name.type, ['null', 'string']);
      assert.equal(image.properties.status.readOnly, true);
      assert.equal(image.properties.os_distro.is_base, false);
      assert.equal(image.properties.name.is_base, undefined);
      assert.deepEqual(image.links.map((l: any) => l.rel), ['self', 'enclosure', 'describedby']);
      const images = (await alice.image.call('GET', '/v2/schemas/images')).body;
      assert.equal(images.name, 'images');
      assert.deepEqual(images.properties.images.items, image);
      assert.deepEqual(Object.keys(images.properties).sort(), ['first', 'images', 'next', 'schema']);
      const member = (await alice.image.call('GET', '/v2/schemas/member')).body;
      assert.equal(member.name, 'member');
      assert.deepEqual(member.properties.status.enum, ['pending', 'accepted', 'rejected']);
      const members = (await alice.image.call('GET', '/v2/schemas/members')).body;
      assert.deepEqual(members.properties.members.items, member);
      assert.equal((await alice.image.send('GET', '/v2/schemas/image', { token: 'nope' })).status, 401);
      fault(await alice.image.send('GET', '/v2/schemas/nothing'), 404);
    });
  });

  describe(`image count quota on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    before(async () => {
      cloud = await startCloud(backend.url, { image_count_total: '2' });
    });
    after(async () => {
      await cloud?.stop();
    });

    test('the third image of a project is a 413; deleting one frees a place', async () => {
      const user = await cloud.projectUser('member');
      const first = await create(user.image);
      await create(user.image);
      const res = await user.image.send('POST', '/v2/images', { body: {} });
      fault(res, 413, /image_count_total is over limit of 2 due to current usage 2 and delta 1/);
      // another project has its own count
      const other = await cloud.projectUser('member');
      await create(other.image);
      assert.equal((await user.image.send('DELETE', `/v2/images/${first.id}`)).status, 204);
      await create(user.image);
    });
  });
}
