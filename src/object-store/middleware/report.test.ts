import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Logger } from 'pino';
import type { SwiftResponse } from '../pipeline.ts';
import { BadAcceptError, bestMatch } from './accept.ts';
import { heartbeatBody, REPORT_FORMATS, reportBody, RunError, streamedReport, type Report } from './report.ts';

describe('report format from Accept', () => {
  test('no header: plain text', () => {
    assert.equal(bestMatch(undefined, REPORT_FORMATS), 'text/plain');
  });

  test('the best quality wins; exact types before wildcards', () => {
    assert.equal(bestMatch('application/json', REPORT_FORMATS), 'application/json');
    assert.equal(bestMatch('text/xml;q=0.5, application/json;q=0.9', REPORT_FORMATS), 'application/json');
    assert.equal(bestMatch('*/*;q=0.9, application/xml', REPORT_FORMATS), 'application/xml');
    assert.equal(bestMatch('application/*', REPORT_FORMATS), 'application/json');
  });

  test('nothing acceptable, or a malformed header', () => {
    assert.equal(bestMatch('image/png', REPORT_FORMATS), undefined);
    assert.throws(() => bestMatch('not a type', REPORT_FORMATS), BadAcceptError);
    assert.throws(() => bestMatch('text/plain;q=1;q=2', REPORT_FORMATS), BadAcceptError);
  });
});

describe('report bodies', () => {
  const fields = { 'Response Status': '400 Bad Request', 'Number Deleted': 1 };
  const errors: [string, string][] = [['/c/a&b', '404 Not Found']];

  test('plain text: sorted fields, then the errors', () => {
    assert.equal(reportBody('text/plain', fields, errors, 'delete'), 'Number Deleted: 1\nResponse Status: 400 Bad Request\nErrors:\n/c/a&b, 404 Not Found\n');
  });

  test('JSON carries the errors as pairs', () => {
    assert.deepEqual(JSON.parse(reportBody('application/json', fields, errors, 'delete')), { ...fields, Errors: errors });
  });

  test('XML escapes names and lower-cases the field tags', () => {
    assert.equal(
      reportBody('application/xml', fields, errors, 'delete'),
      '<delete>\n<number_deleted>1</number_deleted>\n<response_status>400 Bad Request</response_status>\n' +
        '<errors>\n<object><name>/c/a&amp;b</name><status>404 Not Found</status></object>\n</errors>\n</delete>\n',
    );
  });

  test('a heartbeat body: a space at once, then a blank line and the report', async () => {
    const chunks: string[] = [];
    for await (const chunk of heartbeatBody(Promise.resolve('done'), 10, { immediate: true })) chunks.push(String(chunk));
    assert.equal(chunks.join(''), ' \r\n\r\ndone');
  });

  test('a quick report without heartbeat is just the report', async () => {
    const chunks: string[] = [];
    for await (const chunk of heartbeatBody(Promise.resolve('done'), 10)) chunks.push(String(chunk));
    assert.equal(chunks.join(''), 'done');
  });
});

describe('streamed reports', () => {
  const start = { 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': 0 };
  const options = { start, rootTag: 'delete', yieldFrequency: 10, name: 'test run' };

  async function jsonReport(res: SwiftResponse): Promise<Record<string, unknown>> {
    const chunks: string[] = [];
    for await (const chunk of res.body as AsyncIterable<Buffer>) chunks.push(String(chunk));
    return JSON.parse(chunks.join('')) as Record<string, unknown>;
  }

  test('200 at once, the run\'s report in the format asked for, the body let go when it is over', async () => {
    let released = 0;
    const res = streamedReport('application/json', async () => ({ fields: { ...start, 'Number Deleted': 2 }, errors: [] }), { ...options, release: () => released++ });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(await jsonReport(res), { ...start, 'Number Deleted': 2, Errors: [] });
    assert.equal(released, 1);
  });

  test('a RunError is the report\'s status; any other failure is logged and reported as a 500', async () => {
    const stopped = streamedReport('application/json', () => Promise.reject(new RunError(413, 'Too many')), options);
    assert.deepEqual(await jsonReport(stopped), { ...start, 'Response Status': '413 Request Entity Too Large', 'Response Body': 'Too many', Errors: [] });

    const logged: unknown[] = [];
    const logger = { error: (obj: unknown) => logged.push(obj) } as unknown as Logger;
    const failed = streamedReport('application/json', () => Promise.reject(new Error('disk on fire')), { ...options, logger });
    assert.deepEqual(await jsonReport(failed), { ...start, 'Response Status': '500 Internal Error', Errors: [] });
    assert.equal(logged.length, 1);
  });

  test('an Accept it cannot meet is a 406 report, and nothing runs', async () => {
    let ran = false;
    const run = async (): Promise<Report> => {
      ran = true;
      return { fields: start, errors: [] };
    };
    const res = streamedReport('image/png', run, options);
    assert.equal(res.headers['content-type'], 'text/html; charset=UTF-8');
    const chunks: string[] = [];
    for await (const chunk of res.body as AsyncIterable<Buffer>) chunks.push(String(chunk));
    assert.match(chunks.join(''), /Response Status: 406 Not Acceptable/);
    assert.equal(ran, false);
  });
});
