// S3 error responses: a code, an HTTP status and a default message per code (as AWS and
// Swift's s3api send them), plus details that go into the XML body as extra elements
// (BucketName, Key, StringToSign ...).
import type { SwiftResponse } from '../pipeline.ts';
import { el, xmlDocument, type XmlNode } from './xml.ts';

const CATALOGUE = {
  AccessDenied: [403, 'Access Denied.'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the query parameters.'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument.'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidChunkSizeError: [403, 'Only the last chunk is allowed to have a size less than 8192 bytes'],
  InvalidDigest: [400, 'The Content-MD5 you specified was invalid.'],
  InvalidLocationConstraint: [400, 'The specified location constraint is not valid.'],
  InvalidPart: [400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts list must be specified in order by part number.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidRange: [416, 'The requested range cannot be satisfied.'],
  InvalidRequest: [400, 'Invalid Request.'],
  InvalidStorageClass: [400, 'The storage class you specified is not valid.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, 'Your key is too long.'],
  MalformedACLError: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MalformedTrailerError: [400, 'The request contained trailing data that was not well-formed or did not conform to our published schema.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request body is empty.'],
  MissingSecurityHeader: [400, 'Your request was missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist.'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchUpload: [404, 'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  PreconditionFailed: [412, 'At least one of the preconditions you specified did not hold.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  UnexpectedContent: [400, 'This request does not support content.'],
  UserKeyMustBeSpecified: [400, 'The bucket POST must contain the specified field name. If it is specified, please check the order of the fields.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
} satisfies Record<string, [number, string]>;

export type S3ErrorCode = keyof typeof CATALOGUE;

/** Details shown as extra elements of <Error>, named as AWS names them (BucketName, Key ...). */
export type ErrorDetails = Record<string, string | number | undefined>;

export class S3Error extends Error {
  readonly status: number;
  constructor(readonly code: string, message?: string, readonly details: ErrorDetails = {}, status?: number) {
    const known = (CATALOGUE as Record<string, [number, string]>)[code];
    super(message ?? known?.[1] ?? code);
    this.status = status ?? known?.[0] ?? 500;
  }
}

export function s3Error(code: S3ErrorCode, details?: ErrorDetails, message?: string): S3Error {
  return new S3Error(code, message, details);
}

/** The <Error> document for `err`, with the S3 resource the request named and the request id. */
export function errorBody(err: S3Error, resource: string, requestId: string): string {
  const nodes: XmlNode[] = [el('Code', err.code), el('Message', err.message)];
  for (const [name, value] of Object.entries(err.details)) if (value !== undefined) nodes.push(el(name, String(value)));
  nodes.push(el('Resource', resource), el('RequestId', requestId));
  return xmlDocument(el('Error', nodes), { namespace: null });
}

export function errorResponse(err: S3Error, resource: string, requestId: string): SwiftResponse {
  const body = errorBody(err, resource, requestId);
  return {
    status: err.status,
    headers: {
      'content-type': 'application/xml',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-request-id': requestId,
      'x-amz-id-2': requestId,
    },
    body,
  };
}
