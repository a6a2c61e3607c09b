// The interoperable import end to end: stage + glance-direct (uploading → importing → active,
// staged data gone), copy-image into a second store, the 4xx of the import call, an import
// that fails in the background (image queued again, failure recorded), the staging quota,
// and the discovery calls (/v2/info/import, /stores, /stores/detail, /usage); every import
// recorded as a task (GET /v2/images/{id}/tasks, /v2/tasks, /v2/tasks/{id}).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ImageClient } from '../../clients/image.ts';
import { startCloud, type TestCloud } from '../../testing/cloud.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { importsInFlight } from '../upload/import.ts';
import { recoverInterruptedTransfers } from '../upload/recovery.ts';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function filesIn(cloud: TestCloud, ...dir: string[]): string[] {
  const path = join(cloud.stateDir, ...dir);
  return existsSync(path) ? readdirSync(path) : [];
}

async function newImage(client: ImageClient, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await client.createImage({ name: 'import-test', disk_format: 'raw', container_format: 'bare', ...fields });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

/** GET /v2/images/{id}/tasks as `client`, the tasks array (asserting a 200). */
async function tasksOf(client: ImageClient, id: string): Promise<any[]> {
  const res = await client.rest.send('GET', `/v2/images/${id}/tasks`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.tasks;
}

/** Glance's task timestamps: microseconds, no zone. */
const PERFECT_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

/** Waits for the background job, then returns the image. */
async function settled(cloud: TestCloud, client: ImageClient, id: string): Promise<any> {
  await importsInFlight(cloud.imageService.deps);
  return (await client.getImage(id)).body;
}

for (const backend of await cloudBackends()) {
  describe(`image import on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    let member: ImageClient;
    let memberUser: Awaited<ReturnType<TestCloud['projectUser']>>;
    let admin: ImageClient;

    before(async () => {
      cloud = await startCloud(backend.url, { enabled_backends: 'local:file,second:file' });
      memberUser = await cloud.projectUser('member');
      member = new ImageClient(cloud.imageUrl, memberUser.token);
      admin = new ImageClient(cloud.imageUrl, cloud.image.token);
    });
    after(async () => {
      await importsInFlight(cloud.imageService.deps);
      await cloud?.stop();
    });

    test('stage then glance-direct: uploading → importing → active, the staged data removed', async () => {
      const id = await newImage(member);
      const data = randomBytes(150 * 1024 + 5);
      const staged = await member.stage(id, data);
      assert.equal(staged.status, 204, JSON.stringify(staged.body));
      const waiting = (await member.getImage(id)).body;
      assert.equal(waiting.status, 'uploading');
      assert.equal(waiting.size, data.length);
      assert.equal(waiting.stores, undefined, 'staged data is no location');
      assert.ok(filesIn(cloud, 'image-staging').includes(id));
      assert.equal((await member.download(id)).status, 204, 'staged data cannot be downloaded');

      const accepted = await member.import(id, 'glance-direct');
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const requestId = accepted.headers.get('x-openstack-request-id');
      assert.match(String(requestId), /^req-/);
      const image = await settled(cloud, member, id);
      assert.equal(image.status, 'active');
      assert.equal(image.size, data.length);

      // the import's task (Image API 2.12), as tempest checks it
      const tasks = await tasksOf(member, id);
      assert.equal(tasks.length, 1);
      const [task] = tasks;
      assert.equal(task.status, 'success');
      assert.equal(task.type, 'api_image_import');
      assert.equal(task.request_id, requestId);
      assert.equal(task.image_id, id);
      assert.deepEqual(task.input, { image_id: id, import_req: { method: { name: 'glance-direct' } }, backend: ['local'] });
      assert.equal(task.input.import_req.method.name, 'glance-direct');
      assert.deepEqual(task.result, { image_id: id });
      assert.equal(task.message, '');
      assert.equal(task.owner, memberUser.projectId);
      assert.equal(task.user_id, memberUser.userId);
      assert.equal(task.deleted, false);
      assert.equal(task.deleted_at, null);
      assert.match(task.created_at, PERFECT_TIME);
      assert.match(task.updated_at, PERFECT_TIME);
      assert.match(task.expires_at, PERFECT_TIME);
      const ttl = Date.parse(task.expires_at + 'Z') - Date.parse(task.updated_at + 'Z');
      assert.ok(Math.abs(ttl - 48 * 3600 * 1000) < 60_000, `expires 48h after it finished (${ttl} ms)`);

      // the same task through the (admin-only) tasks API
      const shown = await admin.rest.send('GET', `/v2/tasks/${task.id}`);
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
      assert.equal(shown.body.status, 'success');
      assert.equal(shown.body.request_id, requestId);
      assert.equal(shown.body.self, `/v2/tasks/${task.id}`);
      assert.equal(shown.body.schema, '/v2/schemas/task');
      assert.deepEqual(shown.body.input, task.input);
      assert.match(shown.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(shown.body.expires_at, /Z$/);
      assert.equal((await member.rest.send('GET', `/v2/tasks/${task.id}`)).status, 403);
      assert.equal(image.checksum, md5(data));
      assert.equal(image.virtual_size, data.length);
      assert.equal(image.stores, 'local');
      assert.equal(image.os_glance_importing_to_stores, '');
      assert.equal(image.os_glance_failed_import, '');
      assert.equal(image.os_glance_import_task, undefined, 'the import lock is released');
      assert.ok(!filesIn(cloud, 'image-staging').some((f) => f.includes(id)), 'staged data removed');
      assert.ok((await member.download(id)).body.equals(data));
    });

    test('glance-direct into a named store through X-Image-Meta-Store', async () => {
      const id = await newImage(member);
      assert.equal((await member.stage(id, Buffer.from('to the second store'))).status, 204);
      assert.equal((await member.import(id, 'glance-direct', { store: 'second' })).status, 202);
      const image = await settled(cloud, member, id);
      assert.equal(image.status, 'active');
      assert.equal(image.stores, 'second');
      assert.ok(filesIn(cloud, 'images', 'second').includes(id));
    });

    test('an upload can name its store too', async () => {
      const id = await newImage(member);
      assert.equal((await member.upload(id, Buffer.from('second store bytes'), { store: 'second' })).status, 204);
      assert.equal((await member.getImage(id)).body.stores, 'second');
      assert.equal((await member.download(id)).body.toString(), 'second store bytes');
    });

    test('copy-image puts an active image into another store (admin only by default)', async () => {
      const id = await newImage(member);
      const data = randomBytes(70 * 1024);
      assert.equal((await member.upload(id, data)).status, 204);
      const denied = await member.import(id, 'copy-image', { stores: ['second'] });
      assert.equal(denied.status, 403);

      const accepted = await admin.import(id, 'copy-image', { stores: ['second'] });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const image = await settled(cloud, member, id);
      // the admin started it: its task belongs to the admin's project, which a member does not see
      assert.deepEqual(await tasksOf(member, id), []);
      const [copyTask, ...others] = await tasksOf(admin, id);
      assert.equal(others.length, 0);
      assert.equal(copyTask.status, 'success');
      assert.equal(copyTask.request_id, accepted.headers.get('x-openstack-request-id'));
      assert.deepEqual(copyTask.input.import_req, { method: { name: 'copy-image' }, stores: ['second'] });
      assert.deepEqual(copyTask.input.backend, ['second']);
      assert.equal(image.status, 'active');
      assert.deepEqual(image.stores.split(',').sort(), ['local', 'second']);
      assert.equal(image.os_glance_importing_to_stores, '');
      assert.equal(image.os_glance_failed_import, '');
      assert.ok(filesIn(cloud, 'images', 'second').includes(id));
      assert.ok((await member.download(id)).body.equals(data));

      const again = await admin.import(id, 'copy-image', { stores: ['second'] });
      assert.equal(again.status, 400);
      assert.equal((again.body as any).message, "Image is already present at store 'second'");
      // all_stores skips the stores that have it: nothing left to do is still a 202, the
      // progress properties shown empty (tempest waits for them) and a task that succeeded
      await cloud.imageService.deps.data.write((tx) =>
        tx.deleteFrom('image_property').where('image_id', '=', id).where('name', 'in', ['os_glance_importing_to_stores', 'os_glance_failed_import']).execute(),
      );
      const before = (await member.getImage(id)).body;
      assert.equal(before.os_glance_importing_to_stores, undefined);
      const noop = await admin.import(id, 'copy-image', { allStores: true, allStoresMustSucceed: false });
      assert.equal(noop.status, 202);
      const after = await settled(cloud, member, id);
      assert.equal(after.os_glance_importing_to_stores, '');
      assert.equal(after.os_glance_failed_import, '');
      assert.equal(after.os_glance_import_task, undefined);
      assert.deepEqual(after.stores.split(',').sort(), ['local', 'second']);
      const [latest, first] = await tasksOf(admin, id);
      assert.equal(first.id, copyTask.id, 'newest first');
      assert.equal(latest.status, 'success');
      assert.equal(latest.request_id, noop.headers.get('x-openstack-request-id'));
      assert.deepEqual(latest.input, { image_id: id, import_req: { method: { name: 'copy-image' }, all_stores: true, all_stores_must_succeed: false }, backend: [] });
    });

    test('copy-image with all_stores copies to every store that lacks the image', async () => {
      const id = await newImage(member);
      assert.equal((await member.upload(id, Buffer.from('everywhere'))).status, 204);
      assert.equal((await admin.import(id, 'copy-image', { allStores: true })).status, 202);
      const image = await settled(cloud, member, id);
      assert.deepEqual(image.stores.split(',').sort(), ['local', 'second']);
    });

    test('the 4xx of the import call', async () => {
      const queued = await newImage(member);
      const send = (body: unknown, headers: Record<string, string> = {}) =>
        member.rest.send('POST', `/v2/images/${queued}/import`, { body, headers });

      assert.equal((await send({})).status, 400);
      assert.equal((await send({ method: {} })).status, 400);
      const web = await send({ method: { name: 'web-download', uri: 'http://example.com/x.img' } });
      assert.equal(web.status, 400);
      assert.equal(web.body.message, "Unknown import method name 'web-download'.");
      assert.equal((await send({ method: { name: 'glance-direct' }, all_stores: 'yes' })).status, 400);
      const unstaged = await send({ method: { name: 'glance-direct' } });
      assert.equal(unstaged.status, 409);
      assert.equal(unstaged.body.message, "Image needs to be staged before 'glance-direct' method can be used");
      assert.equal((await send({ method: { name: 'copy-image' }, stores: ['second'] })).status, 409, 'copy-image needs an active image');
      assert.equal((await member.rest.send('POST', '/v2/images/00000000-0000-0000-0000-000000000000/import', { body: { method: { name: 'glance-direct' } } })).status, 404);

      const staged = await newImage(member);
      assert.equal((await member.stage(staged, Buffer.from('abc'))).status, 204);
      const unknown = await member.import(staged, 'glance-direct', { stores: ['nowhere'] });
      assert.equal(unknown.status, 409);
      const both = await member.rest.send('POST', `/v2/images/${staged}/import`, {
        body: { method: { name: 'glance-direct' }, stores: ['local'] },
        headers: { 'x-image-meta-store': 'local' },
      });
      assert.equal(both.status, 400);
      assert.equal((await member.getImage(staged)).body.status, 'uploading', 'refused imports change nothing');

      const active = await newImage(member);
      assert.equal((await member.upload(active, Buffer.from('x'))).status, 204);
      const direct = await member.import(active, 'glance-direct');
      assert.equal(direct.status, 409);
      assert.equal((direct.body as any).message, 'Image with status active cannot be target for import');
    });

    test('stage: only a queued image, and the staged data can be imported once', async () => {
      const id = await newImage(member);
      assert.equal((await member.stage(id, Buffer.from('one'))).status, 204);
      const twice = await member.stage(id, Buffer.from('two'));
      assert.equal(twice.status, 409);
      assert.equal((twice.body as any).message, 'Image status transition from uploading to uploading is not allowed');
      const upload = await member.upload(id, Buffer.from('three'));
      assert.equal(upload.status, 409);
      assert.equal((await member.import(id, 'glance-direct')).status, 202);
      assert.equal((await settled(cloud, member, id)).status, 'active');
      assert.equal((await member.import(id, 'glance-direct')).status, 409);
    });

    test('an import that fails in the background: the image is queued again, the failure recorded, nothing left', async () => {
      // qcow2 claimed, random bytes staged: the import refuses the data (format mismatch)
      const id = await newImage(member, { disk_format: 'qcow2' });
      assert.equal((await member.stage(id, randomBytes(8192))).status, 204);
      assert.equal((await member.import(id, 'glance-direct', { stores: ['local', 'second'] })).status, 202);
      const image = await settled(cloud, member, id);
      assert.equal(image.status, 'queued');
      assert.equal(image.size, null);
      assert.equal(image.os_glance_importing_to_stores, '');
      assert.equal(image.os_glance_failed_import, 'local');
      assert.equal(image.os_glance_import_task, undefined);
      const [task] = await tasksOf(member, id);
      assert.equal(task.status, 'failure');
      assert.equal(task.result, null);
      assert.match(task.message, /local/);
      assert.ok(task.message.length > 10, task.message);
      assert.deepEqual(task.input.backend, ['local', 'second']);
      assert.ok(task.expires_at);
      assert.ok(!filesIn(cloud, 'images', 'local').includes(id));
      assert.ok(!filesIn(cloud, 'images', 'second').includes(id));
      assert.ok(!filesIn(cloud, 'image-staging').some((f) => f.includes(id)));
      // and it can be staged again
      assert.equal((await member.stage(id, Buffer.from('again'))).status, 204);
    });

    test('after a restart, interrupted uploads and imports are put back in order; recent ones are left alone', async () => {
      const deps = cloud.imageService.deps;
      const saving = await newImage(member);
      const importing = await newImage(member);
      const running = await newImage(member);
      assert.equal((await member.stage(importing, Buffer.from('staged before the crash'))).status, 204);
      const longAgo = '2000-01-01T00:00:00.000Z';
      await deps.data.write(async (tx) => {
        await tx.updateTable('image').set({ status: 'saving', size: 5, updated_at: longAgo }).where('id', '=', saving).execute();
        await tx.updateTable('image').set({ status: 'importing', updated_at: longAgo }).where('id', '=', importing).execute();
        await tx.insertInto('image_property').values([
          { image_id: importing, name: 'os_glance_import_task', value: 'a-dead-task' },
          { image_id: importing, name: 'os_glance_importing_to_stores', value: 'local,second' },
        ]).execute();
        await tx.insertInto('task').values({
          id: 'a-dead-task', type: 'api_image_import', status: 'processing', owner: null, image_id: importing, user_id: null,
          request_id: null, input: '{}', result: null, message: '', expires_at: null, created_at: longAgo, updated_at: longAgo,
        }).execute();
        await tx.updateTable('image').set({ status: 'saving' }).where('id', '=', running).execute();
      });

      const { images } = await recoverInterruptedTransfers(deps, { olderThanMs: 60_000 });
      assert.ok(images.includes(saving) && images.includes(importing));
      assert.ok(!images.includes(running));

      const s = (await member.getImage(saving)).body;
      assert.equal(s.status, 'queued');
      assert.equal(s.size, null);
      const i = (await member.getImage(importing)).body;
      assert.equal(i.status, 'queued');
      assert.equal(i.os_glance_import_task, undefined);
      assert.equal(i.os_glance_importing_to_stores, '');
      assert.equal(i.os_glance_failed_import, 'local,second');
      const dead = await deps.data.db.selectFrom('task').selectAll().where('id', '=', 'a-dead-task').executeTakeFirstOrThrow();
      assert.equal(dead.status, 'failure');
      assert.match(dead.message, /interrupted/);
      assert.ok(dead.expires_at);
      assert.ok(!filesIn(cloud, 'image-staging').includes(importing));
      assert.equal((await member.getImage(running)).body.status, 'saving');
      await deps.data.write((tx) => tx.updateTable('image').set({ status: 'queued' }).where('id', '=', running).execute());
    });

    test('discovery: import methods, stores, store details (admin), usage', async () => {
      const methods = await member.rest.send('GET', '/v2/info/import');
      assert.equal(methods.status, 200);
      assert.deepEqual(methods.body, {
        'import-methods': { description: 'Import methods available.', type: 'array', value: ['glance-direct', 'copy-image'] },
      });

      const stores = await member.rest.send('GET', '/v2/info/stores');
      assert.equal(stores.status, 200);
      assert.deepEqual(stores.body.stores.map((s: any) => s.id), ['local', 'second']);
      assert.equal(stores.body.stores[0].default, 'true');
      assert.equal(stores.body.stores[1].default, undefined);
      assert.equal(typeof stores.body.stores[0].description, 'string');

      assert.equal((await member.rest.send('GET', '/v2/info/stores/detail')).status, 403);
      const detail = await admin.rest.send('GET', '/v2/info/stores/detail');
      assert.equal(detail.status, 200);
      assert.equal(detail.body.stores[0].type, 'file');
      assert.equal(detail.body.stores[0].properties.data_dir, join(cloud.stateDir, 'images', 'local'));

      const fresh = new ImageClient(cloud.imageUrl, (await cloud.projectUser('member')).token);
      const empty = await fresh.rest.send('GET', '/v2/info/usage');
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, {
        usage: {
          image_size_total: { limit: -1, usage: 0 },
          image_stage_total: { limit: -1, usage: 0 },
          image_count_total: { limit: -1, usage: 0 },
          image_count_uploading: { limit: -1, usage: 0 },
        },
      });
      const big = await newImage(fresh);
      assert.equal((await fresh.upload(big, Buffer.alloc(3 * 1024 * 1024))).status, 204);
      const staged = await newImage(fresh);
      assert.equal((await fresh.stage(staged, Buffer.alloc(2 * 1024 * 1024))).status, 204);
      const used = (await fresh.rest.send('GET', '/v2/info/usage')).body.usage;
      assert.deepEqual(used.image_size_total, { limit: -1, usage: 3 });
      assert.deepEqual(used.image_stage_total, { limit: -1, usage: 2 });
      assert.deepEqual(used.image_count_total, { limit: -1, usage: 2 });
      assert.deepEqual(used.image_count_uploading, { limit: -1, usage: 1 });
    });
  });
}

describe('staging quota (SQLite)', () => {
  let cloud: TestCloud;
  let client: ImageClient;

  before(async () => {
    cloud = await startCloud('sqlite://', { image_stage_total: '10000' });
    client = new ImageClient(cloud.imageUrl, (await cloud.projectUser('member')).token);
  });
  after(async () => {
    await cloud?.stop();
  });

  test('image_stage_total: 413, the image queued, nothing in the staging area', async () => {
    const id = await newImage(client);
    const announced = await client.stage(id, randomBytes(10_001));
    assert.equal(announced.status, 413);
    assert.match((announced.body as any).message, /image_stage_total/);
    async function* chunks() {
      for (let i = 0; i < 5; i++) yield randomBytes(4000);
    }
    const streamed = await client.stage(id, chunks());
    assert.equal(streamed.status, 413);
    const image = (await client.getImage(id)).body;
    assert.equal(image.status, 'queued');
    assert.equal(image.size, null);
    assert.deepEqual(filesIn(cloud, 'image-staging'), []);
    assert.equal((await client.stage(id, randomBytes(10_000))).status, 204);
  });
});
