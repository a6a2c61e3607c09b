// GET /v2/images end to end: which images each caller sees (visibility, membership status,
// hidden images, admins), every filter and its operators, both sorting syntaxes (nulls
// included), limit/marker paging by following `next`, and the 400s of bad parameters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RestClient } from '../../clients/http.ts';
import { startCloud, type ProjectUser, type TestCloud } from '../../testing/cloud.ts';
import { cloudBackends } from '../../testing/backends.ts';
import { LIMIT_DEFAULT } from './image-list.ts';

async function create(client: RestClient, body: Record<string, unknown>): Promise<any> {
  const res = await client.send('POST', '/v2/images', { body: { disk_format: 'raw', container_format: 'bare', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function list(client: RestClient, query = ''): Promise<any> {
  const res = await client.send('GET', `/v2/images${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const sorted = (xs: string[]) => [...xs].sort();
const names = (body: any): string[] => body.images.map((i: any) => i.name);

for (const backend of await cloudBackends()) {
  describe(`image list on ${backend.name}`, { skip: backend.skip }, () => {
    let cloud: TestCloud;
    let alice: ProjectUser;
    let bob: ProjectUser;
    let dave: ProjectUser;
    const ids: Record<string, string> = {};

    /** The names alice lists with this query, sorted. */
    const aliceSees = async (query: string) => sorted(names(await list(alice.image, query)));
    const bad = async (client: RestClient, query: string, match?: RegExp) => {
      const res = await client.send('GET', `/v2/images${query}`);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, '400 Bad Request');
      if (match) assert.match(res.body.message, match);
    };

    before(async () => {
      cloud = await startCloud(backend.url);
      alice = await cloud.projectUser('member');
      bob = await cloud.projectUser('member');
      dave = await cloud.projectUser('member');
      const made: [RestClient, Record<string, unknown>][] = [
        [alice.image, { name: 'a-private', visibility: 'private', tags: ['one', 'two'] }],
        [alice.image, { name: 'a-shared', visibility: 'shared', tags: ['one'], disk_format: 'qcow2', os_distro: 'debian', min_ram: 512 }],
        [alice.image, { name: 'a-community', visibility: 'community', container_format: 'ovf', protected: true }],
        [alice.image, { name: 'a-hidden', visibility: 'private', os_hidden: true }],
        [alice.image, { name: 'a,comma', visibility: 'private' }],
        [cloud.image, { name: 'a-public', visibility: 'public', owner: alice.projectId }],
        [bob.image, { name: 'b-private', visibility: 'private' }],
        [bob.image, { name: 'b-accepted', visibility: 'shared' }],
        [bob.image, { name: 'b-pending', visibility: 'shared' }],
        [bob.image, { name: 'b-rejected', visibility: 'shared' }],
        [bob.image, { name: 'b-unshared', visibility: 'shared' }],
        [bob.image, { name: 'b-community', visibility: 'community' }],
      ];
      for (const [client, body] of made) ids[body.name as string] = (await create(client, body)).id;
      for (const [name, status] of [['b-accepted', 'accepted'], ['b-pending', 'pending'], ['b-rejected', 'rejected']]) {
        await bob.image.call('POST', `/v2/images/${ids[name]}/members`, { body: { member: alice.projectId } });
        if (status !== 'pending') await alice.image.call('PUT', `/v2/images/${ids[name]}/members/${alice.projectId}`, { body: { status } });
      }
      const up = await fetch(`${cloud.imageUrl}/v2/images/${ids['a-private']}/file`, {
        method: 'PUT',
        headers: { 'x-auth-token': alice.token, 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(100, 7),
      });
      assert.equal(up.status, 204);
      // dave's images are for sorting and paging: names that sort alike in every collation, and one without a name
      for (const name of ['cc', 'aa', 'ee', null, 'bb', 'dd']) await create(dave.image, { name, tags: ['sort'] });
    });
    after(async () => {
      await cloud?.stop();
    });

    const aliceDefault = ['a,comma', 'a-community', 'a-private', 'a-public', 'a-shared', 'b-accepted'];

    test('what each caller sees by default', async () => {
      const body = await list(alice.image);
      assert.deepEqual(sorted(names(body)), aliceDefault);
      assert.equal(body.first, '/v2/images');
      assert.equal(body.schema, '/v2/schemas/images');
      assert.equal(body.next, undefined);
      assert.deepEqual(sorted(names(await list(bob.image))), sorted(['a-public', 'b-accepted', 'b-community', 'b-pending', 'b-rejected', 'b-private', 'b-unshared']));
      // admins see every image but other projects' community and hidden ones
      const admin = names(await list(cloud.image, '?limit=1000'));
      for (const n of ['a-private', 'b-private', 'b-unshared', 'a-public', 'cc']) assert.ok(admin.includes(n), n);
      for (const n of ['a-community', 'b-community', 'a-hidden']) assert.equal(admin.includes(n), false, n);
      // a listed image looks as it does alone
      const one = body.images.find((i: any) => i.name === 'a-shared');
      assert.deepEqual(one, (await alice.image.call('GET', `/v2/images/${one.id}`)).body);
    });

    test('visibility and member_status', async () => {
      assert.deepEqual(await aliceSees('?visibility=community'), ['a-community', 'b-community']);
      assert.deepEqual(await aliceSees('?visibility=shared'), ['a-shared', 'b-accepted']);
      assert.deepEqual(await aliceSees('?visibility=shared&member_status=all'), ['a-shared', 'b-accepted', 'b-pending', 'b-rejected']);
      assert.deepEqual(await aliceSees('?visibility=shared&member_status=pending'), ['a-shared', 'b-pending']);
      assert.deepEqual(await aliceSees('?member_status=rejected'), sorted([...aliceDefault.filter((n) => n !== 'b-accepted'), 'b-rejected']));
      assert.deepEqual(await aliceSees('?visibility=private'), ['a,comma', 'a-private']);
      assert.deepEqual(await aliceSees('?visibility=public'), ['a-public']);
      assert.deepEqual(await aliceSees('?visibility=all'), sorted([...aliceDefault, 'b-community']));
      assert.deepEqual(await aliceSees('?os_hidden=true'), ['a-hidden']);
      assert.deepEqual(await aliceSees('?os_hidden=True&visibility=private'), ['a-hidden']);
      assert.deepEqual(await aliceSees('?os_hidden=false'), aliceDefault);
      const adminAll = names(await list(cloud.image, '?visibility=all&limit=1000'));
      for (const n of ['a-community', 'b-community']) assert.ok(adminAll.includes(n), n);
      await bad(alice.image, '?visibility=everyone', /Invalid visibility value: everyone/);
      await bad(alice.image, '?member_status=maybe', /Invalid status: maybe/);
      await bad(alice.image, '?os_hidden=maybe', /os_hidden/);
    });

    test('filters on attributes', async () => {
      assert.deepEqual(await aliceSees('?name=a-private'), ['a-private']);
      assert.deepEqual(await aliceSees('?name=eq:a-private'), ['a-private']);
      assert.deepEqual(await aliceSees(`?name=${encodeURIComponent('in:"a,comma",a-shared,nothing')}`), ['a,comma', 'a-shared']);
      assert.deepEqual(await aliceSees(`?id=in:${ids['a-shared']},${ids['b-accepted']},${ids['b-private']}`), ['a-shared', 'b-accepted']);
      assert.deepEqual(await aliceSees('?status=active'), ['a-private']);
      assert.deepEqual(await aliceSees('?status=in:active,killed'), ['a-private']);
      assert.deepEqual(await aliceSees('?disk_format=qcow2'), ['a-shared']);
      assert.deepEqual(await aliceSees('?container_format=ovf'), ['a-community']);
      assert.deepEqual(await aliceSees('?size_min=1'), ['a-private']);
      assert.deepEqual(await aliceSees('?size_min=100&size_max=100'), ['a-private']);
      assert.deepEqual(await aliceSees('?size_max=99'), []);
      assert.deepEqual(await aliceSees('?size_min=99999999999999999999999'), []);
      assert.deepEqual(await aliceSees('?size=100'), ['a-private']);
      assert.deepEqual(await aliceSees('?min_ram_min=100'), ['a-shared']);
      assert.deepEqual(await aliceSees('?min_ram_max=99999999999'), aliceDefault);
      assert.deepEqual(await aliceSees('?min_ram=512'), ['a-shared']);
      assert.deepEqual(await aliceSees('?min_ram=99999999999'), []);
      assert.deepEqual(await aliceSees('?protected=true'), ['a-community']);
      assert.deepEqual(await aliceSees(`?owner=${bob.projectId}`), ['b-accepted']);
      assert.deepEqual(await aliceSees('?tag=one'), ['a-private', 'a-shared']);
      assert.deepEqual(await aliceSees('?tag=one&tag=two'), ['a-private']);
      assert.deepEqual(await aliceSees('?tag=one&tag=three'), []);
      assert.deepEqual(await aliceSees('?os_distro=debian'), ['a-shared']);
      assert.deepEqual(await aliceSees('?os_distro=debian&name=a-private'), []);
      assert.deepEqual(await aliceSees('?no_such_property=x'), []);
      const checksum = (await alice.image.call('GET', `/v2/images/${ids['a-private']}`)).body.checksum;
      assert.deepEqual(await aliceSees(`?checksum=${checksum}`), ['a-private']);
    });

    test('filters on time', async () => {
      const created = (await alice.image.call('GET', `/v2/images/${ids['a-private']}`)).body.created_at;
      assert.deepEqual(await aliceSees('?created_at=gte:2000-01-01T00:00:00Z'), aliceDefault);
      assert.deepEqual(await aliceSees(`?created_at=${encodeURIComponent('gt:2000-01-01T01:00:00+01:00')}`), aliceDefault);
      assert.deepEqual(await aliceSees('?created_at=lt:2000-01-01T00:00:00Z'), []);
      assert.deepEqual(await aliceSees('?created_at=2000-01-01T00:00:00Z'), []);
      assert.deepEqual(await aliceSees('?updated_at=gt:2999-01-01'), []);
      assert.deepEqual(await aliceSees('?updated_at=neq:2999-01-01'), aliceDefault);
      assert.ok((await aliceSees(`?created_at=eq:${created}`)).includes('a-private'));
      assert.ok((await aliceSees(`?created_at=lte:${created}`)).includes('a-private'));
      assert.equal((await aliceSees(`?created_at=lt:${created}`)).includes('a-private'), false);
      await bad(alice.image, '?created_at=gte:yesterday', /Bad "created_at" query filter format/);
      await bad(alice.image, '?created_at=gte:2020-13-01T00:00:00Z', /ISO 8601/);
      await bad(alice.image, '?updated_at=around:2020-01-01T00:00:00Z', /unknown operator/);
    });

    test('bad filters are 400', async () => {
      await bad(alice.image, '?name=foo:bar', /Unable to filter by unknown operator 'foo'/);
      await bad(alice.image, `?name=${encodeURIComponent('in:"unclosed')}`, /The quote is not closed/);
      await bad(alice.image, `?name=${encodeURIComponent('in:a"b"')}`, /no comma before opening quotation mark/);
      await bad(alice.image, `?name=${encodeURIComponent('in:"a"b')}`, /no comma after closing quotation mark/);
      await bad(alice.image, '?size_min=big', /non-numeric/);
      await bad(alice.image, '?size=big', /integer/);
      await bad(alice.image, '?protected=yes', /'protected' filter/);
      await bad(alice.image, '?changes-since=2020-01-01', /no longer available/);
      await bad(alice.image, '?name=%00', /NUL/);
    });

    test('sorting', async () => {
      const dv = (q: string) => list(dave.image, `?tag=sort&${q}`).then(names);
      assert.deepEqual(await dv('sort_key=name&sort_dir=asc'), [null, 'aa', 'bb', 'cc', 'dd', 'ee']);
      assert.deepEqual(await dv('sort_key=name&sort_dir=desc'), ['ee', 'dd', 'cc', 'bb', 'aa', null]);
      assert.deepEqual(await dv('sort_key=name'), ['ee', 'dd', 'cc', 'bb', 'aa', null]);
      assert.deepEqual(await dv('sort=name:asc'), [null, 'aa', 'bb', 'cc', 'dd', 'ee']);
      assert.deepEqual(await dv('sort=status:asc,name'), ['ee', 'dd', 'cc', 'bb', 'aa', null]);
      assert.deepEqual(await dv('sort_key=status&sort_key=name&sort_dir=asc&sort_dir=asc'), [null, 'aa', 'bb', 'cc', 'dd', 'ee']);
      assert.deepEqual(await dv('sort_key=disk_format&sort_key=name&sort_dir=desc&sort_dir=asc'), [null, 'aa', 'bb', 'cc', 'dd', 'ee']);
      const byTime = (await list(dave.image, '?tag=sort')).images.map((i: any) => i.created_at);
      assert.deepEqual(byTime, [...byTime].sort().reverse(), 'created_at desc by default');
      await bad(dave.image, '?sort_key=owner', /Invalid sort key: owner/);
      await bad(dave.image, '?sort_dir=up', /Invalid sort direction: up/);
      await bad(dave.image, '?sort=name:up', /Invalid sort direction/);
      await bad(dave.image, '?sort=bogus', /Invalid sort key/);
      await bad(dave.image, '?sort=name&sort_key=name', /cannot be combined/);
      await bad(dave.image, '?sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc', /Number of sort dirs/);
    });

    test('paging by following next', async () => {
      for (const order of ['', '&sort_key=name&sort_dir=asc', '&sort=name:desc,id:asc', '&sort_key=size']) {
        const whole = (await list(dave.image, `?tag=sort${order}`)).images.map((i: any) => i.id);
        assert.equal(whole.length, 6);
        const seen: string[] = [];
        let path: string | undefined = `/v2/images?tag=sort&limit=4${order}`;
        let pages = 0;
        while (path) {
          const res: { body: any } = await dave.image.call('GET', path);
          assert.ok(res.body.images.length <= 4);
          if (pages === 0) assert.equal(res.body.first, `/v2/images?tag=sort&limit=4${order.replaceAll(':', '%3A').replaceAll(',', '%2C')}`);
          seen.push(...res.body.images.map((i: any) => i.id));
          path = res.body.next;
          if (path) {
            assert.match(path, /^\/v2\/images\?tag=sort&limit=4.*&marker=[0-9a-f-]{36}$/);
            assert.equal(path.split('marker=')[1], res.body.images.at(-1).id);
          }
          assert.ok(++pages < 10);
        }
        assert.deepEqual(seen, whole, `pages in order ${order}`);
      }
      // limit 2 over 6 images: three full pages, then an empty one without next
      const last = await list(dave.image, `?tag=sort&limit=2&marker=${(await list(dave.image, '?tag=sort')).images.at(-1).id}`);
      assert.deepEqual(last.images, []);
      assert.equal(last.next, undefined);
      const none = await list(dave.image, '?limit=0');
      assert.deepEqual(none.images, []);
      assert.equal(none.next, undefined);
      assert.equal((await list(dave.image, '?tag=sort&limit=5000')).images.length, 6);
      await bad(dave.image, `?marker=${randomUUID()}`, /No image found with ID/);
      await bad(dave.image, `?marker=${ids['a-private']}`, /No image found with ID/);
      await bad(dave.image, '?limit=-1', /limit param must be positive/);
      await bad(dave.image, '?limit=many', /limit param must be an integer/);
      // a marker the caller may see but that the filters leave out still places the page
      const fromPublic = await list(dave.image, `?tag=sort&marker=${ids['a-public']}`);
      assert.ok(Array.isArray(fromPublic.images));
    });

    test(`the default page holds ${LIMIT_DEFAULT}`, async () => {
      const user = await cloud.projectUser('member');
      for (let i = 0; i <= LIMIT_DEFAULT; i++) await create(user.image, { name: `bulk${i}`, visibility: 'private' });
      const page = await list(user.image, '?visibility=private');
      assert.equal(page.images.length, LIMIT_DEFAULT);
      assert.ok(page.next);
      const rest = await user.image.call('GET', page.next);
      assert.equal(rest.body.images.length, 1);
      assert.equal(rest.body.next, undefined);
    });

    test('a reader lists', async () => {
      const reader = await cloud.projectUser('reader');
      assert.ok(names(await list(reader.image)).includes('a-public'));
    });
  });
}
