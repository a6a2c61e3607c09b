// How a listing is written out: format=json|xml|plain, else the Accept header, else plain
// text (Swift's get_listing_content_type). Proxies normally ask for JSON and convert.
import { fail } from '../responses.ts';

export type ListingType = 'text/plain' | 'application/json' | 'application/xml' | 'text/xml';

const FORMATS: Record<string, ListingType> = { plain: 'text/plain', json: 'application/json', xml: 'application/xml' };
const OFFERED: ListingType[] = ['text/plain', 'application/json', 'application/xml', 'text/xml'];

export function listingType(query: URLSearchParams, headers: Record<string, string>): ListingType {
  const format = query.get('format');
  if (format) return FORMATS[format.toLowerCase()] ?? 'text/plain';
  const accept = headers.accept;
  if (!accept) return 'text/plain';
  const choice = bestMatch(accept);
  if (!choice) fail(406, 'None of the acceptable listing formats can be served.');
  return choice;
}

/** The offered type the Accept header likes best (higher q first, then exact over wildcard). */
function bestMatch(accept: string): ListingType | undefined {
  const ranges = accept.split(',').map((part, order) => {
    const [range = '', ...params] = part.trim().split(';').map((p) => p.trim());
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name === 'q' && value !== undefined) q = Number(value);
    }
    if (!/^[^/\s]+\/[^/\s]+$/.test(range) || Number.isNaN(q)) fail(400, 'Invalid Accept header');
    return { range: range.toLowerCase(), q, exact: !range.includes('*'), order };
  });
  ranges.sort((a, b) => b.q - a.q || Number(b.exact) - Number(a.exact) || a.order - b.order);
  for (const { range, q } of ranges) {
    if (q <= 0) continue;
    const [type, subtype] = range.split('/');
    const found = OFFERED.find((offer) => {
      const [t, s] = offer.split('/');
      return (type === '*' || type === t) && (subtype === '*' || subtype === s);
    });
    if (found) return found;
  }
  return undefined;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One listing as text: names one a line, JSON, or Swift's XML (`root` is "container" or "account", `fields` the child elements of an entry). */
export function renderListing(type: ListingType, entries: Array<Record<string, unknown>>, root: { tag: string; entryTag: string; name: string; fields: string[] }): string {
  if (type === 'application/json') return JSON.stringify(entries);
  if (type === 'text/plain') return entries.map((e) => `${String(e.subdir ?? e.name)}\n`).join('');
  const items = entries.map((entry) => {
    if (entry.subdir !== undefined) {
      const name = escapeXml(String(entry.subdir));
      return root.tag === 'container' ? `<subdir name="${name}"><name>${name}</name></subdir>` : `<subdir name="${name}" />`;
    }
    return `<${root.entryTag}>${root.fields.map((f) => `<${f}>${escapeXml(String(entry[f]))}</${f}>`).join('')}</${root.entryTag}>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root.tag} name="${escapeXml(root.name)}">${items.join('')}</${root.tag}>`;
}
