// Turning storage-server answers into client answers, and the proxy's own stock answers
// (Swift's swob defaults, so clients that match on bodies see the same words).
import { errorPage } from '../middleware/responses.ts';
import { textResponse, type SwiftResponse } from '../pipeline.ts';

/** Headers a storage server sends that are the proxy's to set, not to pass on (Swift's update_headers). */
const OWN_HEADERS = new Set([
  'date', 'content-length', 'content-type', 'connection', 'keep-alive', 'transfer-encoding',
  'x-put-timestamp', 'x-delete-after', 'x-trans-id', 'x-openstack-request-id',
]);

/** A storage server's headers as the client gets them: hop-by-hop dropped, ETag unquoted. */
export function passOnHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (OWN_HEADERS.has(name)) continue;
    out[name] = name === 'etag' ? value.replaceAll('"', '') : value;
  }
  return out;
}

export const isSuccess = (status: number) => status >= 200 && status < 300;

/** Thrown to answer at once with `response` (Swift raises an HTTPException); caught by the layer that threw it: app.ts for the proxy, each middleware for its own. */
export class ResponseError extends Error {
  constructor(readonly response: SwiftResponse) {
    super(`${response.status}`);
  }
}

export const badRequest = (text?: string) => (text === undefined ? errorPage(400) : textResponse(400, text));
export const notFound = () => errorPage(404);
export const preconditionFailed = (text?: string) => (text === undefined ? errorPage(412) : textResponse(412, text));
export const serviceUnavailable = () => errorPage(503);
export const methodNotAllowed = (allowed: string[]) => errorPage(405, { allow: [...allowed].sort().join(', ') });
/** 202, as the object server words it (an older write than the one stored). */
export function accepted(): SwiftResponse {
  const body = '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>';
  return { status: 202, headers: { 'content-type': 'text/html; charset=UTF-8', 'content-length': String(body.length) }, body };
}
