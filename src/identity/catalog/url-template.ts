// Endpoint URLs as Keystone reads them: templates in which `$(name)s` (or `%(name)s`, the same
// thing: Keystone turns `$(` into `%(` and applies Python's %-formatting) stands for a value of
// the token the catalog is made for, e.g. http://swift:8080/v1/AUTH_$(project_id)s.
// What Python would refuse, we refuse too: a `%` that is neither `%%` nor `%(name)s` makes the
// URL malformed (such an endpoint is refused at create and left out of catalogs).
// Only the `s` conversion is accepted: others either fail in Python or mangle the URL.

/** The names a URL may use, as Keystone allows them. */
export const URL_SUBSTITUTIONS: readonly string[] = ['tenant_id', 'project_id', 'user_id', 'compute_host', 'public_endpoint'];

/** A parsed URL: literal text and the names to put in between. */
export type UrlTemplate = (string | { name: string })[];

/** The URL's pieces, or null when it is malformed. */
export function parseUrlTemplate(url: string): UrlTemplate | null {
  const text = url.replaceAll('$(', '%(');
  const pieces: UrlTemplate = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('%', i);
    if (at < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, at);
    if (text[at + 1] === '%') {
      literal += '%';
      i = at + 2;
      continue;
    }
    const m = /^%\(([^)]*)\)s/.exec(text.slice(at));
    if (!m) return null;
    if (literal) pieces.push(literal);
    literal = '';
    pieces.push({ name: m[1]! });
    i = at + m[0].length;
  }
  if (literal) pieces.push(literal);
  return pieces;
}

/** The names a URL uses that Keystone does not allow, or null when it is malformed. */
export function unknownSubstitutions(url: string): string[] | null {
  const template = parseUrlTemplate(url);
  if (!template) return null;
  return template.flatMap((p) => (typeof p === 'string' || URL_SUBSTITUTIONS.includes(p.name) ? [] : [p.name]));
}

/**
 * The URL with its names replaced by `values`; undefined when it cannot be made: a name that is
 * not allowed or has no value here (a project id for a domain-scoped token), or no template.
 */
export function renderUrl(template: UrlTemplate | null, values: Readonly<Record<string, string | undefined>>): string | undefined {
  if (!template) return undefined;
  let url = '';
  for (const piece of template) {
    if (typeof piece === 'string') {
      url += piece;
      continue;
    }
    const value = URL_SUBSTITUTIONS.includes(piece.name) ? values[piece.name] : undefined;
    if (value === undefined) return undefined;
    url += value;
  }
  return url;
}
