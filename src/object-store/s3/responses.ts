// The shapes of successful S3 answers: an XML document, or headers alone.
import type { SwiftResponse } from '../pipeline.ts';
import { el, xmlDocument, type XmlNode } from './xml.ts';

export function xmlResponse(root: XmlNode, status = 200, headers: Record<string, string> = {}): SwiftResponse {
  const body = xmlDocument(root);
  return { status, headers: { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), ...headers }, body };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): SwiftResponse {
  return { status, headers: { 'content-length': '0', ...headers }, body: '' };
}

/** <Owner> (or <Initiator>) naming the caller as Swift's s3api does: ID and DisplayName both project:user. */
export function ownerNode(name: string, userId: string): XmlNode {
  return el(name, [el('ID', userId), el('DisplayName', userId)]);
}
