// Swift's X-Timestamp: seconds since the epoch to five decimals ("1700000000.12345", always
// 10.5 digits so names sort as times), plus an optional offset ("_" and 16 hex digits) that
// orders internal rewrites of the same moment. Every write carries one; the newest wins.
// Kept as integers (units of 10 µs, and the offset) so comparison never meets float error.

const UNITS_PER_SECOND = 100_000;
const MAX_UNITS = 10_000_000_000 * UNITS_PER_SECOND; // exclusive: ten digits of seconds
const MAX_OFFSET = (1n << 64n) - 1n;

export class InvalidTimestamp extends Error {}

export class Timestamp {
  private constructor(
    /** deca-microseconds since the epoch */
    readonly units: number,
    readonly offset: bigint,
  ) {}

  static fromSeconds(seconds: number, offset = 0n): Timestamp {
    return Timestamp.of(Math.round(seconds * UNITS_PER_SECOND), offset);
  }

  static now(): Timestamp {
    return Timestamp.fromSeconds(Date.now() / 1000);
  }

  static zero(): Timestamp {
    return Timestamp.of(0, 0n);
  }

  /** Parses the normal or internal form (or any plain decimal number of seconds); throws InvalidTimestamp. */
  static parse(text: string): Timestamp {
    const [seconds, hex, extra] = text.trim().split('_');
    if (extra !== undefined || seconds === undefined) throw new InvalidTimestamp(`invalid timestamp ${JSON.stringify(text)}`);
    let offset = 0n;
    if (hex !== undefined) {
      if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new InvalidTimestamp(`invalid timestamp offset ${JSON.stringify(hex)}`);
      offset = BigInt(`0x${hex}`);
    }
    return Timestamp.of(parseUnits(seconds, text), offset);
  }

  /** parse() that answers undefined instead of throwing. */
  static tryParse(text: string | undefined): Timestamp | undefined {
    if (text === undefined) return undefined;
    try {
      return Timestamp.parse(text);
    } catch {
      return undefined;
    }
  }

  private static of(units: number, offset: bigint): Timestamp {
    if (units < 0) throw new InvalidTimestamp('timestamp cannot be negative');
    if (!(units < MAX_UNITS) || !Number.isInteger(units)) throw new InvalidTimestamp('timestamp too large');
    if (offset < 0n || offset > MAX_OFFSET) throw new InvalidTimestamp('timestamp offset out of range');
    return new Timestamp(units, offset);
  }

  /** "1700000000.12345": what clients see and what HTTP headers carry. */
  get normal(): string {
    const whole = Math.floor(this.units / UNITS_PER_SECOND);
    const fraction = this.units % UNITS_PER_SECOND;
    return `${String(whole).padStart(10, '0')}.${String(fraction).padStart(5, '0')}`;
  }

  /** The normal form, plus "_<16 hex>" when there is an offset: file names and stored values. */
  get internal(): string {
    return this.offset ? `${this.normal}_${this.offset.toString(16).padStart(16, '0')}` : this.normal;
  }

  get seconds(): number {
    return this.units / UNITS_PER_SECOND;
  }

  /** "2023-11-14T22:13:20.123450", the form of listings' last_modified (no zone, UTC). */
  get isoformat(): string {
    const whole = Math.floor(this.units / UNITS_PER_SECOND);
    const micros = (this.units % UNITS_PER_SECOND) * 10;
    const date = new Date(whole * 1000).toISOString().slice(0, 19);
    return `${date}.${String(micros).padStart(6, '0')}`;
  }

  /** Last-Modified: HTTP dates have whole seconds, and Swift rounds up so the date is never before the write. */
  get httpDate(): string {
    return new Date(Math.ceil(this.units / UNITS_PER_SECOND) * 1000).toUTCString();
  }

  /** Whole seconds, rounded up, as Last-Modified states it. */
  get ceilSeconds(): number {
    return Math.ceil(this.units / UNITS_PER_SECOND);
  }

  compare(other: Timestamp): number {
    if (this.units !== other.units) return this.units < other.units ? -1 : 1;
    if (this.offset !== other.offset) return this.offset < other.offset ? -1 : 1;
    return 0;
  }

  newerThan(other: Timestamp): boolean {
    return this.compare(other) > 0;
  }

  equals(other: Timestamp): boolean {
    return this.compare(other) === 0;
  }

  /** False only for the zero timestamp (Swift's "no timestamp yet"). */
  get isSet(): boolean {
    return this.units !== 0 || this.offset !== 0n;
  }
}

export function maxTimestamp(a: Timestamp, b: Timestamp): Timestamp {
  return a.compare(b) >= 0 ? a : b;
}

/**
 * Seconds text to deca-microseconds. Plain decimals are read digit by digit (rounding at the
 * sixth decimal), so "1700000000.12345" is exact; other number forms Python's float() takes
 * ("1.7e9") go through Number.
 */
function parseUnits(seconds: string, original: string): number {
  const plain = /^(\d*)(?:\.(\d*))?$/.exec(seconds);
  if (plain && (plain[1] || plain[2])) {
    const whole = plain[1] ? Number(plain[1]) : 0;
    const digits = (plain[2] ?? '').padEnd(6, '0');
    let fraction = Number(digits.slice(0, 5));
    if (Number(digits[5]) >= 5) fraction += 1;
    return whole * UNITS_PER_SECOND + fraction;
  }
  const value = Number(seconds);
  if (seconds === '' || !Number.isFinite(value)) throw new InvalidTimestamp(`invalid timestamp ${JSON.stringify(original)}`);
  return Math.round(value * UNITS_PER_SECOND);
}
