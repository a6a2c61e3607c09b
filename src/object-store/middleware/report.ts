// The summary bodies Swift's long-running requests end with (bulk delete, archive extraction,
// SLO manifest uploads and deletes): a dictionary of results plus a list of failed names, as
// plain text, JSON or XML according to the client's Accept header (swob's best_match).
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SwiftResponse } from '../pipeline.ts';
import { BadAcceptError, bestMatch } from './accept.ts';
import { statusLine } from './responses.ts';

/** The formats such a report can be written in, in Swift's order of preference. */
export const REPORT_FORMATS = ['text/plain', 'application/json', 'application/xml', 'text/xml'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export type ReportFields = Record<string, string | number>;

export interface Report {
  fields: ReportFields;
  /** [quoted name, status or reason] */
  errors: [string, string][];
}

/** Ends a run early with this status and message in its report (Swift raises an HTTPException). */
export class RunError extends Error {
  constructor(
    readonly status: number,
    message = '',
  ) {
    super(message);
  }
}

/** The format the Accept header asks for; undefined when it takes none of them or cannot be read. */
export function reportFormat(accept: string | undefined): ReportFormat | undefined {
  try {
    return bestMatch(accept, REPORT_FORMATS);
  } catch (err) {
    if (err instanceof BadAcceptError) return undefined;
    throw err;
  }
}

/** The report of a run that stopped: `start` with its status and message. */
export function failureReport(start: ReportFields, status: number, message = '', errors: [string, string][] = []): Report {
  return { fields: { ...start, 'Response Status': statusLine(status), 'Response Body': message }, errors };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The report: `fields` ("Response Status", "Number Deleted", ...) and `errors` ([quoted name,
 * status or reason] pairs). XML has no declaration here; `rootTag` names its root element.
 */
export function reportBody(format: string | undefined, fields: ReportFields, errors: [string, string][], rootTag: string): string {
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

export interface StreamedReportOptions {
  /** the fields before anything is done: "Response Status", "Response Body", the counts at 0 */
  start: ReportFields;
  /** the XML report's root element */
  rootTag: string;
  /** seconds between the whitespace sent while the run works */
  yieldFrequency: number;
  /** what runs, for the log when it fails ("bulk delete") */
  name: string;
  logger?: Logger;
  /** called once the run is over, or when it never starts (bulk lets go of the request body) */
  release?: () => void;
}

/**
 * A long run answered as Swift's bulk middleware answers: 200 at once, whitespace while `run`
 * works, then its report in the format the Accept header asks for. A RunError becomes the
 * report; no acceptable format is a 406 report without running; any other failure is logged
 * and reported as a 500.
 */
export function streamedReport(accept: string | undefined, run: () => Promise<Report>, opts: StreamedReportOptions): SwiftResponse {
  const format = reportFormat(accept);
  const outcome = format ? guarded(opts.start, run) : Promise.resolve(failureReport(opts.start, 406));
  const report = outcome.finally(() => opts.release?.()).then(
    ({ fields, errors }) => reportBody(format, fields, errors, opts.rootTag),
    (err) => {
      opts.logger?.error({ err }, `${opts.name} failed`);
      return reportBody(format, failureReport(opts.start, 500).fields, [], opts.rootTag);
    },
  );
  // an XML report starts with its declaration, sent as the first beat
  const firstBeat = format?.endsWith('/xml') ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ' ';
  return { status: 200, headers: { 'content-type': format ?? 'text/html; charset=UTF-8' }, body: heartbeatBody(report, opts.yieldFrequency, { firstBeat }) };
}

async function guarded(start: ReportFields, run: () => Promise<Report>): Promise<Report> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RunError) return failureReport(start, err.status, err.message);
    throw err;
  }
}
