// Temp URLs, form posts, bulk operations and quotas through the real pipeline: identity, the
// proxy with every middleware, and a storage server, over HTTP as clients use them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { IdentityClient } from '../../clients/identity.ts';
import { ObjectStoreClient } from '../../clients/object-store.ts';
import { startCloud, type ProjectUser, type TestCloud } from '../../testing/cloud.ts';
import * as tar from './testing/tar-writer.ts';

let cloud: TestCloud;
let alice: ProjectUser;
let store: ObjectStoreClient;
/** alice's account without a token */
let anonymous: ObjectStoreClient;
const KEY = 'alice-temp-url-key';

before(async () => {
  cloud = await startCloud('sqlite://', {}, {}, { objectStore: true });
  alice = await cloud.projectUser('member');
  store = alice.objectStore!;
  anonymous = new ObjectStoreClient(cloud.objectStoreAccountUrl(alice.projectId));
  await store.postAccount({ 'x-account-meta-temp-url-key': KEY });
});
after(() => cloud?.stop());

const account = () => `AUTH_${alice.projectId}`;

function sign(method: string, path: string, expires: number): string {
  return createHmac('sha256', KEY).update(`${method}\n${expires}\n${path}`).digest('hex');
}

describe('through the proxy', () => {
  test('/info lists the middlewares', async () => {
    const info = (await (await fetch(`${cloud.objectStore!.url}/info`)).json()) as Record<string, Record<string, unknown>>;
    assert.deepEqual(info.tempurl?.methods, ['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);
    assert.deepEqual(info.formpost?.allowed_digests, ['sha1', 'sha256', 'sha512']);
    assert.equal(info.bulk_delete?.max_deletes_per_request, 10000);
    assert.equal(info.bulk_upload?.max_containers_per_extraction, 10000);
    assert.ok(info.container_quotas && info.account_quotas);
  });

  test('a temp URL reads and writes without a token; the key stays hidden', async () => {
    await store.putContainer('shared');
    await store.putObject('shared', 'report.txt', Buffer.from('quarterly'), { headers: { 'x-object-meta-secret': 'no' } });
    const expires = Math.floor(Date.now() / 1000) + 600;
    const path = `/v1/${account()}/shared/report.txt`;
    const get = await anonymous.send('GET', '/shared/report.txt', { query: { temp_url_sig: sign('GET', path, expires), temp_url_expires: expires } });
    assert.equal(get.status, 200);
    assert.equal(get.body, 'quarterly');
    assert.equal(get.headers['content-disposition'], `attachment; filename="report.txt"; filename*=UTF-8''report.txt`);
    assert.equal(get.headers['x-object-meta-secret'], undefined);
    assert.equal((await anonymous.send('GET', '/shared/report.txt')).status, 401);
    const forged = await anonymous.send('GET', '/shared/report.txt', { query: { temp_url_sig: sign('GET', path, expires + 1), temp_url_expires: expires } });
    assert.equal(forged.status, 401);
    assert.equal(forged.body, '401 Unauthorized: Temp URL invalid\n');

    const upPath = `/v1/${account()}/shared/upload.bin`;
    const put = await anonymous.send('PUT', '/shared/upload.bin', { body: Buffer.from('from a browser'), query: { temp_url_sig: sign('PUT', upPath, expires), temp_url_expires: expires } });
    assert.equal(put.status, 201);
    assert.equal((await store.download('shared', 'upload.bin')).toString(), 'from a browser');
    // a PUT link does not delete
    const del = await anonymous.send('DELETE', '/shared/upload.bin', { query: { temp_url_sig: sign('PUT', upPath, expires), temp_url_expires: expires } });
    assert.equal(del.status, 401);
  });

  test('a signed form uploads files; one over max_file_size is refused and not stored', async () => {
    await store.putContainer('inbox');
    const path = `/v1/${account()}/inbox/`;
    const expires = String(Math.floor(Date.now() / 1000) + 600);
    const signature = createHmac('sha256', KEY).update([path, '', '20', '2', expires].join('\n')).digest('hex');
    const form = (files: [string, string][]) => {
      const boundary = 'xYzZY';
      const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      let body = field('max_file_size', '20') + field('max_file_count', '2') + field('expires', expires) + field('signature', signature);
      for (const [name, data] of files) body += `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${data}\r\n`;
      return { body: `${body}--${boundary}--\r\n`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
    };
    const ok = await anonymous.send('POST', '/inbox/', form([['note.txt', 'short note']]));
    assert.equal(ok.status, 201);
    assert.equal(ok.body, '201 Created');
    assert.equal((await store.download('inbox', 'note.txt')).toString(), 'short note');

    const big = await anonymous.send('POST', '/inbox/', form([['big.txt', 'x'.repeat(5000)]]));
    assert.equal(big.status, 400);
    assert.equal(big.body, 'FormPost: max_file_size exceeded');
    assert.equal(await store.headObject('inbox', 'big.txt'), null);
  });

  test('an archive extracts into containers, and a bulk delete clears them', async () => {
    const archive = gzipSync(tar.archive(
      tar.file('photos/2024/a.jpg', 'AAAA'),
      tar.gnuLongName(`photos/${'long-name-'.repeat(15)}.jpg`),
      tar.file('ignored', 'long name data'),
      tar.file('notes/todo.txt', 'buy milk'),
    ));
    const extracted = await store.send('PUT', '', { query: { 'extract-archive': 'tar.gz' }, body: archive, headers: { accept: 'application/json' } });
    assert.equal(extracted.status, 200);
    assert.deepEqual(JSON.parse(extracted.body), { 'Response Status': '201 Created', 'Response Body': '', 'Number Files Created': 3, Errors: [] });
    assert.equal((await store.download('photos', '2024/a.jpg')).toString(), 'AAAA');
    assert.equal((await store.download('photos', `${'long-name-'.repeat(15)}.jpg`)).toString(), 'long name data');
    assert.equal((await store.download('notes', 'todo.txt')).toString(), 'buy milk');

    const names = ['/photos/2024/a.jpg', `/photos/${'long-name-'.repeat(15)}.jpg`, '/notes/todo.txt', '/notes/gone', '/photos', '/notes'].map((n) => encodeURI(n)).join('\n');
    const deleted = await store.send('POST', '', { query: { 'bulk-delete': '' }, body: names, headers: { accept: 'application/json', 'content-type': 'text/plain' } });
    assert.equal(deleted.status, 200);
    assert.deepEqual(JSON.parse(deleted.body), { 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': 5, 'Number Not Found': 1, Errors: [] });
    assert.equal((await store.send('HEAD', '/photos')).status, 404);

    // someone else's token deletes nothing here
    const bob = await cloud.projectUser('member');
    await store.putContainer('kept');
    const refused = await new ObjectStoreClient(store.baseUrl, bob.token).send('POST', '', { query: { 'bulk-delete': '' }, body: '/kept', headers: { accept: 'application/json' } });
    assert.deepEqual(JSON.parse(refused.body).Errors, [['/kept', '403 Forbidden']]);
    assert.equal((await store.send('HEAD', '/kept')).status, 204);
  });

  test('a container quota refuses uploads and copies past it', async () => {
    await store.putContainer('capped', { 'x-container-meta-quota-bytes': '10' });
    assert.equal((await store.send('POST', '/capped', { headers: { 'x-container-meta-quota-count': 'many' } })).status, 400);
    await store.putObject('capped', 'six', Buffer.from('123456'));
    const over = await store.send('PUT', '/capped/five', { body: Buffer.from('12345') });
    assert.equal(over.status, 413);
    assert.equal(over.body, 'Upload exceeds quota.');
    const copy = await store.send('COPY', '/capped/six', { headers: { destination: 'capped/six-again' } });
    assert.equal(copy.status, 413);
    assert.equal((await store.send('PUT', '/capped/four', { body: Buffer.from('1234') })).status, 201);
  });

  test('an account quota is set by a reseller and binds the account\'s own users', async () => {
    const reseller = await cloud.projectUser('member');
    const roles = await cloud.identity.admin.send('GET', '/v3/roles?name=ResellerAdmin');
    const granted = await cloud.identity.admin.send('PUT', `/v3/projects/${reseller.projectId}/users/${reseller.userId}/roles/${roles.body.roles[0].id}`);
    assert.equal(granted.status, 204);
    const login = await new IdentityClient(cloud.identity.url).passwordLogin({ username: reseller.userName, password: 'user-pw', projectId: reseller.projectId });
    const asReseller = new ObjectStoreClient(store.baseUrl, login.token);

    assert.equal((await store.send('POST', '', { headers: { 'x-account-meta-quota-bytes': '100' } })).status, 403);
    const used = (await store.headAccount()).bytesUsed;
    assert.equal((await asReseller.send('POST', '', { headers: { 'x-account-quota-bytes': String(used + 10) } })).status, 204);
    assert.equal((await store.send('HEAD', '')).headers['x-account-quota-bytes'], String(used + 10));
    await store.putContainer('quota');
    const over = await store.send('PUT', '/quota/eleven', { body: Buffer.from('12345678901') });
    assert.equal(over.status, 413);
    assert.equal(over.body, 'Upload exceeds quota.');
    assert.equal((await store.send('PUT', '/quota/ten', { body: Buffer.from('1234567890') })).status, 201);
    assert.equal((await asReseller.send('POST', '', { headers: { 'x-remove-account-quota-bytes': '1' } })).status, 204);
    assert.equal((await store.send('PUT', '/quota/more', { body: Buffer.from('more') })).status, 201);
  });
});
