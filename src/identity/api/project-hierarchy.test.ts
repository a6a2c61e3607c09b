import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdentity, type IdentityHarness } from '../testing/harness.ts';
import { createProject, grant } from '../testing/fixtures.ts';

describe('project hierarchy', () => {
  let h: IdentityHarness;
  const ids: Record<string, string> = {};
  before(async () => {
    h = await startIdentity();
    const make = async (name: string, parent?: string) => {
      ids[name] = (await createProject(h, { name, ...(parent ? { parent_id: ids[parent] } : {}) })).id;
    };
    await make('top');
    await make('mid', 'top');
    await make('leaf', 'mid');
    await make('other-leaf', 'mid');
  });
  after(async () => { await h?.stop(); });

  test('children take their parent and its domain', async () => {
    const leaf = await h.admin.call('GET', `/v3/projects/${ids.leaf}`);
    assert.equal(leaf.body.project.parent_id, ids.mid);
    assert.equal(leaf.body.project.domain_id, 'default');
    const filtered = await h.admin.call('GET', `/v3/projects?parent_id=${ids.mid}`);
    assert.deepEqual(filtered.body.projects.map((p: any) => p.name).sort(), ['leaf', 'other-leaf']);
  });

  test('parents_as_ids and subtree_as_ids nest ids up to the domain and down to the leaves', async () => {
    const up = await h.admin.call('GET', `/v3/projects/${ids.leaf}?parents_as_ids`);
    assert.deepEqual(up.body.project.parents, { [ids.mid!]: { [ids.top!]: { default: null } } });
    const down = await h.admin.call('GET', `/v3/projects/${ids.top}?subtree_as_ids`);
    assert.deepEqual(down.body.project.subtree, { [ids.mid!]: { [ids.leaf!]: null, [ids['other-leaf']!]: null } });
  });

  test('the list forms show only projects the caller has a role on', async () => {
    await grant(h, 'UserProject', h.adminUserId, ids.mid!, 'reader');
    const down = await h.admin.call('GET', `/v3/projects/${ids.top}?subtree_as_list`);
    assert.deepEqual(down.body.project.subtree.map((e: any) => e.project.id), [ids.mid]);
    const up = await h.admin.call('GET', `/v3/projects/${ids.leaf}?parents_as_list`);
    assert.deepEqual(up.body.project.parents.map((e: any) => e.project.id), [ids.mid]);
    const both = await h.admin.send('GET', `/v3/projects/${ids.leaf}?parents_as_list&parents_as_ids`);
    assert.equal(both.status, 400);
  });

  test('a project with children cannot be deleted; its leaves can', async () => {
    const refused = await h.admin.send('DELETE', `/v3/projects/${ids.mid}`);
    assert.equal(refused.status, 403);
    assert.equal((await h.admin.send('DELETE', `/v3/projects/${ids['other-leaf']}`)).status, 204);
  });
});
