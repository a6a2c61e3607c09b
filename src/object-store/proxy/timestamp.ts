// Swift's timestamps: seconds since the epoch with five decimals ("1700000000.12345"), an
// optional "_<16 hex>" offset for writes that must sort after one with the same time. The
// proxy stamps every write, so the newest write wins on every replica.

let last = 0;

/** A fresh timestamp, later than any this process handed out before (clocks can repeat a value). */
export function newTimestamp(): string {
  let now = Math.round((performance.timeOrigin + performance.now()) * 100) / 100000;
  if (now <= last) now = Math.round((last + 0.00001) * 100000) / 100000;
  last = now;
  return now.toFixed(5).padStart(16, '0');
}

/** Seconds of a timestamp (the offset dropped); 0 when it is missing or not one. */
export function timestampSeconds(value: string | undefined): number {
  if (!value) return 0;
  const seconds = Number(value.split('_')[0]);
  return Number.isFinite(seconds) ? seconds : 0;
}

/** Orders two timestamps, offsets included: negative when a is older. */
export function compareTimestamps(a: string | undefined, b: string | undefined): number {
  const bySeconds = timestampSeconds(a) - timestampSeconds(b);
  if (bySeconds !== 0) return bySeconds;
  const offset = (t: string | undefined) => {
    const hex = t?.split('_')[1] ?? '';
    return /^[0-9a-f]{1,16}$/i.test(hex) ? BigInt(`0x${hex}`) : 0n;
  };
  const diff = offset(a) - offset(b);
  return diff === 0n ? 0 : diff < 0n ? -1 : 1;
}

/** Last-Modified from a timestamp: HTTP dates have whole seconds, and Swift rounds up. */
export function httpDate(timestamp: string | number): string {
  const seconds = typeof timestamp === 'number' ? timestamp : timestampSeconds(timestamp);
  return new Date(Math.ceil(seconds) * 1000).toUTCString();
}
