// Turning storage-server answers into client answers, and the proxy's own stock answers
// (Swift's swob defaults, so clients that match on bodies see the same words).
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

/** Thrown to answer at once with `response` (caught in app.ts) */
export class ResponseError extends Error {
  constructor(readonly response: SwiftResponse) {
    super(`${response.status}`);
  }
}

export const badRequest = (text = 'The server could not comply with the request since it is either malformed or otherwise incorrect.') =>
  textResponse(400, text);
export const notFound = () => textResponse(404, 'The resource could not be found.');
export const preconditionFailed = (text = 'A precondition for this request was not met.') => textResponse(412, text);
export const serviceUnavailable = () => textResponse(503, 'The server is currently unavailable. Please try again at a later time.');
export const methodNotAllowed = (allowed: string[]) =>
  textResponse(405, 'The method is not allowed for this resource.', { allow: [...allowed].sort().join(', ') });
/** 202, as the object server words it (an older write than the one stored). */
export function accepted(): SwiftResponse {
  const body = '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>';
  return { status: 202, headers: { 'content-type': 'text/html; charset=UTF-8', 'content-length': String(body.length) }, body };
}
