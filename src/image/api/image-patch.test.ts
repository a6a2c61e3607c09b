// PATCH /v2/images/{id} end to end: both JSON-patch dialects, core attributes, custom
// properties and tags; the media type (415), malformed documents (400), read-only and
// reserved names (403), missing properties (409), visibility/owner policy, the formats of a
// non-queued image, limits (413), and that a failing patch changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RestClient } from '../../clients/http.ts';
import { startCloud, type ProjectUser, type TestCloud } from '../../testing/cloud.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { IMAGE_PROPERTY_QUOTA, IMAGE_TAG_QUOTA } from './image-rules.ts';

const V21 = 'application/openstack-images-v2.1-json-patch';
const V20 = 'application/openstack-images-v2.0-json-patch';

async function create(client: RestClient, body: Record<string, unknown> = {}): Promise<any> {
  const res = await client.send('POST', '/v2/images', { body: { name: 'img', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

for (const backend of await cloudBackends()) {
  describe(`image PATCH on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    let alice: ProjectUser;
    let bob: ProjectUser;

    /** PATCH with a raw body and media type (RestClient only speaks application/json). */
    async function patch(token: string, id: string, body: unknown, contentType: string | null = V21): Promise<Reply> {
      const headers: Record<string, string> = { 'x-auth-token': token };
      if (contentType !== null) headers['content-type'] = contentType;
      const res = await fetch(`${cloud.imageUrl}/v2/images/${id}`, {
        method: 'PATCH',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    }
    const ok = async (token: string, id: string, ops: unknown, contentType = V21) => {
      const res = await patch(token, id, ops, contentType);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const fails = async (token: string, id: string, ops: unknown, status: number, match?: RegExp, contentType: string | null = V21) => {
      const res = await patch(token, id, ops, contentType);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.body.code, new RegExp(`^${status} `));
      if (match) assert.match(res.body.message, match);
      return res;
    };

    before(async () => {
      cloud = await startCloud(backend.url);
      alice = await cloud.projectUser('member');
      bob = await cloud.projectUser('member');
    });
    after(async () => {
      await cloud?.stop();
    });

    test('replace, add and remove attributes and custom properties (v2.1)', async () => {
      const img = await create(alice.image, { os_distro: 'debian' });
      const out = await ok(alice.token, img.id, [
        { op: 'replace', path: '/name', value: 'renamed' },
        { op: 'replace', path: '/min_ram', value: 512 },
        { op: 'add', path: '/min_disk', value: 2 },
        { op: 'replace', path: '/protected', value: true },
        { op: 'replace', path: '/os_hidden', value: true },
        { op: 'replace', path: '/disk_format', value: 'qcow2' },
        { op: 'add', path: '/container_format', value: 'bare' },
        { op: 'replace', path: '/visibility', value: 'private' },
        { op: 'replace', path: '/os_distro', value: 'ubuntu' },
        { op: 'add', path: '/hw_qemu_guest_agent', value: 'yes' },
        { op: 'add', path: '/a~1b~0c', value: 'escaped' },
        { op: 'replace', path: '/tags', value: ['x', 'y', 'x'] },
      ]);
      assert.equal(out.name, 'renamed');
      assert.equal(out.min_ram, 512);
      assert.equal(out.min_disk, 2);
      assert.equal(out.protected, true);
      assert.equal(out.os_hidden, true);
      assert.equal(out.disk_format, 'qcow2');
      assert.equal(out.container_format, 'bare');
      assert.equal(out.visibility, 'private');
      assert.equal(out.os_distro, 'ubuntu');
      assert.equal(out.hw_qemu_guest_agent, 'yes');
      assert.equal(out['a/b~c'], 'escaped');
      assert.deepEqual([...out.tags].sort(), ['x', 'y']);
      assert.deepEqual((await alice.image.call('GET', `/v2/images/${img.id}`)).body, out);

      const removed = await ok(alice.token, img.id, [
        { op: 'remove', path: '/os_distro' },
        { op: 'remove', path: '/a~1b~0c' },
        { op: 'replace', path: '/name', value: null },
        { op: 'add', path: '/tags', value: [] },
      ]);
      assert.equal('os_distro' in removed, false);
      assert.equal('a/b~c' in removed, false);
      assert.equal(removed.name, null);
      assert.deepEqual(removed.tags, []);
      assert.equal(removed.hw_qemu_guest_agent, 'yes');
      // an empty patch changes nothing
      const same = await ok(alice.token, img.id, []);
      assert.deepEqual(same, removed);
      // media type parameters are fine
      await ok(alice.token, img.id, [{ op: 'replace', path: '/name', value: 'n' }], `${V21}; charset=UTF-8`);
    });

    test('the v2.0 dialect', async () => {
      const img = await create(alice.image, { custom: 'a' });
      const out = await ok(alice.token, img.id, [{ replace: '/name', value: 'old-style' }, { add: '/other', value: 'b' }, { remove: '/custom' }], V20);
      assert.equal(out.name, 'old-style');
      assert.equal(out.other, 'b');
      assert.equal('custom' in out, false);
      // adding what exists is a conflict in this dialect only
      await fails(alice.token, img.id, [{ add: '/other', value: 'c' }], 409, /Property other already present/, V20);
      await fails(alice.token, img.id, [{ add: '/name', value: 'c' }], 409, /Property name already present/, V20);
      assert.equal((await ok(alice.token, img.id, [{ op: 'add', path: '/other', value: 'c' }])).other, 'c');
      await fails(alice.token, img.id, [{ add: '/x', replace: '/y', value: 'v' }], 400, /only one member/, V20);
      await fails(alice.token, img.id, [{ value: 'v' }], 400, /exactly one member/, V20);
    });

    test('media type: 415 with Accept-Patch', async () => {
      const img = await create(alice.image);
      for (const type of ['application/json', 'text/plain', 'application/json-patch+json', null]) {
        const res = await fails(alice.token, img.id, [], 415, /Image PATCH expects Content-Type one of/, type);
        assert.equal(res.headers.get('accept-patch'), `${V20}, ${V21}`);
      }
      // judged before the body: malformed JSON sent as application/json is still a 415
      await fails(alice.token, img.id, '{oops', 415, undefined, 'application/json');
    });

    test('malformed documents are 400', async () => {
      const img = await create(alice.image);
      const cases: [unknown, RegExp][] = [
        ['', /Body expected/],
        ['{not json', /Malformed JSON/],
        [{ op: 'replace', path: '/name', value: 'x' }, /must be a JSON array/],
        [['replace'], /Operations must be JSON objects/],
        [[{ path: '/name', value: 'x' }], /Unable to find `op`/],
        [[{ op: 'move', path: '/name', value: 'x' }], /Invalid operation: `move`/],
        [[{ op: 5, path: '/name', value: 'x' }], /Invalid operation/],
        [[{ op: 'replace', value: 'x' }], /Unable to find 'path'/],
        [[{ op: 'replace', path: 'name', value: 'x' }], /does not start with "\/"/],
        [[{ op: 'replace', path: 5, value: 'x' }], /does not start with "\/"/],
        [[{ op: 'replace', path: '/a//b', value: 'x' }], /adjacent/],
        [[{ op: 'replace', path: '/name/', value: 'x' }], /end with/],
        [[{ op: 'replace', path: '/a~2', value: 'x' }], /recognized escape sequence/],
        [[{ op: 'replace', path: '/tags/0', value: 'x' }], /Invalid JSON pointer for this resource: '\/tags\/0'/],
        [[{ op: 'add', path: '/tags/-', value: 'x' }], /Invalid JSON pointer/],
        [[{ op: 'replace', path: '/name' }], /Operation "replace" requires a member named "value"/],
        [[{ op: 'replace', path: '/name', value: 5 }], /does not match schema 'image': 5 is not of type 'null', 'string'/],
        [[{ op: 'replace', path: '/name', value: 'x'.repeat(256) }], /is too long/],
        [[{ op: 'replace', path: '/name', value: 'nul\u0000' }], /NUL/],
        [[{ op: 'replace', path: '/min_ram', value: -5 }], /Cannot be a negative value/],
        [[{ op: 'replace', path: '/min_ram', value: 2 ** 31 }], /out of range/],
        [[{ op: 'replace', path: '/min_disk', value: 'big' }], /is not of type 'integer'/],
        [[{ op: 'replace', path: '/protected', value: 'true' }], /is not of type 'boolean'/],
        [[{ op: 'replace', path: '/visibility', value: 'everyone' }], /is not one of/],
        [[{ op: 'replace', path: '/disk_format', value: 'floppy' }], /is not one of/],
        [[{ op: 'replace', path: '/tags', value: 'a' }], /is not of type 'array'/],
        [[{ op: 'replace', path: '/tags', value: ['x'.repeat(256)] }], /is too long/],
        [[{ op: 'add', path: '/custom', value: 7 }], /7 is not of type 'string'/],
        [[{ op: 'add', path: '/custom', value: null }], /None is not of type 'string'/],
        [[{ op: 'add', path: '/custom', value: 'nul\u0000' }], /NUL/],
        [[{ op: 'add', path: `/${'k'.repeat(256)}`, value: 'v' }], /greater than 255/],
        [[{ op: 'add', path: '/kernel_id', value: 'not-a-uuid' }], /does not match/],
        [[{ op: 'replace', path: '/owner', value: 'x'.repeat(256) }], /too long/],
      ];
      for (const [body, match] of cases) await fails(alice.token, img.id, body, 400, match);
      // a bad document is judged before the image is looked up
      await fails(alice.token, randomUUID(), [{ op: 'move', path: '/name' }], 400);
    });

    test('read-only, reserved and core attributes are 403', async () => {
      const img = await create(alice.image);
      for (const key of ['status', 'id', 'checksum', 'size', 'virtual_size', 'created_at', 'updated_at', 'os_hash_algo', 'os_hash_value', 'self', 'file', 'schema', 'direct_url', 'stores']) {
        await fails(alice.token, img.id, [{ op: 'replace', path: `/${key}`, value: 'x' }], 403, new RegExp(`Attribute '${key}' is read-only`));
        await fails(alice.token, img.id, [{ op: 'remove', path: `/${key}` }], 403, /read-only/);
      }
      for (const key of ['location', 'deleted', 'deleted_at', 'os_glance_import_task', 'os_glance_anything']) {
        await fails(alice.token, img.id, [{ op: 'add', path: `/${key}`, value: 'x' }], 403, new RegExp(`Attribute '${key}' is reserved`));
      }
      for (const key of ['name', 'visibility', 'tags', 'min_ram', 'protected', 'disk_format']) {
        await fails(alice.token, img.id, [{ op: 'remove', path: `/${key}` }], 403, new RegExp(`Property ${key} may not be removed`));
      }
      await fails(alice.token, img.id, [{ op: 'replace', path: '/locations', value: [] }], 403, /Cannot set locations to empty list/);
      await fails(alice.token, img.id, [{ op: 'replace', path: '/locations', value: [{ url: 'file:///etc/passwd', metadata: {} }] }], 403, /locations are invisible/);
      await fails(alice.token, img.id, [{ op: 'add', path: '/locations/-', value: { url: 'file:///etc/passwd', metadata: {} } }], 403, /locations are invisible/);
      await fails(alice.token, img.id, [{ op: 'remove', path: '/locations/0' }], 403, /locations are invisible/);
    });

    test('missing custom properties are 409', async () => {
      const img = await create(alice.image);
      await fails(alice.token, img.id, [{ op: 'replace', path: '/nothing', value: 'x' }], 409, /Property nothing does not exist/);
      await fails(alice.token, img.id, [{ op: 'remove', path: '/nothing' }], 409, /Property nothing does not exist/);
    });

    test('a failing patch changes nothing', async () => {
      const img = await create(alice.image, { keep: 'me' });
      await fails(alice.token, img.id, [{ op: 'replace', path: '/name', value: 'changed' }, { op: 'remove', path: '/keep' }, { op: 'remove', path: '/nothing' }], 409);
      const now = (await alice.image.call('GET', `/v2/images/${img.id}`)).body;
      assert.equal(now.name, 'img');
      assert.equal(now.keep, 'me');
    });

    test('who may patch what', async () => {
      const comm = await create(alice.image, { visibility: 'community' });
      const priv = await create(alice.image, { visibility: 'private' });
      const rename = [{ op: 'replace', path: '/name', value: 'mine now' }];
      await fails(bob.token, comm.id, rename, 403, /modify_image/);
      await fails(bob.token, priv.id, rename, 404);
      await fails(alice.token, randomUUID(), rename, 404, /No image found/);
      await fails('not-a-token', comm.id, rename, 401);
      // visibility changes have their own rules
      await fails(alice.token, priv.id, [{ op: 'replace', path: '/visibility', value: 'public' }], 403, /publicize_image/);
      assert.equal((await ok(alice.token, priv.id, [{ op: 'replace', path: '/visibility', value: 'community' }])).visibility, 'community');
      assert.equal((await ok(cloud.identity.adminToken, priv.id, [{ op: 'replace', path: '/visibility', value: 'public' }])).visibility, 'public');
      // only admins change the owner
      await fails(alice.token, priv.id, [{ op: 'replace', path: '/owner', value: bob.projectId }], 403, /Owner can't be updated by non admin/);
      const moved = await ok(cloud.identity.adminToken, priv.id, [{ op: 'replace', path: '/owner', value: bob.projectId }]);
      assert.equal(moved.owner, bob.projectId);
      assert.equal((await ok(bob.token, priv.id, rename)).name, 'mine now');
      await fails(alice.token, priv.id, rename, 403);
      // a reader may not patch even its own project's image
      const reader = await cloud.projectUser('reader');
      const readers = await create(cloud.image, { owner: reader.projectId, visibility: 'private' });
      await fails(reader.token, readers.id, rename, 403, /modify_image/);
    });

    test('formats change only while queued', async () => {
      const img = await create(alice.image, { disk_format: 'raw', container_format: 'bare' });
      await ok(alice.token, img.id, [{ op: 'replace', path: '/disk_format', value: 'qcow2' }, { op: 'replace', path: '/disk_format', value: 'raw' }]);
      const up = await fetch(`${cloud.imageUrl}/v2/images/${img.id}/file`, {
        method: 'PUT',
        headers: { 'x-auth-token': alice.token, 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(1024, 1),
      });
      assert.equal(up.status, 204);
      await fails(alice.token, img.id, [{ op: 'replace', path: '/disk_format', value: 'qcow2' }], 403, /disk_format can be only replaced for a queued image/);
      await fails(alice.token, img.id, [{ op: 'replace', path: '/container_format', value: 'ovf' }], 403, /container_format can be only replaced/);
      // everything else still changes on an active image
      assert.equal((await ok(alice.token, img.id, [{ op: 'replace', path: '/min_ram', value: 1 }])).min_ram, 1);
    });

    test('limits: 128 tags, 128 custom properties (413)', async () => {
      const img = await create(alice.image);
      const tags = Array.from({ length: IMAGE_TAG_QUOTA + 1 }, (_, i) => `t${i}`);
      await fails(alice.token, img.id, [{ op: 'replace', path: '/tags', value: tags }], 413, /allowed image tags/);
      assert.equal((await ok(alice.token, img.id, [{ op: 'replace', path: '/tags', value: tags.slice(1) }])).tags.length, IMAGE_TAG_QUOTA);
      const ops = Array.from({ length: IMAGE_PROPERTY_QUOTA }, (_, i) => ({ op: 'add', path: `/p${i}`, value: 'v' }));
      await ok(alice.token, img.id, ops);
      await fails(alice.token, img.id, [{ op: 'add', path: '/one_more', value: 'v' }], 413, /allowed image properties/);
      // replacing an existing one is no new property
      await ok(alice.token, img.id, [{ op: 'replace', path: '/p0', value: 'w' }]);
    });

    test('schema-typed custom properties', async () => {
      const img = await create(alice.image);
      const kernel = randomUUID();
      assert.equal((await ok(alice.token, img.id, [{ op: 'add', path: '/kernel_id', value: kernel }])).kernel_id, kernel);
      // null unsets it (the schema allows null for kernel_id/ramdisk_id)
      assert.equal('kernel_id' in (await ok(alice.token, img.id, [{ op: 'replace', path: '/kernel_id', value: null }])), false);
      await fails(alice.token, img.id, [{ op: 'add', path: '/cinder_encryption_key_deletion_policy', value: 'never' }], 400, /is not one of/);
    });
  });
}
