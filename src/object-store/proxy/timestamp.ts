// The proxy's side of Swift's timestamps (what one is: ../storage/timestamp.ts): it stamps every
// write, so the newest write wins on every replica, and reads the stamps storage servers send.
import { Timestamp } from '../storage/timestamp.ts';

let last = Timestamp.zero();

/** A fresh timestamp (normal form), later than any this process handed out before (clocks can repeat a value). */
export function newTimestamp(): string {
  let now = Timestamp.fromSeconds((performance.timeOrigin + performance.now()) / 1000);
  if (!now.newerThan(last)) now = Timestamp.fromSeconds((last.units + 1) / 100_000);
  last = now;
  return now.normal;
}

/** A timestamp header's value; the zero timestamp when it is missing or not one. */
export function headerTimestamp(value: string | undefined): Timestamp {
  return Timestamp.tryParse(value) ?? Timestamp.zero();
}
