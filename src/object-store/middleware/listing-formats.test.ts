import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster } from '../proxy/testing/cluster.ts';
import { bestMatch } from './accept.ts';
import { accountToXml, containerToXml, listingFormats, listingToText } from './listing-formats.ts';

const OFFERS = ['text/plain', 'application/json', 'application/xml', 'text/xml'];

describe('listing formats: choosing one', () => {
  test('no Accept header means plain text; types, wildcards and q-values pick among the rest', () => {
    assert.equal(bestMatch(undefined, OFFERS), 'text/plain');
    assert.equal(bestMatch('application/json', OFFERS), 'application/json');
    assert.equal(bestMatch('*/*', OFFERS), 'text/plain');
    assert.equal(bestMatch('application/*', OFFERS), 'application/json');
    assert.equal(bestMatch('text/xml', OFFERS), 'text/xml');
    assert.equal(bestMatch('text/plain;q=0.5, application/xml;q=0.9', OFFERS), 'application/xml');
    assert.equal(bestMatch('*/*;q=0.8, application/json', OFFERS), 'application/json');
    assert.equal(bestMatch('image/png', OFFERS), undefined);
    assert.throws(() => bestMatch('garbage', OFFERS));
    assert.throws(() => bestMatch('text/plain;q=1;q=0.5', OFFERS));
  });
});

describe('listing formats: rendering', () => {
  const objects = [
    { name: 'a&b <c>', hash: 'h', bytes: 3, content_type: 'text/plain', last_modified: '2024-01-01T00:00:00.000000' },
    { subdir: 'dir/' },
  ];

  test('container XML: objects with their fields, subdirs with a name, everything escaped', () => {
    assert.equal(
      containerToXml(objects, 'c "quoted"'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<container name="c &quot;quoted&quot;">' +
        '<object><name>a&amp;b &lt;c&gt;</name><hash>h</hash><bytes>3</bytes><content_type>text/plain</content_type>' +
        '<last_modified>2024-01-01T00:00:00.000000</last_modified></object>' +
        '<subdir name="dir/"><name>dir/</name></subdir></container>',
    );
    assert.equal(containerToXml([], 'empty'), '<?xml version="1.0" encoding="UTF-8"?>\n<container name="empty" />');
  });

  test('account XML: one container per line', () => {
    const xml = accountToXml([{ name: 'c1', count: 2, bytes: 10, last_modified: 't' }, { subdir: 'p/' }], 'AUTH_x');
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_x">\n' +
        '<container><name>c1</name><count>2</count><bytes>10</bytes><last_modified>t</last_modified></container>\n' +
        '<subdir name="p/" />\n</account>',
    );
  });

  test('plain text: one name per line', () => {
    assert.equal(listingToText(objects), 'a&b <c>\ndir/\n');
    assert.equal(listingToText([]), '');
  });
});

describe('listing formats: through the proxy', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ middlewares: [listingFormats()] });
    await cluster.call('PUT', '/v1/AUTH_lf/box', { headers: { 'content-length': '0' } });
    await cluster.call('PUT', '/v1/AUTH_lf/empty', { headers: { 'content-length': '0' } });
    for (const name of ['one', 'two & <three>', 'dir/four']) {
      await cluster.call('PUT', `/v1/AUTH_lf/box/${encodeURIComponent(name).replaceAll('%2F', '/')}`, { body: name, headers: { 'content-type': 'text/plain' } });
    }
  });
  after(() => cluster.close());

  test('plain by default: names one per line, as text/plain; charset=utf-8', async () => {
    const res = await cluster.call('GET', '/v1/AUTH_lf/box');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.text, 'dir/four\none\ntwo & <three>\n');
    assert.equal(res.headers['vary'], 'Accept');
    assert.equal((await cluster.call('GET', '/v1/AUTH_lf/box?delimiter=/')).text, 'dir/\none\ntwo & <three>\n');
  });

  test('?format=json and ?format=xml; Accept chooses when there is no format', async () => {
    const json = await cluster.call('GET', '/v1/AUTH_lf/box?format=json');
    assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(JSON.parse(json.text).length, 3);
    assert.equal(json.headers['vary'], undefined);

    const xml = await cluster.call('GET', '/v1/AUTH_lf/box?format=xml');
    assert.equal(xml.headers['content-type'], 'application/xml; charset=utf-8');
    assert.match(xml.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<container name="box"><object><name>dir\/four<\/name>/);
    assert.match(xml.text, /<name>two &amp; &lt;three&gt;<\/name>/);

    const accepted = await cluster.call('GET', '/v1/AUTH_lf/box', { headers: { accept: 'text/xml' } });
    assert.equal(accepted.headers['content-type'], 'text/xml; charset=utf-8');
    const byAccept = await cluster.call('GET', '/v1/AUTH_lf/box', { headers: { accept: 'application/json' } });
    assert.equal(JSON.parse(byAccept.text)[0].name, 'dir/four');
    const formatWins = await cluster.call('GET', '/v1/AUTH_lf/box?format=json', { headers: { accept: 'application/xml' } });
    assert.equal(formatWins.headers['content-type'], 'application/json; charset=utf-8');
  });

  test('account listings in every format', async () => {
    assert.equal((await cluster.call('GET', '/v1/AUTH_lf')).text, 'box\nempty\n');
    const json = JSON.parse((await cluster.call('GET', '/v1/AUTH_lf?format=json')).text);
    assert.deepEqual(json.map((c: { name: string }) => c.name), ['box', 'empty']);
    const xml = (await cluster.call('GET', '/v1/AUTH_lf?format=xml')).text;
    assert.match(xml, /<account name="AUTH_lf">\n<container><name>box<\/name><count>3<\/count>/);
  });

  test('empty listings: plain is a 204, JSON a 200 with [], XML the bare root', async () => {
    const plain = await cluster.call('GET', '/v1/AUTH_lf/empty');
    assert.equal(plain.status, 204);
    assert.equal(plain.text, '');
    const json = await cluster.call('GET', '/v1/AUTH_lf/empty?format=json');
    assert.equal(json.status, 200);
    assert.equal(json.text, '[]');
    const xml = await cluster.call('GET', '/v1/AUTH_lf/empty?format=xml');
    assert.equal(xml.status, 200);
    assert.match(xml.text, /<container name="empty" \/>$/);
    assert.equal((await cluster.call('GET', '/v1/AUTH_nobody_here')).status, 204);
  });

  test('HEAD says the type a GET would have', async () => {
    const head = await cluster.call('HEAD', '/v1/AUTH_lf/box?format=xml');
    assert.equal(head.status, 204);
    assert.equal(head.headers['content-type'], 'application/xml; charset=utf-8');
  });

  test('an Accept nothing matches is a 406; one that does not parse a 400; errors pass through', async () => {
    assert.equal((await cluster.call('GET', '/v1/AUTH_lf/box', { headers: { accept: 'image/png' } })).status, 406);
    const bad = await cluster.call('GET', '/v1/AUTH_lf/box', { headers: { accept: 'nonsense' } });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Invalid Accept header/);
    assert.equal((await cluster.call('GET', '/v1/AUTH_lf/missing?format=xml')).status, 404);
    assert.equal((await cluster.call('GET', '/v1/AUTH_lf/box?limit=10001&format=xml')).status, 412);
  });

  test('objects are not listings: left alone', async () => {
    const res = await cluster.call('GET', '/v1/AUTH_lf/box/one?format=xml');
    assert.equal(res.text, 'one');
    assert.equal(res.headers['content-type'], 'text/plain');
  });
});
