import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SwiftRequest } from '../pipeline.ts';
import { gatekeeper } from './gatekeeper.ts';

test('clients can neither set nor see system metadata and backend headers', async () => {
  let seen: Record<string, string> = {};
  const handler = gatekeeper()(async (req) => {
    seen = { ...req.headers };
    return {
      status: 200,
      headers: {
        'x-container-meta-color': 'blue', 'x-container-sysmeta-versions-location': 'v', 'x-backend-timestamp': '1',
        'x-backend-fake-account-listing': 'yes', 'x-object-transient-sysmeta-crypto': 'k', 'x-timestamp': '2', 'etag': 'e',
      },
    };
  });
  const req: SwiftRequest = {
    method: 'PUT', path: '/v1/AUTH_a/c', query: new URLSearchParams(), env: { transId: 'tx' },
    headers: {
      'x-container-meta-color': 'blue', 'x-container-sysmeta-versions-location': 'forged', 'x-account-sysmeta-project-domain-id': 'forged',
      'x-backend-storage-policy-index': '7', 'x-container-partition': '3', 'x-delete-at-host': 'h', 'x-auth-token': 't',
    },
  };
  const res = await handler(req);
  assert.deepEqual(seen, { 'x-container-meta-color': 'blue', 'x-auth-token': 't' });
  assert.deepEqual(res.headers, { 'x-container-meta-color': 'blue', 'x-timestamp': '2', etag: 'e' });
});
