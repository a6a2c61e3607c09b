import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidTimestamp, Timestamp } from './timestamp.ts';
import { parseRangeHeader, rangesForLength } from './object/ranges.ts';
import { chooseOnDiskState } from './object/ondisk.ts';

test('timestamps read and print as Swift writes them', () => {
  assert.equal(Timestamp.parse('1700000000.12345').normal, '1700000000.12345');
  assert.equal(Timestamp.parse('1700000000').normal, '1700000000.00000');
  assert.equal(Timestamp.parse('1700000000.1').internal, '1700000000.10000');
  assert.equal(Timestamp.parse('1700000000.123456').normal, '1700000000.12346', 'rounded to 10 µs');
  assert.equal(Timestamp.parse('12.5').normal, '0000000012.50000');
  assert.equal(Timestamp.parse('1.7e9').normal, '1700000000.00000');
  assert.equal(Timestamp.parse('1700000000.12345_000000000000000a').internal, '1700000000.12345_000000000000000a');
  assert.equal(Timestamp.parse('1700000000.12345_000000000000000a').normal, '1700000000.12345');
  assert.equal(Timestamp.parse('1700000000.5').isoformat, '2023-11-14T22:13:20.500000');
  assert.equal(Timestamp.parse('1700000000.5').httpDate, 'Tue, 14 Nov 2023 22:13:21 GMT', 'Last-Modified rounds up');
  for (const bad of ['', 'abc', '-1', '1e11', '1700000000.1_zz', '1_2_3']) assert.throws(() => Timestamp.parse(bad), InvalidTimestamp, bad);
});

test('timestamps order by time, then by offset', () => {
  const a = Timestamp.parse('1700000000.12345');
  const b = Timestamp.parse('1700000000.12345_0000000000000001');
  const c = Timestamp.parse('1700000000.12346');
  assert.ok(b.newerThan(a) && c.newerThan(b));
  assert.ok(a.internal < b.internal && b.internal < c.internal, 'internal forms sort as strings the same way');
});

test('Range headers: Swift ignores malformed ones and refuses unsatisfiable or abusive ones', () => {
  assert.deepEqual(rangesForLength(parseRangeHeader('bytes=0-4,-3'), 10), [{ start: 0, end: 5 }, { start: 7, end: 10 }]);
  assert.equal(parseRangeHeader('bytes=3-1'), undefined);
  assert.equal(parseRangeHeader('items=0-1'), undefined);
  assert.equal(parseRangeHeader('bytes=-'), undefined);
  assert.deepEqual(rangesForLength(parseRangeHeader('bytes=20-'), 10), []);
  assert.deepEqual(rangesForLength(parseRangeHeader('bytes=0-5,1-6,2-7,3-8'), 10), [], 'more than two overlaps');
  assert.deepEqual(rangesForLength(parseRangeHeader(`bytes=${Array.from({ length: 51 }, (_, i) => `${i}-${i}`).join(',')}`), 100), [], 'more than 50 ranges');
});

test('the newest of .data and .ts decides; newer .meta counts; the rest is obsolete', () => {
  const s = (n: number) => `170000000${n}.00000`;
  const state = chooseOnDiskState([`${s(1)}.data`, `${s(2)}.meta`, `${s(3)}.data`, `${s(4)}.meta`, `${s(5)}.meta`, 'junk.tmp']);
  assert.equal(state.data?.name, `${s(3)}.data`);
  assert.equal(state.meta?.name, `${s(5)}.meta`);
  assert.deepEqual(state.obsolete.sort(), [`${s(1)}.data`, `${s(2)}.meta`, `${s(4)}.meta`]);

  const deleted = chooseOnDiskState([`${s(1)}.data`, `${s(2)}.ts`, `${s(3)}.meta`]);
  assert.equal(deleted.tombstone?.name, `${s(2)}.ts`);
  assert.equal(deleted.data, undefined);
  assert.deepEqual(deleted.obsolete, [`${s(1)}.data`]);

  const rewritten = chooseOnDiskState([`${s(1)}.ts`, `${s(2)}.data`]);
  assert.equal(rewritten.data?.name, `${s(2)}.data`);
  assert.deepEqual(rewritten.obsolete, [`${s(1)}.ts`]);
});
