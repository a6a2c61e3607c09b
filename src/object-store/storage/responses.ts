// The storage servers' answers. Bodies are short plain text, as Swift's backend errors are;
// the proxy looks at statuses and headers, and passes few backend bodies on.
import type { SwiftResponse } from '../pipeline.ts';

export function plain(status: number, text = '', headers: Record<string, string> = {}): SwiftResponse {
  const body = Buffer.from(text);
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length), ...headers }, body };
}

/** A status and headers, no body. */
export function bare(status: number, headers: Record<string, string> = {}): SwiftResponse {
  return { status, headers: { 'content-length': '0', ...headers } };
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): SwiftResponse {
  const body = Buffer.from(JSON.stringify(value));
  return { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) }, body };
}

/** 507: the device is unknown or not there (Swift's answer for an unmounted drive). */
export function insufficientStorage(device: string): SwiftResponse {
  return plain(507, `There was not enough space to save the resource. Drive: ${device}`);
}

/** Thrown anywhere below a controller to answer with `response` (Swift's raise HTTPException). */
export class HttpError extends Error {
  constructor(readonly response: SwiftResponse) {
    super(`HTTP ${response.status}`);
  }
}

export function fail(status: number, text = '', headers: Record<string, string> = {}): never {
  throw new HttpError(plain(status, text, headers));
}
