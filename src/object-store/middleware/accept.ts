// Content negotiation as swob does it (its Accept parsing and best_match): which of the types a
// middleware can answer in the client prefers. Listings and the reports of long-running
// requests both choose their format this way.

export class BadAcceptError extends Error {}

// RFC 2616 tokens and media ranges, as Swift's Accept parser has them.
const TOKEN = String.raw`[^()<>@,;:\\"/\[\]?={}\x00-\x20\x7f]+`;
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"`;
const MEDIA_RANGE = new RegExp(String.raw`^\s*(${TOKEN})/(${TOKEN})((?:\s*;\s*${TOKEN}\s*=\s*(?:${TOKEN}|${QUOTED}))*?\s*)$`);

/**
 * The first of `offers` the Accept header takes, trying its media ranges by quality (exact
 * types before wildcards on a tie); the first offer when there is no header; undefined when
 * nothing is acceptable. A malformed header throws BadAcceptError.
 */
export function bestMatch<T extends string>(accept: string | undefined, offers: readonly T[]): T | undefined {
  if (!accept) return offers[0];
  const ranges: { pattern: RegExp; quality: number; exact: boolean; order: number }[] = [];
  for (const [order, item] of accept.split(',').entries()) {
    const m = MEDIA_RANGE.exec(item);
    if (!m) throw new BadAcceptError('Invalid accept header');
    const [, type, subtype, params] = m as unknown as [string, string, string, string];
    let quality = 1;
    let seenQ = false;
    for (const param of params.split(';').map((p) => p.trim()).filter(Boolean)) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name !== 'q') continue;
      if (seenQ) throw new BadAcceptError('Multiple "q" params');
      seenQ = true;
      quality = Number(value);
      if (Number.isNaN(quality)) throw new BadAcceptError('Invalid accept header');
    }
    const part = (s: string) => (s === '*' ? TOKEN : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    ranges.push({ pattern: new RegExp(`^${part(type)}/${part(subtype)}$`), quality, exact: type !== '*' && subtype !== '*', order });
  }
  ranges.sort((a, b) => b.quality - a.quality || Number(b.exact) - Number(a.exact) || a.order - b.order);
  for (const range of ranges) {
    const offer = offers.find((o) => range.pattern.test(o));
    if (offer) return offer;
  }
  return undefined;
}
