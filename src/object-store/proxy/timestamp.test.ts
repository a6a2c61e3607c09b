import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Timestamp } from '../storage/timestamp.ts';
import { headerTimestamp, newTimestamp } from './timestamp.ts';

test('stamps handed out in a row are in normal form and strictly increasing, even within one clock tick', () => {
  let previous = Timestamp.zero();
  for (let i = 0; i < 2000; i++) {
    const stamp = newTimestamp();
    assert.match(stamp, /^\d{10}\.\d{5}$/);
    const parsed = Timestamp.parse(stamp);
    assert.ok(parsed.newerThan(previous), `${stamp} after ${previous.normal}`);
    previous = parsed;
  }
});

test('a timestamp header that is missing or not one reads as the zero timestamp', () => {
  assert.equal(headerTimestamp('1700000000.12345_000000000000000a').internal, '1700000000.12345_000000000000000a');
  assert.equal(headerTimestamp(undefined).isSet, false);
  assert.equal(headerTimestamp('yesterday').isSet, false);
});
