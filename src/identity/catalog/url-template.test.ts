import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUrlTemplate, renderUrl, unknownSubstitutions } from './url-template.ts';

const render = (url: string, values: Record<string, string | undefined>) => renderUrl(parseUrlTemplate(url), values);

describe('endpoint URL templates', () => {
  test('$(name)s and %(name)s are filled in from the token', () => {
    const values = { project_id: 'p1', tenant_id: 'p1', user_id: 'u1' };
    assert.equal(render('http://swift:8080/v1/AUTH_$(project_id)s', values), 'http://swift:8080/v1/AUTH_p1');
    assert.equal(render('http://x/%(tenant_id)s/users/$(user_id)s', values), 'http://x/p1/users/u1');
    assert.equal(render('http://plain:5000/v3', values), 'http://plain:5000/v3');
    assert.equal(render('http://x/a%%20b', values), 'http://x/a%20b');
  });

  test('a name without a value here (no project in a domain-scoped token) leaves the URL out', () => {
    assert.equal(render('http://swift:8080/v1/AUTH_$(project_id)s', { user_id: 'u1' }), undefined);
    assert.equal(render('http://nova/$(compute_host)s', { project_id: 'p' }), undefined);
  });

  test('names Keystone does not allow, and stray % or $(, make a URL unusable', () => {
    assert.deepEqual(unknownSubstitutions('http://x/$(password)s/$(project_id)s'), ['password']);
    assert.deepEqual(unknownSubstitutions('http://x/$(project_id)s'), []);
    assert.equal(render('http://x/$(password)s', { password: 'p' }), undefined);
    for (const bad of ['http://x/%20', 'http://x/$(project_id)', 'http://x/$(project_id)d', 'http://x/$(project_id', 'http://x/100%']) {
      assert.equal(parseUrlTemplate(bad), null, bad);
      assert.equal(unknownSubstitutions(bad), null, bad);
      assert.equal(render(bad, { project_id: 'p' }), undefined, bad);
    }
  });
});
