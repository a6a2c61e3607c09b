// Deleting many objects on a client's behalf and summing it up as Swift's bulk delete does
// ("Number Deleted", "Number Not Found", "Errors", "Response Status"): each DELETE made as the
// caller, a few at a time, a missing object counted rather than failed.
import { parseSwiftPath } from '../path.ts';
import { discardBody, subrequest, type Handler, type SwiftRequest } from '../pipeline.ts';
import { isSuccess } from '../proxy/responses.ts';
import { quote } from './quote.ts';
import { RunError, type Report, type ReportFields } from './report.ts';
import { statusLine } from './responses.ts';

export interface DeleteTarget {
  /** /container/object */
  name: string;
  /** set when the name could not even be looked at: a 404 counts as not found, anything else fails */
  error?: { code: number; message: string };
}

/** A delete report before anything is deleted. */
export const DELETE_START: Readonly<ReportFields> = { 'Response Status': statusLine(200), 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 0 };

export interface DeleteRunOptions {
  source: string;
  concurrency: number;
  /** stop after this many failures (Swift: max_failed_deletes) */
  maxFailures?: number;
}

/**
 * Deletes every target (paths under the request's account) and reports as bulk delete does; a
 * RunError from `targets` ends the run with its status.
 */
export async function deleteAll(req: SwiftRequest, next: Handler, targets: AsyncIterable<DeleteTarget>, opts: DeleteRunOptions): Promise<Report> {
  const { version, account } = parseSwiftPath(req.path)!;
  const fields: ReportFields = { ...DELETE_START };
  const errors: [string, string][] = [];
  const maxFailures = opts.maxFailures ?? 1000;
  let failedStatus = 400;
  let stopped: RunError | undefined;
  const add = (key: string) => (fields[key] = Number(fields[key]) + 1);

  const iterator = targets[Symbol.asyncIterator]();
  const worker = async () => {
    while (!stopped) {
      let step: IteratorResult<DeleteTarget>;
      try {
        step = await iterator.next();
      } catch (err) {
        if (!(err instanceof RunError)) throw err;
        stopped ??= err;
        return;
      }
      if (step.done) return;
      const { name, error } = step.value;
      if (!name) continue;
      if (error) {
        if (error.code === 404) add('Number Not Found');
        else errors.push([quote(name), error.message]);
      } else {
        const path = `/${version}/${account}/${name.replace(/^\/+/, '')}`;
        const res = await next(subrequest(req, { method: 'DELETE', path, headers: {}, source: opts.source }));
        discardBody(res);
        if (isSuccess(res.status)) add('Number Deleted');
        else if (res.status === 404) add('Number Not Found');
        else {
          if (res.status >= 500) failedStatus = 502;
          errors.push([quote(name), statusLine(res.status)]);
        }
      }
      if (errors.length >= maxFailures) stopped ??= new RunError(400, 'Max delete failures exceeded');
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));

  if (stopped) {
    fields['Response Status'] = statusLine(stopped.status);
    fields['Response Body'] = stopped.message;
  } else if (errors.length) {
    fields['Response Status'] = statusLine(failedStatus);
  } else if (!fields['Number Deleted'] && !fields['Number Not Found']) {
    fields['Response Status'] = statusLine(400);
    fields['Response Body'] = 'Invalid bulk delete.';
  }
  return { fields, errors };
}
