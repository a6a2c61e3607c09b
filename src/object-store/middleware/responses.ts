// Swift's response conventions the middlewares here repeat: reason phrases ("201 Created" is how
// bulk reports and formpost bodies name a status), the default explanation a bodiless error page
// carries, and a response with a body given verbatim (swob's Response(body=...)), which on a 401
// also names the realm the client should authenticate against.
import { parseSwiftPath } from '../path.ts';
import { quote } from './quote.ts';
import { textResponse, type SwiftResponse } from '../pipeline.ts';

const REASONS: Record<number, [string, string]> = {
  200: ['OK', ''],
  201: ['Created', ''],
  202: ['Accepted', 'The request is accepted for processing.'],
  204: ['No Content', ''],
  206: ['Partial Content', ''],
  303: ['See Other', 'The response to the request can be found under a different URI.'],
  304: ['Not Modified', ''],
  400: ['Bad Request', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  406: ['Not Acceptable', 'The resource is not available in a format acceptable to your browser.'],
  408: ['Request Timeout', 'The server has waited too long for the request to be sent by the client.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Content-Length header required.'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
  502: ['Bad Gateway', 'Bad gateway.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
  504: ['Gateway Timeout', 'A timeout has occurred speaking to a backend server.'],
  507: ['Insufficient Storage', 'There was not enough space to save the resource.'],
};

/** "404 Not Found", as Swift writes a status into response bodies. */
export function statusLine(status: number): string {
  const reason = REASONS[status]?.[0];
  return reason ? `${status} ${reason}` : String(status);
}

/** The title and stock explanation of a status, one per line ("Bad Request\nThe server could not ..."), as swob names an empty error. */
export function reasonAndExplanation(status: number): string {
  const [title, explanation] = REASONS[status] ?? [String(status), ''];
  return `${title}\n${explanation}`;
}

/** An error page as swob makes one when no body was given: the title and its stock explanation. */
export function errorPage(status: number, headers: Record<string, string> = {}): SwiftResponse {
  return textResponse(status, REASONS[status]?.[1] ?? '', headers);
}

/** The realm a 401 names: the account of a Swift path, else "unknown". */
export function realmOf(path: string | undefined): string {
  const parsed = path === undefined ? undefined : parseSwiftPath(path);
  return parsed ? quote(parsed.account) : 'unknown';
}

/** A response whose body is exactly `body` (no HTML wrapping). */
export function bodyResponse(
  status: number,
  body: string | Buffer,
  opts: { contentType?: string; headers?: Record<string, string>; realm?: string } = {},
): SwiftResponse {
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? 'text/html; charset=UTF-8',
    'content-length': String(Buffer.byteLength(body)),
    ...(opts.headers ?? {}),
  };
  if (status === 401 && headers['www-authenticate'] === undefined) headers['www-authenticate'] = `Swift realm="${opts.realm ?? 'unknown'}"`;
  return { status, headers, body };
}

/** bodyResponse as text/plain. */
export function plainResponse(status: number, body: string | Buffer, headers: Record<string, string> = {}): SwiftResponse {
  return bodyResponse(status, body, { contentType: 'text/plain', headers });
}
