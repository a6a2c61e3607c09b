import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Enforcer,
  InvalidScope,
  PolicyNotAuthorized,
  PolicySyntaxError,
  loadPolicyFile,
  type Credentials,
  type RuleDefault,
} from './index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function policyFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenrec-policy-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A slice of Keystone's and Nova's defaults, as services will register them. */
const defaults: RuleDefault[] = [
  { name: 'admin_required', checkStr: 'role:admin or is_admin:1' },
  { name: 'owner', checkStr: 'user_id:%(user_id)s' },
  { name: 'admin_or_owner', checkStr: 'rule:admin_required or rule:owner' },
  {
    name: 'identity:get_user',
    checkStr:
      '(role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s',
    scopeTypes: ['system', 'domain', 'project'],
    operations: [{ method: 'GET', path: '/v3/users/{user_id}' }],
  },
  {
    name: 'os_compute_api:servers:show',
    checkStr: 'role:admin or (role:reader and project_id:%(project_id)s)',
    scopeTypes: ['project'],
  },
  { name: 'identity:list_regions', checkStr: '' },
  { name: 'identity:create_region', checkStr: 'rule:admin_required', scopeTypes: ['system', 'project'] },
];

const systemReader: Credentials = { user_id: 'sys', roles: ['reader'], system_scope: 'all' };
const domainReader: Credentials = { user_id: 'dr', roles: ['Reader'], domain_id: 'd1' };
const projectMember: Credentials = { user_id: 'u1', roles: ['member'], project_id: 'p1', project_domain_id: 'd1' };
const projectReader: Credentials = { user_id: 'u2', roles: ['reader'], project_id: 'p1' };
const projectAdmin: Credentials = { user_id: 'adm', roles: ['admin', 'member', 'reader'], project_id: 'p9' };

describe('Enforcer with defaults', () => {
  const enforcer = new Enforcer(defaults);

  test("Keystone's identity:get_user", () => {
    const rule = 'identity:get_user';
    const user = { 'target.user.domain_id': 'd1', 'target.user.id': 'u1' };
    const nested = { target: { user: { domain_id: 'd1', id: 'u1' } } };
    assert.equal(enforcer.check(rule, user, systemReader), true);
    assert.equal(enforcer.check(rule, user, domainReader), true);
    assert.equal(enforcer.check(rule, nested, domainReader), true);
    assert.equal(enforcer.check(rule, { ...user, 'target.user.domain_id': 'd2' }, domainReader), false);
    assert.equal(enforcer.check(rule, user, projectMember), true, 'a user may read themselves');
    assert.equal(enforcer.check(rule, nested, projectMember), true);
    assert.equal(enforcer.check(rule, user, projectReader), false);
    assert.equal(enforcer.check(rule, {}, projectReader), false, 'missing target keys deny');
  });

  test("Nova's servers:show", () => {
    const rule = 'os_compute_api:servers:show';
    assert.equal(enforcer.check(rule, { project_id: 'p1' }, projectReader), true);
    assert.equal(enforcer.check(rule, { project_id: 'p2' }, projectReader), false);
    assert.equal(enforcer.check(rule, { project_id: 'p1' }, projectMember), false);
    assert.equal(enforcer.check(rule, { project_id: 'p2' }, projectAdmin), true);
  });

  test('rule: references resolve through the enforcer', () => {
    assert.equal(enforcer.check('admin_or_owner', { user_id: 'u1' }, projectMember), true);
    assert.equal(enforcer.check('admin_or_owner', { user_id: 'u9' }, projectMember), false);
    assert.equal(enforcer.check('admin_or_owner', { user_id: 'u9' }, projectAdmin), true);
    assert.equal(enforcer.check('admin_required', {}, { roles: [], is_admin: true }), false, 'is_admin:1 is not True');
  });

  test('the empty rule allows anyone', () => {
    assert.equal(enforcer.check('identity:list_regions', {}, { roles: [] }), true);
  });

  test('enforce throws PolicyNotAuthorized naming the rule', () => {
    assert.doesNotThrow(() => enforcer.enforce('os_compute_api:servers:show', { project_id: 'p1' }, projectReader));
    assert.throws(
      () => enforcer.enforce('os_compute_api:servers:show', { project_id: 'p2' }, projectReader),
      (error: unknown) =>
        error instanceof PolicyNotAuthorized &&
        !(error instanceof InvalidScope) &&
        error.rule === 'os_compute_api:servers:show' &&
        error.message === 'os_compute_api:servers:show is disallowed by policy',
    );
  });

  test('an unknown rule name is a programming error', () => {
    assert.throws(() => enforcer.check('identity:nope', {}, projectAdmin), /identity:nope/);
    assert.throws(
      () => enforcer.enforce('identity:nope', {}, projectAdmin),
      (error: unknown) => error instanceof Error && !(error instanceof PolicyNotAuthorized) && /identity:nope/.test(error.message),
    );
  });

  test('the token scope must be one of the default scope types', () => {
    const systemAdmin: Credentials = { user_id: 'root', roles: ['admin'], system_scope: 'all' };
    const domainAdmin: Credentials = { user_id: 'da', roles: ['admin'], domain_id: 'd1' };
    assert.equal(enforcer.check('os_compute_api:servers:show', { project_id: 'p1' }, systemAdmin), false);
    assert.equal(enforcer.check('identity:create_region', {}, systemAdmin), true);
    assert.equal(enforcer.check('identity:create_region', {}, projectAdmin), true);
    assert.equal(enforcer.check('identity:create_region', {}, domainAdmin), false);
    assert.throws(
      () => enforcer.enforce('identity:create_region', {}, domainAdmin),
      (error: unknown) =>
        error instanceof InvalidScope &&
        error instanceof PolicyNotAuthorized &&
        error.rule === 'identity:create_region' &&
        error.tokenScope === 'domain' &&
        /requires a scope of \[system, project\]/.test(error.message),
    );
    const unscoped = new Enforcer(defaults, { enforceScope: false });
    assert.equal(unscoped.check('identity:create_region', {}, domainAdmin), true);
  });

  test('system_scope is also visible as creds.system, without changing the caller object', () => {
    const local = new Enforcer([{ name: 'legacy', checkStr: 'system:all' }]);
    const c: Credentials = { roles: [], system_scope: 'all' };
    assert.equal(local.check('legacy', {}, c), true);
    assert.equal('system' in c, false);
  });

  test('rules() lists the effective check strings', () => {
    const rules = enforcer.rules();
    assert.equal(rules['os_compute_api:servers:show'], 'role:admin or (role:reader and project_id:%(project_id)s)');
    assert.deepEqual(Object.keys(rules), defaults.map((d) => d.name));
    rules['admin_required'] = '@';
    assert.equal(enforcer.rules()['admin_required'], 'role:admin or is_admin:1', 'a copy');
  });

  test('a bad default and a duplicated default are refused', () => {
    assert.throws(
      () => new Enforcer([{ name: 'broken', checkStr: 'role:admin or' }]),
      (error: unknown) => error instanceof PolicySyntaxError && error.rule === 'broken' && /defaults/.test(error.message),
    );
    assert.throws(() => new Enforcer([defaults[0]!, defaults[0]!]), /admin_required.*twice/);
  });
});

describe('overrides', () => {
  test('inline overrides replace defaults and add rules that rule: can reach', () => {
    const enforcer = new Enforcer(defaults, {
      overrides: {
        'os_compute_api:servers:show': 'rule:project_member_or_admin',
        project_member_or_admin: 'role:admin or (role:member and project_id:%(project_id)s)',
      },
    });
    assert.equal(enforcer.check('os_compute_api:servers:show', { project_id: 'p1' }, projectMember), true);
    assert.equal(enforcer.check('os_compute_api:servers:show', { project_id: 'p1' }, projectReader), false);
    assert.equal(enforcer.check('project_member_or_admin', { project_id: 'p1' }, projectMember), true);
    assert.equal(enforcer.rules()['os_compute_api:servers:show'], 'rule:project_member_or_admin');
    assert.equal(enforcer.rules()['admin_required'], 'role:admin or is_admin:1');
  });

  test('overridden rules keep the default scope types', () => {
    const enforcer = new Enforcer(defaults, { overrides: { 'os_compute_api:servers:show': '@' } });
    assert.equal(enforcer.check('os_compute_api:servers:show', {}, projectMember), true);
    assert.equal(enforcer.check('os_compute_api:servers:show', {}, systemReader), false);
  });

  test('from a policy.yaml', () => {
    const path = policyFile(
      'policy.yaml',
      [
        '# operators tighten who may read servers',
        '"os_compute_api:servers:show": "role:admin"',
        '"identity:list_regions": "!"',
        'support_team: "role:support"',
        'identity:get_user: rule:support_team or role:admin',
        '',
      ].join('\n'),
    );
    const enforcer = new Enforcer(defaults, { policyFile: path });
    assert.equal(enforcer.check('os_compute_api:servers:show', { project_id: 'p1' }, projectReader), false);
    assert.equal(enforcer.check('os_compute_api:servers:show', { project_id: 'p1' }, projectAdmin), true);
    assert.equal(enforcer.check('identity:list_regions', {}, projectAdmin), false);
    assert.equal(enforcer.check('identity:get_user', {}, { roles: ['Support'], project_id: 'p1' }), true);
    assert.equal(enforcer.check('support_team', {}, { roles: ['support'] }), true);
  });

  test('from a policy.json, with inline overrides applied over the file', () => {
    const path = policyFile(
      'policy.json',
      JSON.stringify({ admin_required: 'role:cloud_admin', 'identity:list_regions': 'role:nobody' }),
    );
    const enforcer = new Enforcer(defaults, { policyFile: path, overrides: { 'identity:list_regions': '@' } });
    assert.equal(enforcer.check('admin_or_owner', { user_id: 'x' }, { roles: ['cloud_admin'] }), true);
    assert.equal(enforcer.check('admin_or_owner', { user_id: 'x' }, projectAdmin), false);
    assert.equal(enforcer.check('identity:list_regions', {}, { roles: [] }), true);
  });

  test('a syntax error in an override names the rule, the text and the file', () => {
    const path = policyFile('policy.yaml', '"admin_required": "role:admin or"\n"ok": "@"\n');
    assert.throws(
      () => new Enforcer(defaults, { policyFile: path }),
      (error: unknown) =>
        error instanceof PolicySyntaxError &&
        error.rule === 'admin_required' &&
        error.text === 'role:admin or' &&
        error.source === path &&
        error.message.includes('admin_required') &&
        error.message.includes('"role:admin or"') &&
        error.message.includes(path),
    );
    assert.throws(
      () => new Enforcer(defaults, { overrides: { 'identity:get_user': '(role:reader' } }),
      (error: unknown) =>
        error instanceof PolicySyntaxError && error.rule === 'identity:get_user' && /missing '\)'/.test(error.message),
    );
  });

  test('rules that refer to each other in a cycle are refused at load', () => {
    assert.throws(
      () => new Enforcer(defaults, { overrides: { admin_required: 'rule:admin_or_owner' } }),
      (error: unknown) =>
        error instanceof PolicySyntaxError && /cycle \(admin_required -> admin_or_owner -> admin_required\)/.test(error.message),
    );
    assert.throws(() => new Enforcer([{ name: 'self', checkStr: 'role:a or rule:self' }]), /cycle \(self -> self\)/);
  });

  test('an override may refer to a rule that does not exist; it denies', () => {
    const enforcer = new Enforcer(defaults, { overrides: { 'identity:list_regions': 'rule:missing or role:admin' } });
    assert.equal(enforcer.check('identity:list_regions', {}, projectMember), false);
    assert.equal(enforcer.check('identity:list_regions', {}, projectAdmin), true);
  });
});

describe('loadPolicyFile', () => {
  test('reads YAML and JSON, and an empty file as no rules', () => {
    assert.deepEqual(loadPolicyFile(policyFile('a.yaml', 'a: "role:x"\nb: ""\n')), { a: 'role:x', b: '' });
    assert.deepEqual(loadPolicyFile(policyFile('a.json', '{\n\t"a": "role:x",\n\t"b": []\n}\n')), { a: 'role:x', b: '' });
    assert.deepEqual(loadPolicyFile(policyFile('empty.yaml', '# nothing here\n')), {});
  });

  test('an empty value is the empty rule, as in oslo.policy', () => {
    assert.deepEqual(loadPolicyFile(policyFile('a.yaml', 'a:\n')), { a: '' });
  });

  test('a bare ! is refused rather than read as an empty (allow-all) rule', () => {
    assert.throws(
      () => loadPolicyFile(policyFile('a.yaml', 'a: !\n')),
      (error: unknown) => error instanceof PolicySyntaxError && error.rule === 'a' && /quotes/.test(error.message),
    );
    assert.deepEqual(loadPolicyFile(policyFile('a.yaml', "a: '!'\n")), { a: '!' });
  });

  test('non-string rules, list rules, bad YAML and a non-mapping are refused', () => {
    assert.throws(() => loadPolicyFile(policyFile('a.yaml', 'a: true\n')), (e: unknown) => e instanceof PolicySyntaxError && e.rule === 'a');
    assert.throws(() => loadPolicyFile(policyFile('a.json', '{"a": [["role:x"]]}')), /list-of-lists/);
    assert.throws(() => loadPolicyFile(policyFile('a.yaml', 'a: 1\na: 2\n')), /Cannot parse policy file/);
    assert.throws(() => loadPolicyFile(policyFile('a.yaml', '- role:x\n')), /must be a mapping/);
    assert.throws(() => loadPolicyFile(join(tmpdir(), 'tenrec-no-such-policy.yaml')), /ENOENT/);
  });
});
