import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDeleteHeaders, parseInteger } from './constraints.ts';

test('integers are read as Python\'s int() reads them: a sign and blanks around allowed, nothing else', () => {
  assert.equal(parseInteger(' 42 '), 42);
  assert.equal(parseInteger('+7'), 7);
  assert.equal(parseInteger('-3'), -3);
  for (const bad of ['', ' ', '4.5', '1e3', '0x10', '12abc', '- 3']) assert.equal(parseInteger(bad), undefined, bad);
});

test('X-Delete-After becomes X-Delete-At, both integers in the future', () => {
  const headers: Record<string, string> = { 'x-delete-after': ' +60 ' };
  assert.equal(applyDeleteHeaders(headers, 1_700_000_000.5), undefined);
  assert.deepEqual(headers, { 'x-delete-at': '1700000060' });
  assert.equal(applyDeleteHeaders({ 'x-delete-after': 'soon' }, 1_700_000_000)?.status, 400);
  assert.equal(applyDeleteHeaders({ 'x-delete-at': '1699999999' }, 1_700_000_000)?.status, 400);
});
