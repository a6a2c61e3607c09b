// The tasks API: GET /v2/images/{id}/tasks (who may see them), GET /v2/tasks and
// /v2/tasks/{id} (admin only by default; filters, sorting, paging, expiry), and tasks going
// with their image.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageClient } from '../../clients/image.ts';
import { startCloud, type TestCloud } from '../../testing/cloud.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { importsInFlight } from '../upload/import.ts';

for (const backend of await cloudBackends()) {
  describe(`image tasks on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    let member: ImageClient;
    let admin: ImageClient;
    let other: ImageClient;
    const imported: { image: string; task: string }[] = [];

    /** A member's image, staged and imported (glance-direct); its task id. */
    async function importOne(data = 'task data'): Promise<{ image: string; task: string }> {
      const created = await member.createImage({ name: 'task-test', disk_format: 'raw', container_format: 'bare' });
      assert.equal(created.status, 201);
      const id = created.body.id;
      assert.equal((await member.stage(id, Buffer.from(data))).status, 204);
      assert.equal((await member.import(id, 'glance-direct')).status, 202);
      await importsInFlight(cloud.imageService.deps);
      const tasks = (await member.rest.send('GET', `/v2/images/${id}/tasks`)).body.tasks;
      assert.equal(tasks.length, 1);
      return { image: id, task: tasks[0].id };
    }

    before(async () => {
      cloud = await startCloud(backend.url);
      member = new ImageClient(cloud.imageUrl, (await cloud.projectUser('member')).token);
      other = new ImageClient(cloud.imageUrl, (await cloud.projectUser('member')).token);
      admin = new ImageClient(cloud.imageUrl, cloud.image.token);
      for (let i = 0; i < 3; i++) imported.push(await importOne(`data ${i}`));
    });
    after(async () => {
      await importsInFlight(cloud.imageService.deps);
      await cloud?.stop();
    });

    test('image tasks: none for a fresh image; 404 for an image the caller cannot see', async () => {
      const created = await member.createImage({ name: 'no-tasks', disk_format: 'raw', container_format: 'bare' });
      const none = await member.rest.send('GET', `/v2/images/${created.body.id}/tasks`);
      assert.equal(none.status, 200);
      assert.deepEqual(none.body, { tasks: [] });
      assert.equal((await other.rest.send('GET', `/v2/images/${imported[0]!.image}/tasks`)).status, 404);
      assert.equal((await member.rest.send('GET', '/v2/images/00000000-0000-0000-0000-000000000000/tasks')).status, 404);
      const adminView = await admin.rest.send('GET', `/v2/images/${imported[0]!.image}/tasks`);
      assert.equal(adminView.body.tasks[0].id, imported[0]!.task);
    });

    test('GET /v2/tasks and /v2/tasks/{id} are admin only by default', async () => {
      const list = await member.rest.send('GET', '/v2/tasks');
      assert.equal(list.status, 403);
      assert.equal(list.body.code, '403 Forbidden');
      assert.equal((await member.rest.send('GET', `/v2/tasks/${imported[0]!.task}`)).status, 403);
      const missing = await admin.rest.send('GET', '/v2/tasks/00000000-0000-0000-0000-000000000000');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.message, 'Task with the given id 00000000-0000-0000-0000-000000000000 was not found');
    });

    test('GET /v2/tasks: stubs newest first, filters, sorting and paging', async () => {
      const all = await admin.rest.send('GET', '/v2/tasks');
      assert.equal(all.status, 200, JSON.stringify(all.body));
      assert.equal(all.body.first, '/v2/tasks');
      assert.equal(all.body.schema, '/v2/schemas/tasks');
      const ids = all.body.tasks.map((t: any) => t.id);
      const ours = imported.map((i) => i.task);
      assert.deepEqual(ids.filter((id: string) => ours.includes(id)), [...ours].reverse());
      const stub = all.body.tasks[0];
      assert.deepEqual(Object.keys(stub).sort(), ['created_at', 'expires_at', 'id', 'owner', 'schema', 'self', 'status', 'type', 'updated_at']);
      assert.equal(stub.type, 'api_image_import');

      const page1 = await admin.rest.send('GET', '/v2/tasks?limit=2&status=success');
      assert.equal(page1.body.tasks.length, 2);
      assert.equal(page1.body.first, '/v2/tasks?limit=2&status=success');
      const next = page1.body.next as string;
      assert.match(next, /^\/v2\/tasks\?limit=2&status=success&marker=/);
      const page2 = await admin.rest.send('GET', next);
      assert.equal(page2.status, 200);
      const paged = [...page1.body.tasks, ...page2.body.tasks].map((t: any) => t.id);
      assert.equal(new Set(paged).size, paged.length, 'no task twice');
      assert.deepEqual(paged.slice(0, 3), ids.slice(0, 3));

      const asc = await admin.rest.send('GET', '/v2/tasks?sort_dir=asc&sort_key=updated_at');
      assert.deepEqual(asc.body.tasks.map((t: any) => t.id).filter((id: string) => ours.includes(id)), ours);
      const byImage = await admin.rest.send('GET', `/v2/tasks?image_id=${imported[1]!.image}`);
      assert.deepEqual(byImage.body.tasks.map((t: any) => t.id), [imported[1]!.task]);
      assert.deepEqual((await admin.rest.send('GET', '/v2/tasks?status=failure')).body.tasks, []);

      assert.equal((await admin.rest.send('GET', '/v2/tasks?status=done')).status, 400);
      assert.equal((await admin.rest.send('GET', '/v2/tasks?sort_dir=up')).status, 400);
      assert.equal((await admin.rest.send('GET', '/v2/tasks?sort_key=input')).status, 400);
      assert.equal((await admin.rest.send('GET', '/v2/tasks?limit=-1')).status, 400);
      assert.equal((await admin.rest.send('GET', '/v2/tasks?limit=x')).status, 400);
      assert.equal((await admin.rest.send('GET', '/v2/tasks?marker=nope')).status, 400);
      assert.equal((await admin.rest.send('GET', '/v2/tasks?marker=00000000-0000-0000-0000-000000000000')).status, 400);
    });

    test('an expired task is gone; tasks go with their image', async () => {
      const one = await importOne('to expire');
      await cloud.imageService.deps.data.write((tx) =>
        tx.updateTable('task').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', one.task).execute(),
      );
      assert.deepEqual((await member.rest.send('GET', `/v2/images/${one.image}/tasks`)).body.tasks, []);
      assert.equal((await admin.rest.send('GET', `/v2/tasks/${one.task}`)).status, 404);

      const two = await importOne('to delete');
      assert.equal((await member.rest.send('DELETE', `/v2/images/${two.image}`)).status, 204);
      assert.equal((await admin.rest.send('GET', `/v2/tasks/${two.task}`)).status, 404);
      const rows = await cloud.imageService.deps.data.db.selectFrom('task').select('id').where('id', '=', two.task).execute();
      assert.deepEqual(rows, []);
    });
  });
}
