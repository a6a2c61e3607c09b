import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { Capabilities } from '../capabilities.ts';
import { compose, type SwiftRequest, type SwiftResponse } from '../pipeline.ts';
import { tempurl } from './tempurl.ts';
import { bodyText, MemorySwift, request } from './testing/memory-swift.ts';

const NOW = 1_700_000_000;
const LATER = NOW + 3600;
const ACCOUNT_KEY = 'account-secret';
const CONTAINER_KEY = 'container-secret';

/** The auth below tempurl: refuses everything unless tempurl (or a test) has set env.authorize. */
function denyAll(next: (req: SwiftRequest) => Promise<SwiftResponse>) {
  return (req: SwiftRequest) => {
    if (!req.env.authorizeOverride) req.env.authorize = () => ({ status: 401, headers: {}, body: 'no token' });
    return next(req);
  };
}

function setup(options: Parameters<typeof tempurl>[0] = {}) {
  const swift = new MemorySwift();
  swift.account('AUTH_a', { 'x-account-meta-temp-url-key': ACCOUNT_KEY });
  swift.container('AUTH_a', 'c');
  swift.container('AUTH_a', 'keyed', { 'x-container-meta-temp-url-key-2': CONTAINER_KEY });
  swift.putObject('AUTH_a', 'c', 'o.txt', 'hello', { 'x-object-meta-color': 'blue', 'x-object-meta-public-tag': 'shown' });
  swift.putObject('AUTH_a', 'c', 'docs/report.pdf', 'pdf');
  swift.putObject('AUTH_a', 'keyed', 'k', 'keyed data');
  const handler = compose(swift.handler, tempurl({ now: () => NOW, ...options }), denyAll);
  return { swift, handler };
}

function sign(method: string, expires: number | string, path: string, key = ACCOUNT_KEY, digest = 'sha256', ipRange?: string): string {
  const body = [...(ipRange ? [`ip=${ipRange}`] : []), method, String(expires), path].join('\n');
  return createHmac(digest, key).update(body).digest('hex');
}

function url(path: string, sig: string, expires: number | string, extra = ''): string {
  return `${path}?temp_url_sig=${encodeURIComponent(sig)}&temp_url_expires=${encodeURIComponent(String(expires))}${extra}`;
}

describe('tempurl', () => {
  test('a signed GET reads the object without a token, as an attachment named after it', async () => {
    const { handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    const res = await handler(request('GET', url(path, sign('GET', LATER, path), LATER)));
    assert.equal(res.status, 200);
    assert.equal(await bodyText(res), 'hello');
    assert.equal(res.headers['content-disposition'], `attachment; filename="o.txt"; filename*=UTF-8''o.txt`);
    assert.equal(res.headers['expires'], new Date(LATER * 1000).toUTCString());
    // private metadata stays private; x-object-meta-public-* is shown
    assert.equal(res.headers['x-object-meta-color'], undefined);
    assert.equal(res.headers['x-object-meta-public-tag'], 'shown');
  });

  test('without temp URL parameters the request passes untouched', async () => {
    const { handler } = setup();
    const res = await handler(request('GET', '/v1/AUTH_a/c/o.txt'));
    assert.equal(res.status, 401);
    assert.equal(await bodyText(res), 'no token');
  });

  test('an expired, altered or wrong-method link is refused with 401 Temp URL invalid', async () => {
    const { handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    const cases = [
      request('GET', url(path, sign('GET', NOW - 1, path), NOW - 1)),
      request('GET', url('/v1/AUTH_a/c/other', sign('GET', LATER, path), LATER)),
      request('GET', url(path, sign('GET', LATER, path), LATER + 1)),
      request('PUT', url(path, sign('GET', LATER, path), LATER)),
      request('GET', url(path, sign('GET', LATER, path, 'wrong key'), LATER)),
      request('GET', url(path, sign('GET', LATER, path), 'soon')),
      request('GET', `${path}?temp_url_sig=${sign('GET', LATER, path)}`),
      request('GET', `${path}?temp_url_expires=${LATER}`),
      request('GET', url(path, 'nothex', LATER)),
      request('GET', url(path, sign('GET', LATER, path).toUpperCase(), LATER)),
    ];
    for (const req of cases) {
      const res = await handler(req);
      assert.equal(res.status, 401, `${req.method} ${req.path}?${req.query}`);
      assert.equal(await bodyText(res), '401 Unauthorized: Temp URL invalid\n');
      assert.equal(res.headers['www-authenticate'], 'Swift realm="unknown"');
    }
  });

  test('a HEAD is allowed with a GET, PUT or POST signature, not a DELETE one', async () => {
    const { handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    for (const method of ['HEAD', 'GET', 'PUT', 'POST']) {
      const res = await handler(request('HEAD', url(path, sign(method, LATER, path), LATER)));
      assert.equal(res.status, 200, method);
    }
    const refused = await handler(request('HEAD', url(path, sign('DELETE', LATER, path), LATER)));
    assert.equal(refused.status, 401);
    assert.equal(await bodyText(refused), '');
  });

  test('PUT, POST and DELETE links write', async () => {
    const { swift, handler } = setup();
    const path = '/v1/AUTH_a/c/new';
    const put = await handler(request('PUT', url(path, sign('PUT', LATER, path), LATER), { 'content-length': '3' }, Readable.from([Buffer.from('new')])));
    assert.equal(put.status, 201);
    assert.equal(swift.object('AUTH_a', 'c', 'new')?.data.toString(), 'new');
    const post = await handler(request('POST', url(path, sign('POST', LATER, path), LATER), { 'x-object-meta-a': 'b' }));
    assert.equal(post.status, 202);
    const del = await handler(request('DELETE', url(path, sign('DELETE', LATER, path), LATER)));
    assert.equal(del.status, 204);
    assert.equal(swift.object('AUTH_a', 'c', 'new'), undefined);
  });

  test('configured methods limit what a link may do', async () => {
    const { handler } = setup({ methods: ['GET', 'HEAD'] });
    const path = '/v1/AUTH_a/c/o.txt';
    assert.equal((await handler(request('DELETE', url(path, sign('DELETE', LATER, path), LATER)))).status, 401);
    assert.equal((await handler(request('GET', url(path, sign('GET', LATER, path), LATER)))).status, 200);
  });

  test('sha1 and sha512 hex, and "<digest>:<base64>" in both alphabets', async () => {
    const { handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    const raw = (digest: string) => createHmac(digest, ACCOUNT_KEY).update(`GET\n${LATER}\n${path}`).digest();
    const sigs = [
      sign('GET', LATER, path, ACCOUNT_KEY, 'sha1'),
      sign('GET', LATER, path, ACCOUNT_KEY, 'sha512'),
      `sha512:${raw('sha512').toString('base64')}`,
      `sha512:${raw('sha512').toString('base64url')}`,
      `sha256:${raw('sha256').toString('base64').replace(/=+$/, '')}`,
    ];
    for (const sig of sigs) assert.equal((await handler(request('GET', url(path, sig, LATER)))).status, 200, sig);
    assert.equal((await handler(request('GET', url(path, `md5:${raw('sha256').toString('base64')}`, LATER)))).status, 401);
  });

  test('allowed_digests refuses the others', async () => {
    const { handler } = setup({ allowedDigests: ['sha512'] });
    const path = '/v1/AUTH_a/c/o.txt';
    assert.equal((await handler(request('GET', url(path, sign('GET', LATER, path), LATER)))).status, 401);
    assert.equal((await handler(request('GET', url(path, sign('GET', LATER, path, ACCOUNT_KEY, 'sha512'), LATER)))).status, 200);
  });

  test('ISO 8601 expiry', async () => {
    const { handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    const iso = new Date(LATER * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const res = await handler(request('GET', url(path, sign('GET', LATER, path), iso)));
    assert.equal(res.status, 200);
    assert.equal(res.headers['expires'], new Date(LATER * 1000).toUTCString());
  });

  test('a prefix link opens every object under its prefix and nothing else', async () => {
    const { handler } = setup();
    const sig = sign('GET', LATER, 'prefix:/v1/AUTH_a/c/docs/');
    const ok = await handler(request('GET', url('/v1/AUTH_a/c/docs/report.pdf', sig, LATER, '&temp_url_prefix=docs/')));
    assert.equal(ok.status, 200);
    assert.equal(await bodyText(ok), 'pdf');
    const outside = await handler(request('GET', url('/v1/AUTH_a/c/o.txt', sig, LATER, '&temp_url_prefix=docs/')));
    assert.equal(outside.status, 401);
  });

  test('a container key grants that container only', async () => {
    const { handler } = setup();
    const path = '/v1/AUTH_a/keyed/k';
    const req = request('GET', url(path, sign('GET', LATER, path, CONTAINER_KEY), LATER));
    const res = await handler(req);
    assert.equal(res.status, 200);
    assert.equal(await bodyText(res), 'keyed data');
    // what the rest of the pipeline is told: this container, nothing beyond
    assert.equal(req.env.authorizeOverride, true);
    assert.equal(req.env.authorize!(request('GET', '/v1/AUTH_a/keyed/other')), undefined);
    const elsewhere = req.env.authorize!(request('GET', '/v1/AUTH_a/c/o.txt'));
    assert.equal(elsewhere?.status, 401);
    assert.equal(elsewhere?.headers['www-authenticate'], 'Swift realm="AUTH_a"');
    // an account key grants the whole account
    const accountReq = request('GET', url(path, sign('GET', LATER, path), LATER));
    await handler(accountReq);
    assert.equal(accountReq.env.authorize!(request('GET', '/v1/AUTH_a/c/o.txt')), undefined);
    assert.equal(accountReq.env.authorize!(request('GET', '/v1/AUTH_b/c/o.txt'))?.status, 401);
  });

  test('no key set: every link is invalid', async () => {
    const { swift, handler } = setup();
    delete swift.account('AUTH_a').headers['x-account-meta-temp-url-key'];
    const path = '/v1/AUTH_a/c/o.txt';
    assert.equal((await handler(request('GET', url(path, sign('GET', LATER, path), LATER)))).status, 401);
  });

  test('the keys are read with pre-authorized lookups', async () => {
    const { swift, handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    await handler(request('GET', url(path, sign('GET', LATER, path), LATER)));
    const lookups = swift.seen.filter((r) => r.method === 'HEAD');
    assert.deepEqual(lookups.map((r) => [r.path, r.preauthorized]), [['/v1/AUTH_a', true], ['/v1/AUTH_a/c', true]]);
  });

  test('an IP range in the signature must hold the client', async () => {
    const { handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    const signed = (range: string) => url(path, sign('GET', LATER, path, ACCOUNT_KEY, 'sha256', range), LATER, `&temp_url_ip_range=${encodeURIComponent(range)}`);
    const from = (address: string, range: string) => {
      const req = request('GET', signed(range));
      req.env.remoteAddr = address;
      return handler(req);
    };
    assert.equal((await from('127.0.0.1', '127.0.0.0/8')).status, 200);
    assert.equal((await from('::ffff:127.0.0.1', '127.0.0.1')).status, 200);
    assert.equal((await from('10.0.0.1', '127.0.0.0/8')).status, 401);
    assert.equal((await from('127.0.0.1', '127.0.0.1/8')).status, 401); // host bits set: no network
    assert.equal((await from('2001:db8::5', '2001:db8::/64')).status, 200);
    assert.equal((await from('2001:db9::5', '2001:db8::/64')).status, 401);
    // a signature without the range does not hold once a range is added to the URL
    const req = request('GET', url(path, sign('GET', LATER, path), LATER, '&temp_url_ip_range=127.0.0.1'));
    assert.equal((await handler(req)).status, 401);
  });

  test('filename and inline choose the Content-Disposition', async () => {
    const { swift, handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    const get = async (extra: string) => (await handler(request('GET', url(path, sign('GET', LATER, path), LATER, extra)))).headers['content-disposition'];
    assert.equal(await get('&filename=My%20Report%20%C3%A9.pdf'), `attachment; filename="My Report %C3%A9.pdf"; filename*=UTF-8''My%20Report%20%C3%A9.pdf`);
    assert.equal(await get('&inline'), 'inline');
    assert.equal(await get('&inline&filename=a%20b'), `inline; filename="a b"; filename*=UTF-8''a%20b`);
    swift.object('AUTH_a', 'c', 'o.txt')!.headers['content-disposition'] = 'attachment; filename="stored"';
    assert.equal(await get(''), 'attachment; filename="stored"');
  });

  test('only the link parameters reach the rest of the pipeline', async () => {
    const { swift, handler } = setup();
    const path = '/v1/AUTH_a/c/o.txt';
    await handler(request('GET', url(path, sign('GET', LATER, path), LATER, '&multipart-manifest=get&filename=x')));
    const get = swift.seen.find((r) => r.method === 'GET')!;
    const query = new URLSearchParams(get.query);
    assert.equal(query.has('multipart-manifest'), false);
    assert.equal(query.get('filename'), 'x');
  });

  test('uploads may not carry manifest or symlink headers; x-timestamp is dropped', async () => {
    const { swift, handler } = setup();
    const path = '/v1/AUTH_a/c/up';
    const manifest = await handler(request('PUT', url(path, sign('PUT', LATER, path), LATER), { 'x-object-manifest': 'c/seg' }));
    assert.equal(manifest.status, 400);
    assert.equal(await bodyText(manifest), "The header 'X-Object-Manifest' is not allowed in this tempurl");
    const put = await handler(request('PUT', url(path, sign('PUT', LATER, path), LATER), { 'x-timestamp': '1.0', 'content-length': '1' }, Readable.from([Buffer.from('x')])));
    assert.equal(put.status, 201);
    assert.equal(swift.seen.find((r) => r.method === 'PUT')!.headers['x-timestamp'], undefined);
  });

  test('a link to an account or container, or to /v1.0, is invalid', async () => {
    const { handler } = setup();
    for (const path of ['/v1/AUTH_a', '/v1/AUTH_a/c', '/v1/AUTH_a/c/', '/v1.0/AUTH_a/c/o.txt']) {
      assert.equal((await handler(request('GET', url(path, sign('GET', LATER, path), LATER)))).status, 401, path);
    }
  });

  test('registers its /info section', () => {
    const capabilities = new Capabilities();
    tempurl({ capabilities });
    assert.deepEqual(capabilities.get('tempurl'), {
      methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      incoming_remove_headers: ['x-timestamp', 'x-open-expired'],
      incoming_allow_headers: [],
      outgoing_remove_headers: ['x-object-meta-*'],
      outgoing_allow_headers: ['x-object-meta-public-*'],
      allowed_digests: ['sha1', 'sha256', 'sha512'],
      deprecated_digests: ['sha1'],
    });
  });
});
