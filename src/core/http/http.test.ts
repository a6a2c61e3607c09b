import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, keystoneFault, novaFault, HttpError, negotiateMicroversion, parsePaging, pageAfterMarker, nextLink, notFound } from './index.ts';
import { silentLogger } from '../log/logger.ts';

function app() {
  const a = createApp({ service: 'identity', fault: keystoneFault, logger: silentLogger });
  a.get('/boom', async () => {
    throw new Error('secret internal detail at /srv/x.ts:12');
  });
  a.get('/missing', async () => {
    throw new HttpError(404, 'Could not find thing: x.');
  });
  a.post('/echo', async (req) => ({ got: req.body ?? null }));
  return a;
}

describe('http app', () => {
  test('every response carries a request id of the upstream form', async () => {
    const res = await app().inject({ method: 'GET', url: '/healthcheck' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'OK');
    assert.match(String(res.headers['x-openstack-request-id']), /^req-[0-9a-f-]{36}$/);
  });

  test('HttpError renders the service fault body', async () => {
    const res = await app().inject({ method: 'GET', url: '/missing' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: { code: 404, title: 'Not Found', message: 'Could not find thing: x.' } });
  });

  test('an unexpected error is a 500 without any internal detail', async () => {
    const res = await app().inject({ method: 'GET', url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, 500);
    assert.ok(!res.body.includes('secret internal detail'));
    assert.ok(!res.body.includes('.ts'));
  });

  test('malformed JSON is a 400 fault; an empty JSON body is accepted', async () => {
    const bad = await app().inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.title, 'Bad Request');
    const empty = await app().inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    assert.deepEqual(empty.json(), { got: null });
  });

  test('unknown routes are 404 faults', async () => {
    const res = await app().inject({ method: 'GET', url: '/v3/nothing-here' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 404);
  });

  test('a malformed URL escape is a 400 fault, not Fastify\'s own body', async () => {
    const a = app();
    a.get('/things/:id', async () => ({}));
    const res = await a.inject({ method: 'GET', url: '/things/%E0%A4%A' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 400);
  });

  test('nova fault shape', () => {
    assert.deepEqual(novaFault(404, 'x'), { itemNotFound: { code: 404, message: 'x' } });
  });
});

describe('microversions', () => {
  const range = { service: 'compute', min: '2.1', max: '2.96', legacyHeader: 'x-openstack-nova-api-version' };
  test('absent header → minimum; latest → maximum; explicit honoured', () => {
    assert.equal(negotiateMicroversion({}, range).headers['openstack-api-version'], 'compute 2.1');
    assert.equal(negotiateMicroversion({ 'openstack-api-version': 'compute latest' }, range).version.minor, 96);
    assert.equal(negotiateMicroversion({ 'openstack-api-version': 'volume 3.9, compute 2.47' }, range).version.minor, 47);
    assert.equal(negotiateMicroversion({ 'x-openstack-nova-api-version': '2.10' }, range).version.minor, 10);
  });
  test('malformed → 400, out of range → 406', () => {
    assert.throws(() => negotiateMicroversion({ 'openstack-api-version': 'compute two' }, range), (e: HttpError) => e.status === 400);
    assert.throws(() => negotiateMicroversion({ 'openstack-api-version': 'compute 2.97' }, range), (e: HttpError) => e.status === 406);
    assert.throws(() => negotiateMicroversion({ 'openstack-api-version': 'compute 1.0' }, range), (e: HttpError) => e.status === 406);
  });
});

describe('paging', () => {
  const items = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
  test('limit and marker walk the list', () => {
    const first = parsePaging({ limit: '2' });
    const p1 = pageAfterMarker(items, first, (i) => i.id, () => notFound('marker'));
    assert.deepEqual(p1.map((i) => i.id), ['a', 'b']);
    const next = nextLink('http://h/v2/things?name=x', first, p1)!;
    assert.equal(new URL(next).searchParams.get('marker'), 'b');
    assert.equal(new URL(next).searchParams.get('name'), 'x');
    const p3 = pageAfterMarker(items, parsePaging({ limit: '2', marker: 'd' }), (i) => i.id, () => notFound('marker'));
    assert.deepEqual(p3.map((i) => i.id), ['e']);
    assert.equal(nextLink('http://h/x', first, p3), undefined);
  });
  test('bad limit is a 400; an unknown marker is the caller-chosen error', () => {
    assert.throws(() => parsePaging({ limit: '-1' }), (e: HttpError) => e.status === 400);
    assert.throws(() => parsePaging({ limit: 'ten' }), (e: HttpError) => e.status === 400);
    assert.throws(() => pageAfterMarker(items, parsePaging({ marker: 'zz' }), (i) => i.id, () => notFound('marker zz')), /marker zz/);
  });
});
