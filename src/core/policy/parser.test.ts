import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from './parser.ts';
import { PolicySyntaxError } from './errors.ts';

const shape = (text: string): string => String(parseRule(text));

describe('parseRule', () => {
  test('special checks and the empty rule', () => {
    assert.equal(shape(''), '@');
    assert.equal(shape('@'), '@');
    assert.equal(shape('!'), '!');
    assert.equal(shape('(@)'), '@');
  });

  test('and binds tighter than or, as oslo.policy', () => {
    assert.equal(shape('@ or ! or @'), '(@ or ! or @)');
    assert.equal(shape('@ or ! and @'), '(@ or (! and @))');
    assert.equal(shape('@ and ! or @'), '((@ and !) or @)');
    assert.equal(shape('@ and ! and @'), '(@ and ! and @)');
    assert.equal(shape('@ or ! or @ and !'), '(@ or ! or (@ and !))');
    assert.equal(shape('@ or ! and @ or !'), '(@ or (! and @) or !)');
    assert.equal(shape('@ or ! and @ and !'), '(@ or (! and @ and !))');
    assert.equal(shape('@ and ! or @ and !'), '((@ and !) or (@ and !))');
    assert.equal(shape('@ and ! and @ or !'), '((@ and ! and @) or !)');
  });

  test('not binds tighter than and', () => {
    assert.equal(shape('not @ and ! or @'), '((not @ and !) or @)');
    assert.equal(shape('@ and not ! or @'), '((@ and not !) or @)');
    assert.equal(shape('@ and ! or not @'), '((@ and !) or not @)');
    assert.equal(shape('not not @'), 'not not @');
    assert.equal(shape('not (@ and !)'), 'not (@ and !)');
  });

  test('parentheses group, with or without spaces', () => {
    for (const text of ['( @ ) and ! or @', '@ and ( ! ) or @', '( @ and ! ) or @', '((@) and !) or (@)']) {
      assert.equal(shape(text), '((@ and !) or @)', text);
    }
    assert.equal(shape('@ and (! or @)'), '(@ and (! or @))');
    assert.equal(shape('(role:a or role:b) and role:c'), '((role:a or role:b) and role:c)');
  });

  test('keywords are case-insensitive', () => {
    assert.equal(shape('role:a OR role:b AND NOT role:c'), '(role:a or (role:b and not role:c))');
    assert.equal(shape('role:a Or role:b'), '(role:a or role:b)');
  });

  test('checks keep their text, including %(key)s and parentheses inside it', () => {
    assert.equal(shape('(project_id:%(project_id)s)'), 'project_id:%(project_id)s');
    assert.equal(
      shape('role:admin or (role:reader and project_id:%(project_id)s)'),
      '(role:admin or (role:reader and project_id:%(project_id)s))',
    );
    assert.equal(shape("'member':%(role.name)s"), "'member':%(role.name)s");
    assert.equal(shape('rule:admin_required'), 'rule:admin_required');
    assert.equal(shape('http://example.com/check'), 'http://example.com/check');
    assert.equal(shape('role:compute:admin'), 'role:compute:admin');
  });

  test('syntax errors name the text and the problem', () => {
    const bad: [string, RegExp][] = [
      ['role:a or', /expected a check after 'or'/],
      ['and role:a', /expected a check at the start/],
      ['role:a role:b', /unexpected 'role:b'/],
      ['(role:a', /missing '\)'/],
      ['role:a)', /unexpected '\)'/],
      ['()', /found '\)'/],
      ['not', /found the end of the rule/],
      ['admin_required', /not a check of the form kind:match/],
      [':x', /nothing before the ':'/],
      ['rule:', /needs a rule name/],
      ["'member'", /not part of a check/],
      ["'member:%(x)s", /unbalanced quotes/],
      ['role:50%', /'%%'/],
      ['user_id:%(user_id)d', /'%\(key\)s'/],
      ['   ', /only whitespace/],
    ];
    for (const [text, reason] of bad) {
      assert.throws(
        () => parseRule(text, 'my:rule'),
        (error: unknown) =>
          error instanceof PolicySyntaxError &&
          error.rule === 'my:rule' &&
          error.text === text &&
          reason.test(error.message) &&
          error.message.includes('my:rule') &&
          error.message.includes(JSON.stringify(text)),
        text,
      );
    }
  });
});
