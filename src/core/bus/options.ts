// Defaults and checks for the knobs of OpenBusOptions and CallOptions.
import type { CallOptions } from './types.ts';

export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
export const DEFAULT_PREFETCH = 16;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_RECONNECT_MIN_MS = 250;
export const DEFAULT_RECONNECT_MAX_MS = 5_000;
export const DEFAULT_EXCHANGE = 'tenrec';

export function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`bus option ${name} must be a positive number, got ${v}`);
  return v;
}

export function callTimeout(opts: CallOptions | undefined): number {
  return positive('timeoutMs', opts?.timeoutMs, DEFAULT_CALL_TIMEOUT_MS);
}
