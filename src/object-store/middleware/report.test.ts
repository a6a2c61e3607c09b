import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadAcceptError, bestMatch, heartbeatBody, REPORT_FORMATS, reportBody } from './report.ts';

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
