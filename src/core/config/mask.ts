// How a value is shown to people (`tenrec config show`, error messages) without giving
// away secrets: secret options become `****`, passwords inside URLs become `****`.
import type { OptionSpec } from './options.ts';
import { isUrl } from './options.ts';

export const MASK = '****';

/**
 * `mysql://tenrec:****@db/tenrec` for `mysql://tenrec:pw@db/tenrec`. When the URL does not
 * parse, everything from the first `:` after `scheme://` to the last `@` is masked: that may
 * hide more than the password (e.g. extra hosts), never less.
 */
export function maskUrlPassword(text: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([\s\S]*)$/.exec(text);
  if (!match) return text;
  const [, scheme, rest] = match;
  const pathStart = rest.search(/[/?#]/);
  const authorityEnd = isUrl(text) && pathStart >= 0 ? pathStart : rest.length;
  const at = authorityEnd === 0 ? -1 : rest.lastIndexOf('@', authorityEnd - 1);
  const colon = rest.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return text;
  return scheme + rest.slice(0, colon + 1) + MASK + rest.slice(at);
}

/** The text shown for an option's (typed) value. Empty secrets stay empty: nothing to hide. */
export function showValue(spec: OptionSpec<unknown>, value: unknown): string {
  const text = Array.isArray(value) ? value.join(', ') : String(value);
  return showText(spec, text);
}

/** The text shown for raw text given for an option (e.g. a value that failed to convert). */
export function showText(spec: OptionSpec<unknown>, text: string): string {
  if (spec.secret && text !== '') return MASK;
  return spec.type === 'url' ? maskUrlPassword(text) : text;
}
