// POST /<bucket>?delete (DeleteObjects): up to 1000 keys in one <Delete> document, each
// deleted as DeleteObject would (a multipart upload with its parts), two at a time; the
// answer lists what was deleted (unless Quiet) and what could not be.
import { createHash } from 'node:crypto';
import { discardBody, type SwiftResponse } from '../../pipeline.ts';
import { mapLimit } from '../../middleware/concurrency.ts';
import { checksumHeaderNames } from '../checksums.ts';
import { S3Error, s3Error } from '../errors.ts';
import { requestXml, type S3Request } from '../request.ts';
import { xmlResponse } from '../responses.ts';
import { child, children, el, type XmlNode } from '../xml.ts';
import { deleteKey } from './object.ts';

const CONCURRENCY = 2;

interface Target {
  key: string;
  version?: string;
}

function parseDelete(body: Buffer, max: number): { quiet: boolean; targets: Target[] } {
  const root = requestXml(body, 'Delete', 'MalformedXML');
  const objects = children(root, 'Object');
  if (objects.length === 0 || objects.length > max) throw s3Error('MalformedXML');
  const targets = objects.map((o) => {
    const key = child(o, 'Key')?.text;
    if (!key) throw s3Error('UserKeyMustBeSpecified');
    return { key, version: child(o, 'VersionId')?.text };
  });
  return { quiet: (child(root, 'Quiet')?.text ?? '').trim().toLowerCase() === 'true', targets };
}

export async function deleteObjects(r: S3Request): Promise<SwiftResponse> {
  // AWS takes 1000 keys; Swift's names are at most 1024 bytes; twice that for slack, 10 MiB at most
  const body = await r.smallBody(Math.min(2 * r.conf.maxMultiDeleteObjects * r.conf.maxObjectNameLength, 10 * 1024 * 1024));
  if (!body) throw s3Error('MissingRequestBodyError');
  const md5 = r.headers['content-md5'];
  if (md5 === undefined && checksumHeaderNames(r.headers).length === 0) {
    throw s3Error('InvalidRequest', {}, 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  }
  if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) throw s3Error('BadDigest', { ExpectedDigest: md5 });
  const { quiet, targets } = parseDelete(body, r.conf.maxMultiDeleteObjects);

  const errorNode = (key: string, code: string, message: string, version?: string): XmlNode =>
    el('Error', [el('Key', key), ...(version !== undefined ? [el('VersionId', version)] : []), el('Code', code), el('Message', message)]);
  try {
    discardBody(await r.call('HEAD', { container: r.bucket }));
  } catch (err) {
    if (err instanceof S3Error && err.code === 'AccessDenied') {
      return xmlResponse(el('DeleteResult', targets.map((t) => errorNode(t.key, err.code, err.message, t.version))));
    }
    throw err;
  }
  if (targets.some((t) => t.version !== undefined && t.version !== 'null')) throw s3Error('NotImplemented');

  const results = await mapLimit(targets, CONCURRENCY, async ({ key }): Promise<XmlNode | undefined> => {
    try {
      await deleteKey(r, r.bucket!, key);
    } catch (err) {
      if (err instanceof S3Error) return errorNode(key, err.code, err.message);
      throw err;
    }
    return quiet ? undefined : el('Deleted', [el('Key', key)]);
  });
  return xmlResponse(el('DeleteResult', results.filter((n): n is XmlNode => n !== undefined)));
}
