import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from './parser.ts';
import type { Check } from './checks.ts';
import type { Credentials, Target } from './types.ts';

const creds = (extra: Partial<Credentials> = {}): Credentials => ({ roles: [], ...extra });
const allows = (text: string, target: Target, c: Credentials, rules: Record<string, string> = {}): boolean => {
  const trees = new Map<string, Check>(Object.entries(rules).map(([name, rule]) => [name, parseRule(rule)]));
  return parseRule(text).evaluate(target, c, (name) => trees.get(name));
};

describe('constant checks', () => {
  test('@ and the empty rule allow, ! denies', () => {
    assert.equal(allows('', {}, creds()), true);
    assert.equal(allows('@', {}, creds()), true);
    assert.equal(allows('!', {}, creds({ roles: ['admin'] })), false);
  });
});

describe('role:', () => {
  test('matches a held role, case-insensitively', () => {
    assert.equal(allows('role:admin', {}, creds({ roles: ['Admin'] })), true);
    assert.equal(allows('role:ADMIN', {}, creds({ roles: ['admin'] })), true);
    assert.equal(allows('role:admin', {}, creds({ roles: ['member', 'reader'] })), false);
  });

  test('substitutes the target, and a missing key denies', () => {
    assert.equal(allows('role:%(role_name)s', { role_name: 'Reader' }, creds({ roles: ['reader'] })), true);
    assert.equal(allows('role:%(role_name)s', {}, creds({ roles: ['reader'] })), false);
  });

  test('denies when roles are absent', () => {
    assert.equal(allows('role:admin', {}, { roles: undefined } as unknown as Credentials), false);
  });
});

describe('rule:', () => {
  test('evaluates the named rule, through several levels', () => {
    const rules = { admin: 'role:admin', admin_or_owner: 'rule:admin or rule:owner', owner: 'user_id:%(user_id)s' };
    assert.equal(allows('rule:admin_or_owner', { user_id: 'u1' }, creds({ user_id: 'u1' }), rules), true);
    assert.equal(allows('rule:admin_or_owner', { user_id: 'u2' }, creds({ roles: ['admin'] }), rules), true);
    assert.equal(allows('rule:admin_or_owner', { user_id: 'u2' }, creds({ user_id: 'u1' }), rules), false);
  });

  test('an undefined rule denies instead of throwing', () => {
    assert.equal(allows('rule:nope', {}, creds({ roles: ['admin'] })), false);
    assert.equal(allows('rule:nope or role:admin', {}, creds({ roles: ['admin'] })), true);
  });

  test('a cycle denies instead of recursing forever', () => {
    const rules = { a: 'rule:b', b: 'rule:a or role:x' };
    assert.equal(allows('rule:a', {}, creds()), false);
    assert.equal(allows('rule:a', {}, creds(), rules), false);
    assert.equal(allows('rule:a', {}, creds({ roles: ['x'] }), rules), true);
  });
});

describe('generic checks', () => {
  test('compare a credential with a target value', () => {
    const rule = 'project_id:%(project_id)s';
    assert.equal(allows(rule, { project_id: 'p1' }, creds({ project_id: 'p1' })), true);
    assert.equal(allows(rule, { project_id: 'p2' }, creds({ project_id: 'p1' })), false);
  });

  test('a missing target key or credential denies', () => {
    assert.equal(allows('project_id:%(project_id)s', {}, creds({ project_id: 'p1' })), false);
    assert.equal(allows('project_id:%(project_id)s', { project_id: 'p1' }, creds()), false);
    assert.equal(allows('project_id:%(project_id)s', { project_id: undefined }, creds({ project_id: 'p1' })), false);
  });

  test('null credentials never match, not even a null target', () => {
    assert.equal(allows('project_id:%(project_id)s', { project_id: null }, creds({ project_id: null } as never)), false);
  });

  test('dotted target keys: the literal key first, then nested objects', () => {
    const rule = 'domain_id:%(target.user.domain_id)s';
    const c = creds({ domain_id: 'd1' });
    assert.equal(allows(rule, { 'target.user.domain_id': 'd1' }, c), true);
    assert.equal(allows(rule, { target: { user: { domain_id: 'd1' } } }, c), true);
    assert.equal(allows(rule, { 'target.user': { domain_id: 'd1' } }, c), true);
    assert.equal(allows(rule, { 'target.user.domain_id': 'd1', target: { user: { domain_id: 'd2' } } }, c), true);
    assert.equal(allows(rule, { 'target.user.domain_id': 'd2', target: { user: { domain_id: 'd1' } } }, c), false);
    assert.equal(allows(rule, { target: { user: {} } }, c), false);
    assert.equal(allows(rule, { target: { user: 'd1' } }, c), false);
  });

  test('a dotted left side walks the credentials, and lists match any element', () => {
    const c = creds({ token: { user: { domain: { id: 'd1' } } }, groups: [{ id: 'g1' }, { id: 'g2' }], tags: ['a', 'b'] });
    assert.equal(allows('token.user.domain.id:%(domain_id)s', { domain_id: 'd1' }, c), true);
    assert.equal(allows('token.user.domain.id:%(domain_id)s', { domain_id: 'd2' }, c), false);
    assert.equal(allows('token.user.nope:%(domain_id)s', { domain_id: 'd1' }, c), false);
    assert.equal(allows('groups.id:g2', {}, c), true);
    assert.equal(allows('groups.id:g3', {}, c), false);
    assert.equal(allows('tags:b', {}, c), true);
  });

  test('booleans compare as True/False', () => {
    assert.equal(allows('is_admin:True', {}, creds({ is_admin: true })), true);
    assert.equal(allows('is_admin:True', {}, creds({ is_admin: false })), false);
    assert.equal(allows('is_admin:False', {}, creds({ is_admin: false })), true);
    assert.equal(allows('is_admin:true', {}, creds({ is_admin: true })), false);
    assert.equal(allows('is_admin_project:%(flag)s', { flag: true }, creds({ is_admin_project: true })), true);
  });

  test('system_scope:all', () => {
    assert.equal(allows('system_scope:all', {}, creds({ system_scope: 'all' })), true);
    assert.equal(allows('system_scope:all', {}, creds({ project_id: 'p1' })), false);
  });

  test('a literal left side is compared with the substituted right side', () => {
    assert.equal(allows("'member':%(role.name)s", { 'role.name': 'member' }, creds()), true);
    assert.equal(allows("'member':%(role.name)s", { role: { name: 'member' } }, creds()), true);
    assert.equal(allows('"member":%(role.name)s', { role: { name: 'admin' } }, creds()), false);
    assert.equal(allows('True:%(enabled)s', { enabled: true }, creds()), true);
    assert.equal(allows('True:%(enabled)s', { enabled: false }, creds()), false);
    assert.equal(allows('False:%(enabled)s', { enabled: false }, creds()), true);
    assert.equal(allows('True:%(enabled)s', {}, creds()), false);
    assert.equal(allows('42:%(size)s', { size: 42 }, creds()), true);
    assert.equal(allows('None:%(parent)s', { parent: null }, creds()), true);
  });

  test('a quoted right side is a literal, not substituted', () => {
    assert.equal(allows("role_name:'member'", {}, creds({ role_name: 'member' })), true);
    assert.equal(allows('name:"%(x)s"', { x: 'y' }, creds({ name: '%(x)s' })), true);
  });

  test('%% is a percent sign and text around substitutions is kept', () => {
    assert.equal(allows('quota:100%%', {}, creds({ quota: '100%' })), true);
    assert.equal(allows('owner:user-%(id)s', { id: 'u1' }, creds({ owner: 'user-u1' })), true);
  });

  test('http checks are unsupported and deny', () => {
    assert.equal(allows('http://policy.example.com/check', {}, creds({ roles: ['admin'] })), false);
    assert.equal(allows('https://policy.example.com/check or role:admin', {}, creds({ roles: ['admin'] })), true);
  });
});

describe('operators', () => {
  const roles = (...names: string[]): Credentials => creds({ roles: names });

  test('role:a or role:b and role:c is a or (b and c)', () => {
    const rule = 'role:a or role:b and role:c';
    assert.equal(allows(rule, {}, roles('a')), true);
    assert.equal(allows(rule, {}, roles('b')), false);
    assert.equal(allows(rule, {}, roles('c')), false);
    assert.equal(allows(rule, {}, roles('b', 'c')), true);
  });

  test('parentheses change the grouping', () => {
    const rule = '(role:a or role:b) and role:c';
    assert.equal(allows(rule, {}, roles('a')), false);
    assert.equal(allows(rule, {}, roles('a', 'c')), true);
    assert.equal(allows(rule, {}, roles('b', 'c')), true);
  });

  test('not applies to the nearest check, or to a group', () => {
    assert.equal(allows('not role:a', {}, roles('b')), true);
    assert.equal(allows('not role:a', {}, roles('a')), false);
    assert.equal(allows('not role:a and role:b', {}, roles('b')), true);
    assert.equal(allows('not role:a and role:b', {}, roles('a', 'b')), false);
    assert.equal(allows('not role:a and role:b', {}, roles()), false);
    assert.equal(allows('not (role:a and role:b)', {}, roles('a')), true);
    assert.equal(allows('not (role:a and role:b)', {}, roles('a', 'b')), false);
    assert.equal(allows('NOT role:a', {}, roles('a')), false);
  });
});
