// GET / (ListBuckets): the account's containers that are valid bucket names (which leaves out
// the "+segments" containers of multipart uploads).
import type { SwiftResponse } from '../../pipeline.ts';
import { validBucketName } from '../names.ts';
import type { S3Request } from '../request.ts';
import { ownerNode, xmlResponse } from '../responses.ts';
import { s3XmlTime } from '../headers.ts';
import { el } from '../xml.ts';

/** Swift keeps no creation time for a container; Swift's s3api shows this one when listings have none. */
const NO_CREATION_DATE = '2009-02-03T16:45:09.000Z';
const PAGE = 10000;

export async function listBuckets(r: S3Request): Promise<SwiftResponse> {
  const buckets = [];
  let marker = '';
  for (;;) {
    const page = await r.listing(undefined, { marker, limit: String(PAGE) });
    for (const item of page) {
      if (item.name === undefined || !validBucketName(item.name, r.conf.dnsCompliantBucketNames)) continue;
      buckets.push(el('Bucket', [el('Name', item.name), el('CreationDate', item.last_modified ? s3XmlTime(item.last_modified) : NO_CREATION_DATE)]));
    }
    if (page.length < PAGE) break;
    marker = page[page.length - 1]!.name ?? '';
  }
  return xmlResponse(el('ListAllMyBucketsResult', [ownerNode('Owner', r.userId), el('Buckets', buckets)]));
}
