// The summary bodies Swift's long-running requests end with (bulk delete, archive extraction,
// SLO manifest uploads and deletes): a dictionary of results plus a list of failed names, as
// plain text, JSON or XML according to the client's Accept header (swob's best_match).
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** The formats such a report can be written in, in Swift's order of preference. */
export const REPORT_FORMATS = ['text/plain', 'application/json', 'application/xml', 'text/xml'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export class BadAcceptError extends Error {}

const TOKEN = "[^()<>@,;:\\\\\"/\\[\\]?={}\\x00-\\x20\\x7f]+";
const MEDIA_RANGE = new RegExp(`^\\s*(${TOKEN})/(${TOKEN})((?:\\s*;\\s*${TOKEN}\\s*=\\s*(?:${TOKEN}|"(?:[^"\\\\]|\\\\.)*"))*?\\s*)$`);

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

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The report: `fields` ("Response Status", "Number Deleted", ...) and `errors` ([quoted name,
 * status or reason] pairs). XML has no declaration here; `rootTag` names its root element.
 */
export function reportBody(format: string | undefined, fields: Record<string, string | number>, errors: [string, string][], rootTag: string): string {
  if (format === 'application/json') return JSON.stringify({ ...fields, Errors: errors });
  const keys = Object.keys(fields).sort();
  if (format?.endsWith('/xml')) {
    let out = `<${rootTag}>\n`;
    for (const key of keys) {
      const tag = key.replace(/ /g, '_').toLowerCase();
      out += `<${tag}>${escapeXml(String(fields[key]))}</${tag}>\n`;
    }
    out += '<errors>\n';
    for (const [name, status] of errors) out += `<object><name>${escapeXml(name)}</name><status>${escapeXml(status)}</status></object>\n`;
    return `${out}</errors>\n</${rootTag}>\n`;
  }
  let out = '';
  for (const key of keys) out += `${key}: ${fields[key]}\n`;
  out += 'Errors:\n';
  for (const [name, status] of errors) out += `${name}, ${status}\n`;
  return out;
}

/**
 * The body of a report that takes a while: whitespace every `frequencySeconds` while `work`
 * runs, so neither the client nor a proxy in between drops the connection as idle, then the
 * report `work` resolves to, set off by a blank line when anything was sent before it.
 * `immediate` sends the first beat at once (a ?heartbeat=on PUT answered 202 straight away);
 * `firstBeat` replaces that first space (bulk sends the XML declaration there).
 */
export function heartbeatBody(work: Promise<string>, frequencySeconds: number, opts: { immediate?: boolean; firstBeat?: string } = {}): Readable {
  return Readable.from(
    (async function* () {
      let beats = 0;
      const beat = () => Buffer.from(beats++ === 0 ? (opts.firstBeat ?? ' ') : ' ');
      if (opts.immediate) yield beat();
      let done = false;
      const result = work.finally(() => {
        done = true;
      });
      while (!done) {
        const tick = new AbortController();
        await Promise.race([result.catch(() => undefined), sleep(frequencySeconds * 1000, undefined, { signal: tick.signal }).catch(() => undefined)]);
        tick.abort();
        if (!done) yield beat();
      }
      const report = await result;
      yield Buffer.from(beats ? `\r\n\r\n${report}` : report);
    })(),
    { objectMode: false },
  );
}
