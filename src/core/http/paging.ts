// limit/marker paging as the OpenStack APIs do it: `limit` caps the page, `marker` is the id of
// the last item of the previous page, and a `next` link is given while a page is full.
import { badRequest } from './errors.ts';

export interface Page {
  limit: number;
  marker?: string;
}

export function parsePaging(
  query: Record<string, unknown>,
  opts: { defaultLimit?: number; maxLimit?: number } = {},
): Page {
  const maxLimit = opts.maxLimit ?? 1000;
  let limit = opts.defaultLimit ?? maxLimit;
  if (query.limit !== undefined) {
    const text = String(query.limit);
    if (!/^\d+$/.test(text)) throw badRequest(`Invalid limit '${text}': it must be a non-negative integer.`);
    limit = Math.min(Number(text), maxLimit);
  }
  const marker = query.marker === undefined ? undefined : String(query.marker);
  return { limit, marker };
}

/** Cuts `items` (already sorted) after `marker`; throws 404-style error via notFound when absent. */
export function pageAfterMarker<T>(items: T[], page: Page, idOf: (item: T) => string, onMissingMarker: () => Error): T[] {
  let start = 0;
  if (page.marker !== undefined) {
    const at = items.findIndex((item) => idOf(item) === page.marker);
    if (at < 0) throw onMissingMarker();
    start = at + 1;
  }
  return items.slice(start, start + page.limit);
}

/** The `next` link for a full page, keeping the request's other query parameters. */
export function nextLink(requestUrl: string, page: Page, items: { id: string }[]): string | undefined {
  if (items.length === 0 || items.length < page.limit) return undefined;
  const url = new URL(requestUrl);
  url.searchParams.set('limit', String(page.limit));
  url.searchParams.set('marker', items[items.length - 1]!.id);
  return url.toString();
}
