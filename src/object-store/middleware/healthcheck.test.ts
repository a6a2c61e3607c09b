import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SwiftRequest } from '../pipeline.ts';
import { healthcheck } from './healthcheck.ts';

const request = (path: string): SwiftRequest => ({ method: 'GET', path, query: new URLSearchParams(), headers: {}, env: { transId: 'tx' } });

test('/healthcheck is answered OK without going further', async () => {
  let reached = 0;
  const handler = healthcheck()(async () => {
    reached++;
    return { status: 401, headers: {} };
  });
  const res = await handler(request('/healthcheck'));
  assert.equal(res.status, 200);
  assert.equal(res.body, 'OK');
  assert.equal(res.headers['content-type'], 'text/plain');
  assert.equal(reached, 0);
  assert.equal((await handler(request('/v1/AUTH_x'))).status, 401);
  assert.equal((await handler(request('/healthcheck/x'))).status, 401);
});
