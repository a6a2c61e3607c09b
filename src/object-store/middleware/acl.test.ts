import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AclError, cleanAcl, parseAcl, referrerAllowed } from './acl.ts';

describe('cleanAcl', () => {
  test('tidies spaces, empty items and referrer spellings', () => {
    assert.equal(cleanAcl('X-Container-Read', 'bob , sue'), 'bob,sue');
    assert.equal(cleanAcl('X-Container-Read', 'bob,,,sue'), 'bob,sue');
    assert.equal(cleanAcl('X-Container-Read', '.referrer : *'), '.r:*');
    assert.equal(cleanAcl('X-Container-Read', '.ref:*.example.com'), '.r:.example.com');
    assert.equal(cleanAcl('X-Container-Read', '.r:*, .rlistings'), '.r:*,.rlistings');
    assert.equal(cleanAcl('X-Container-Read', '.r:- thief.example.com'), '.r:-thief.example.com');
    assert.equal(cleanAcl('X-Container-Read', ''), '');
  });

  test('keeps project:user grantees as written', () => {
    assert.equal(cleanAcl('X-Container-Write', 'p1:u1, *:u2 ,p3:*'), 'p1:u1,*:u2,p3:*');
  });

  test('refuses a referrer without a host', () => {
    for (const bad of ['.r:', '.r:-', '.r:.', '.r:*.']) {
      assert.throws(() => cleanAcl('X-Container-Read', bad), (err: unknown) => err instanceof AclError && /No host\/domain value/.test((err as Error).message), bad);
    }
  });

  test('refuses referrers in a write ACL', () => {
    assert.throws(() => cleanAcl('X-Container-Write', '.r:*'), /Referrers not allowed in write ACL/);
  });

  test('refuses an unknown designator', () => {
    assert.throws(() => cleanAcl('X-Container-Read', '.x:y'), /Unknown designator '.x'/);
  });
});

describe('parseAcl', () => {
  test('splits referrers from groups and %-decodes groups', () => {
    assert.deepEqual(parseAcl('.r:*,.r:-bad.com,.rlistings,p%3Ax:u1,role'), {
      referrers: ['*', '-bad.com'],
      groups: ['.rlistings', 'p:x:u1', 'role'],
    });
  });

  test('an absent or empty ACL grants nothing', () => {
    assert.deepEqual(parseAcl(undefined), { referrers: [], groups: [] });
    assert.deepEqual(parseAcl(''), { referrers: [], groups: [] });
  });

  test('a stray % is taken literally', () => {
    assert.deepEqual(parseAcl('100%:u').groups, ['100%:u']);
  });
});

describe('referrerAllowed', () => {
  test('.r:* lets anyone in, with or without a Referer', () => {
    assert.equal(referrerAllowed(undefined, ['*']), true);
    assert.equal(referrerAllowed('http://any.where/page', ['*']), true);
  });

  test('a host matches exactly, a leading dot matches the domain', () => {
    assert.equal(referrerAllowed('http://www.example.com/x', ['www.example.com']), true);
    assert.equal(referrerAllowed('http://example.com/x', ['www.example.com']), false);
    assert.equal(referrerAllowed('https://a.b.example.com/', ['.example.com']), true);
    assert.equal(referrerAllowed('https://example.org/', ['.example.com']), false);
    assert.equal(referrerAllowed('HTTP://WWW.Example.COM/', ['www.example.com']), true);
  });

  test('refusals apply in order: the last matching designation decides', () => {
    const acl = ['.example.com', '-thief.example.com'];
    assert.equal(referrerAllowed('http://good.example.com/', acl), true);
    assert.equal(referrerAllowed('http://thief.example.com/', acl), false);
    assert.equal(referrerAllowed('http://thief.example.com/', ['*', '-.thief.com']), true);
    assert.equal(referrerAllowed('http://a.thief.com/', ['*', '-.thief.com']), false);
    assert.equal(referrerAllowed('http://a.thief.com/', ['-.thief.com', '*']), true);
  });

  test('no designations, or a Referer that names no host, let no one in by host', () => {
    assert.equal(referrerAllowed('http://www.example.com/', []), false);
    assert.equal(referrerAllowed('not a url', ['www.example.com']), false);
    assert.equal(referrerAllowed(undefined, ['www.example.com']), false);
    assert.equal(referrerAllowed('//cdn.example.com/x', ['.example.com']), true);
  });
});
