// S3 ACLs as far as Swift container ACLs can say them (Swift's s3api without s3_acl): the
// owner has full control; public-read is ".r:*,.rlistings" on X-Container-Read and
// public-read-write adds ".r:*" on X-Container-Write. Objects have no ACLs of their own.
import { discardBody, type SwiftResponse } from '../../pipeline.ts';
import { parseAcl, referrerAllowed } from '../../middleware/acl.ts';
import { s3Error } from '../errors.ts';
import { requestXml, type S3Request } from '../request.ts';
import { emptyResponse, ownerNode, xmlResponse } from '../responses.ts';
import { child, children, el, type XmlNode } from '../xml.ts';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const MAX_ACL_BODY_SIZE = 200 * 1024;

const CANNED: Record<string, Record<string, string>> = {
  private: { 'x-container-read': '', 'x-container-write': '' },
  'bucket-owner-full-control': { 'x-container-read': '', 'x-container-write': '' },
  'bucket-owner-read': { 'x-container-read': '', 'x-container-write': '' },
  'public-read': { 'x-container-read': '.r:*,.rlistings' },
  'public-read-write': { 'x-container-read': '.r:*,.rlistings', 'x-container-write': '.r:*' },
};

/** The container ACL headers of a canned ACL (x-amz-acl); none when absent. */
export function cannedAclHeaders(acl: string | undefined): Record<string, string> {
  if (acl === undefined) return {};
  if (acl === 'authenticated-read' || acl === 'log-delivery-write') throw s3Error('NotImplemented');
  const headers = CANNED[acl];
  if (!headers) throw s3Error('InvalidArgument', { ArgumentName: 'x-amz-acl', ArgumentValue: acl });
  return { ...headers };
}

function grant(grantee: XmlNode[], type: string, permission: string): XmlNode {
  return el('Grant', [el('Grantee', grantee, { 'xmlns:xsi': XSI, 'xsi:type': type }), el('Permission', permission)]);
}

/** GET ?acl of a bucket or an object: what the container's ACLs amount to. */
export async function getAcl(r: S3Request): Promise<SwiftResponse> {
  const res = await r.call('HEAD', { container: r.bucket, object: r.key });
  discardBody(res);
  let headers = res.headers;
  if (r.key !== undefined) {
    const bucket = await r.call('HEAD', { container: r.bucket });
    discardBody(bucket);
    headers = bucket.headers;
  }
  const me = r.userId;
  const grants = [grant([el('ID', me), el('DisplayName', me)], 'CanonicalUser', 'FULL_CONTROL')];
  if (referrerAllowed('unknown', parseAcl(headers['x-container-read']).referrers)) grants.push(grant([el('URI', ALL_USERS)], 'Group', 'READ'));
  if (referrerAllowed('unknown', parseAcl(headers['x-container-write']).referrers)) grants.push(grant([el('URI', ALL_USERS)], 'Group', 'WRITE'));
  return xmlResponse(el('AccessControlPolicy', [ownerNode('Owner', me), el('AccessControlList', grants)]));
}

/** PUT ?acl of a bucket, canned (x-amz-acl) or as an AccessControlPolicy document. */
export async function putAcl(r: S3Request): Promise<SwiftResponse> {
  if (r.key !== undefined) throw s3Error('NotImplemented');
  const body = await r.smallBody(MAX_ACL_BODY_SIZE);
  const canned = r.headers['x-amz-acl'];
  if (canned !== undefined && body) throw s3Error('UnexpectedContent');
  if (canned === undefined && !body) throw s3Error('MissingSecurityHeader', { MissingHeaderName: 'x-amz-acl' });
  const headers = cannedAclHeaders(canned ?? policyAsCanned(body!));
  discardBody(await r.call('POST', { container: r.bucket, headers }));
  return emptyResponse(200, { location: r.bucket! });
}

/** The canned ACL an AccessControlPolicy document amounts to (Swift's swift_acl_translate). */
function policyAsCanned(body: Buffer): string {
  const root = requestXml(body, 'AccessControlPolicy', 'MalformedACLError');
  let acl = 'unknown';
  for (const g of children(child(root, 'AccessControlList') ?? root, 'Grant')) {
    const permission = child(g, 'Permission')?.text;
    const granteeElement = child(g, 'Grantee');
    const type = granteeElement ? Object.entries(granteeElement.attributes).find(([k]) => k.endsWith(':type') || k === 'type')?.[1] : undefined;
    if (permission === 'FULL_CONTROL' && type === 'CanonicalUser' && acl !== 'public-read' && acl !== 'public-read-write') acl = 'private';
    else if (permission === 'READ' && type === 'Group' && acl !== 'public-read-write') acl = 'public-read';
    else if (permission === 'WRITE' && type === 'Group') acl = 'public-read-write';
    else acl = 'unsupported';
  }
  if (!(acl in CANNED)) throw s3Error('MalformedACLError');
  return acl;
}
