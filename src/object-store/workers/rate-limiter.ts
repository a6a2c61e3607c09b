// Keeps a worker to a rate (files, bytes, updates per second) so background work never starves
// client requests of disk or network, as Swift's ratelimit_sleep does. Idle time earns at most
// one second of catch-up, so a pause is not followed by an unbounded burst.
import { setTimeout as sleep } from 'node:timers/promises';

export class RateLimiter {
  private next = Number.NEGATIVE_INFINITY;

  constructor(
    /** units per second; 0 or less means no limit */
    private readonly perSecond: number,
    private readonly bufferMs = 1000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Resolves when `units` more may go, or as soon as `signal` aborts: a pass being stopped
   * must not sit out its budget first (the caller sees the signal and goes no further).
   */
  async wait(units = 1, signal?: AbortSignal): Promise<void> {
    if (!(this.perSecond > 0) || units <= 0 || signal?.aborted) return;
    const now = this.clock();
    if (this.next < now - this.bufferMs) this.next = now - this.bufferMs;
    const delay = this.next - now;
    this.next += (units * 1000) / this.perSecond;
    if (delay <= 0) return;
    try {
      await sleep(delay, undefined, { signal });
    } catch (err) {
      if (!signal?.aborted) throw err;
    }
  }
}
