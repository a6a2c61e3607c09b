// Image members end to end: an owner project shares an image with a consumer project, which
// sees it pending, accepts, lists it, rejects it, and loses it when the owner removes it; and
// the wrong callers and bodies get Glance's 400/403/404/409/413.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RestClient } from '../../clients/http.ts';
import { startCloud, type ProjectUser, type TestCloud } from '../../testing/cloud.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { IMAGE_MEMBER_QUOTA } from './members.ts';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const newProjectId = () => randomUUID().replace(/-/g, '');

async function createImage(client: RestClient, visibility: string, name = `img-${visibility}`): Promise<string> {
  const res = await client.send('POST', '/v2/images', { body: { name, visibility, disk_format: 'raw', container_format: 'bare' } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

/** A JSON-patch request (the media type RestClient does not send). */
async function patchImage(cloud: TestCloud, token: string, id: string, ops: unknown[]): Promise<number> {
  const res = await fetch(`${cloud.imageUrl}/v2/images/${id}`, {
    method: 'PATCH',
    headers: { 'x-auth-token': token, 'content-type': 'application/openstack-images-v2.1-json-patch' },
    body: JSON.stringify(ops),
  });
  await res.arrayBuffer();
  return res.status;
}

async function listedIds(client: RestClient, query = ''): Promise<string[]> {
  const res = await client.send('GET', `/v2/images${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.images.map((i: { id: string }) => i.id);
}

for (const backend of await cloudBackends()) {
  describe(`image members on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    let owner: ProjectUser;
    let consumer: ProjectUser;
    let stranger: ProjectUser;
    let imageId: string;

    before(async () => {
      cloud = await startCloud(backend.url);
      owner = await cloud.projectUser('member');
      consumer = await cloud.projectUser('member');
      stranger = await cloud.projectUser('member');
      imageId = await createImage(owner.image, 'shared');
    });
    after(async () => {
      await cloud?.stop();
    });

    const path = (id = imageId) => `/v2/images/${id}/members`;

    test('the owner shares the image: the member starts pending', async () => {
      const res = await owner.image.send('POST', path(), { body: { member: consumer.projectId } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), ['created_at', 'image_id', 'member_id', 'schema', 'status', 'updated_at']);
      assert.equal(res.body.image_id, imageId);
      assert.equal(res.body.member_id, consumer.projectId);
      assert.equal(res.body.status, 'pending');
      assert.equal(res.body.schema, '/v2/schemas/member');
      assert.match(res.body.created_at, TIME);
      assert.equal(res.body.updated_at, res.body.created_at);

      const dup = await owner.image.send('POST', path(), { body: { member: consumer.projectId } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.code, '409 Conflict');
    });

    test('a pending member reads the image by id, sees only its own entry, and cannot change the image', async () => {
      const other = newProjectId();
      assert.equal((await owner.image.send('POST', path(), { body: { member: other } })).status, 200);

      const image = await consumer.image.send('GET', `/v2/images/${imageId}`);
      assert.equal(image.status, 200);
      assert.equal(image.body.visibility, 'shared');

      const mine = await consumer.image.send('GET', path());
      assert.equal(mine.status, 200);
      assert.equal(mine.body.schema, '/v2/schemas/members');
      assert.deepEqual(mine.body.members.map((m: any) => [m.member_id, m.status]), [[consumer.projectId, 'pending']]);
      const all = await owner.image.send('GET', path());
      assert.deepEqual(all.body.members.map((m: any) => m.member_id).sort(), [consumer.projectId, other].sort());
      assert.ok(all.body.members.every((m: any) => m.schema === '/v2/schemas/member' && m.image_id === imageId));

      const own = await consumer.image.send('GET', `${path()}/${consumer.projectId}`);
      assert.equal(own.status, 200);
      assert.equal(own.body.status, 'pending');
      assert.equal((await consumer.image.send('GET', `${path()}/${other}`)).status, 404, 'another member is not the consumer\'s business');
      assert.equal((await owner.image.send('GET', `${path()}/${other}`)).status, 200);
      assert.equal((await owner.image.send('GET', `${path()}/${newProjectId()}`)).status, 404);

      assert.equal(await patchImage(cloud, consumer.token, imageId, [{ op: 'replace', path: '/name', value: 'mine now' }]), 403);
      assert.equal((await consumer.image.send('DELETE', `/v2/images/${imageId}`)).status, 403);
      // Only the owner adds and removes members.
      assert.equal((await consumer.image.send('POST', path(), { body: { member: newProjectId() } })).status, 403);
      assert.equal((await consumer.image.send('DELETE', `${path()}/${consumer.projectId}`)).status, 403);
      assert.equal((await owner.image.send('DELETE', `${path()}/${other}`)).status, 204);
    });

    test('a project the image is not shared with gets 404 for the image and its members', async () => {
      assert.equal((await stranger.image.send('GET', `/v2/images/${imageId}`)).status, 404);
      const members = await stranger.image.send('GET', path());
      assert.equal(members.status, 404);
      assert.equal(members.body.code, '404 Not Found');
      assert.equal((await stranger.image.send('GET', `${path()}/${consumer.projectId}`)).status, 404);
      assert.equal((await stranger.image.send('PUT', `${path()}/${stranger.projectId}`, { body: { status: 'accepted' } })).status, 404);
      assert.equal((await stranger.image.send('POST', path(), { body: { member: stranger.projectId } })).status, 404);
      assert.ok(!(await listedIds(stranger.image)).includes(imageId));
    });

    test('only the member sets its status: the owner gets 403, a bad status 400', async () => {
      const url = `${path()}/${consumer.projectId}`;
      const byOwner = await owner.image.send('PUT', url, { body: { status: 'accepted' } });
      assert.equal(byOwner.status, 403);
      assert.equal(byOwner.body.title, 'Forbidden');
      assert.equal((await consumer.image.send('PUT', url, { body: { status: 'maybe' } })).status, 400);
      assert.equal((await consumer.image.send('PUT', url, { body: { status: 1 } })).status, 400);
      assert.equal((await consumer.image.send('PUT', url, { body: {} })).status, 400);
      assert.equal((await consumer.image.send('PUT', url)).status, 400);
      assert.equal((await consumer.image.send('PUT', url, { rawBody: '{"status":' })).status, 400);
      assert.equal((await consumer.image.send('GET', url)).body.status, 'pending', 'nothing changed');
    });

    test('the member accepts: its entry says so and the image can be read', async () => {
      const url = `${path()}/${consumer.projectId}`;
      const before = (await consumer.image.send('GET', url)).body;
      await new Promise((r) => setTimeout(r, 1100)); // Glance's timestamps are to the second
      const res = await consumer.image.send('PUT', url, { body: { status: 'accepted' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'accepted');
      assert.equal(res.body.member_id, consumer.projectId);
      assert.equal(res.body.created_at, before.created_at);
      assert.ok(res.body.updated_at > before.updated_at);
      assert.equal((await owner.image.send('GET', url)).body.status, 'accepted');
      assert.equal((await consumer.image.send('GET', `/v2/images/${imageId}`)).status, 200);
    });

    test('listing: an accepted shared image is in the member\'s image list; member_status filters', async () => {
      assert.ok((await listedIds(consumer.image)).includes(imageId), 'accepted: listed by default');
      assert.ok((await listedIds(consumer.image, '?member_status=accepted')).includes(imageId));
      assert.ok(!(await listedIds(consumer.image, '?member_status=pending')).includes(imageId));
      assert.ok((await listedIds(consumer.image, '?visibility=shared')).includes(imageId));
      assert.ok((await listedIds(owner.image)).includes(imageId));
    });

    test('the member rejects: it can still read the image by id, but it leaves the default list', async () => {
      const res = await consumer.image.send('PUT', `${path()}/${consumer.projectId}`, { body: { status: 'rejected' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'rejected');
      assert.equal((await consumer.image.send('GET', `/v2/images/${imageId}`)).status, 200);
      // pending is also a valid answer again
      const back = await consumer.image.send('PUT', `${path()}/${consumer.projectId}`, { body: { status: 'pending' } });
      assert.equal(back.body.status, 'pending');
      assert.equal((await consumer.image.send('PUT', `${path()}/${consumer.projectId}`, { body: { status: 'rejected' } })).status, 200);
    });

    test('listing: a rejected shared image leaves the member\'s default list but member_status=rejected finds it', async () => {
      assert.ok(!(await listedIds(consumer.image)).includes(imageId));
      assert.ok((await listedIds(consumer.image, '?member_status=rejected')).includes(imageId));
      assert.ok((await listedIds(consumer.image, '?member_status=all')).includes(imageId));
    });

    test('the owner removes the membership: the project loses the image (404)', async () => {
      const url = `${path()}/${consumer.projectId}`;
      const res = await owner.image.send('DELETE', url);
      assert.equal(res.status, 204);
      assert.equal(res.body, '');
      assert.equal((await owner.image.send('DELETE', url)).status, 404);
      assert.equal((await consumer.image.send('GET', `/v2/images/${imageId}`)).status, 404);
      assert.equal((await consumer.image.send('GET', path())).status, 404);
      assert.equal((await consumer.image.send('GET', url)).status, 404);
      assert.deepEqual((await owner.image.send('GET', path())).body.members, []);
    });

    test('only shared images have members (403), and an unknown image is a 404', async () => {
      const privateId = await createImage(owner.image, 'private');
      const res = await owner.image.send('POST', path(privateId), { body: { member: consumer.projectId } });
      assert.equal(res.status, 403);
      assert.match(res.body.message, /Only shared images have members/);
      assert.equal((await owner.image.send('GET', path(privateId))).status, 403);
      const communityId = await createImage(owner.image, 'community');
      assert.equal((await owner.image.send('POST', path(communityId), { body: { member: consumer.projectId } })).status, 403);
      const publicId = await createImage(cloud.image, 'public');
      assert.equal((await cloud.image.send('POST', path(publicId), { body: { member: consumer.projectId } })).status, 403);
      // The owner's private image is invisible to others: 404 before any policy.
      assert.equal((await consumer.image.send('POST', path(privateId), { body: { member: consumer.projectId } })).status, 404);
      assert.equal((await owner.image.send('POST', path(randomUUID()), { body: { member: consumer.projectId } })).status, 404);
      assert.equal((await owner.image.send('GET', path(randomUUID()))).status, 404);
    });

    test('bad member bodies are 400', async () => {
      for (const body of [{}, { member: '' }, { member: 5 }, { member: null }, { member: ['x'] }, { member: 'x'.repeat(65) }, [consumer.projectId]]) {
        const res = await owner.image.send('POST', path(), { body });
        assert.equal(res.status, 400, `body ${JSON.stringify(body)}`);
        assert.equal(res.body.code, '400 Bad Request');
      }
      assert.equal((await owner.image.send('POST', path())).status, 400, 'no body');
      assert.equal((await owner.image.send('POST', path(), { rawBody: '{"member": ' })).status, 400, 'malformed JSON');
      assert.equal((await owner.image.send('POST', path(), { token: 'not-a-token', body: { member: 'x' } })).status, 401);
    });

    test('an admin manages members of any project\'s shared image', async () => {
      const id = await createImage(owner.image, 'shared', 'admin-managed');
      const added = await cloud.image.send('POST', path(id), { body: { member: stranger.projectId } });
      assert.equal(added.status, 200);
      assert.equal((await cloud.image.send('GET', path(id))).body.members.length, 1);
      assert.equal((await stranger.image.send('GET', `/v2/images/${id}`)).status, 200);
      assert.equal((await cloud.image.send('DELETE', `${path(id)}/${stranger.projectId}`)).status, 204);
    });

    test(`an image has at most ${IMAGE_MEMBER_QUOTA} members (413 beyond)`, async () => {
      const id = await createImage(owner.image, 'shared', 'popular');
      for (let i = 0; i < IMAGE_MEMBER_QUOTA; i++) {
        const res = await owner.image.send('POST', path(id), { body: { member: newProjectId() } });
        assert.equal(res.status, 200, `member ${i + 1}: ${JSON.stringify(res.body)}`);
      }
      const over = await owner.image.send('POST', path(id), { body: { member: newProjectId() } });
      assert.equal(over.status, 413);
      assert.equal(over.body.code, '413 Request Entity Too Large');
      assert.match(over.body.message, new RegExp(`Attempted: ${IMAGE_MEMBER_QUOTA + 1}, Maximum: ${IMAGE_MEMBER_QUOTA}`));
      assert.equal((await owner.image.send('GET', path(id))).body.members.length, IMAGE_MEMBER_QUOTA);
    });
  });
}
