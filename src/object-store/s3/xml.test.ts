import { test } from 'node:test';
import assert from 'node:assert/strict';
import { child, children, el, parseXml, xmlDocument, XmlSyntaxError } from './xml.ts';

test('documents are built with the declaration, the S3 namespace and escaped text', () => {
  const doc = xmlDocument(el('ListBucketResult', [el('Name', 'a&b'), el('Prefix'), el('Key', '<"x">'), el('Size', 3)]));
  assert.equal(doc, '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>a&amp;b</Name><Prefix/><Key>&lt;&quot;x&quot;&gt;</Key><Size>3</Size></ListBucketResult>');
  assert.equal(xmlDocument(el('Error', [el('Code', 'X')]), { namespace: null }), '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>X</Code></Error>');
});

test('what is built parses back to the same text', () => {
  const key = 'a & b < c > "d" \'e\' é\r\n';
  const parsed = parseXml(xmlDocument(el('Delete', [el('Object', [el('Key', key)])])));
  assert.equal(child(child(parsed, 'Object')!, 'Key')!.text, key);
});

test('client bodies: namespaces, prefixes, entities, CDATA, comments', () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<s3:CompleteMultipartUpload xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">
  <s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>&quot;abc&quot;</s3:ETag></s3:Part>
  <Part><PartNumber>2</PartNumber><ETag><![CDATA["d<e>f"]]></ETag></Part>
  <Part><PartNumber>&#51;</PartNumber><ETag>&#x41;</ETag></Part>
</s3:CompleteMultipartUpload>`;
  const root = parseXml(body);
  assert.equal(root.name, 'CompleteMultipartUpload');
  assert.deepEqual(children(root, 'Part').map((p) => [child(p, 'PartNumber')!.text, child(p, 'ETag')!.text]), [['1', '"abc"'], ['2', '"d<e>f"'], ['3', 'A']]);
  assert.equal(parseXml('<A b="1" c=\'&amp;\'/>').attributes.c, '&');
});

test('malformed documents and DTDs are refused', () => {
  for (const bad of [
    '', 'text', '<a>', '<a></b>', '<a><b></a></b>', '<a/><b/>', '<a>&unknown;</a>', '<a>x & y</a>', '<a b=1/>',
    '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', 'junk<a/>',
  ]) {
    assert.throws(() => parseXml(bad), XmlSyntaxError, bad);
  }
});
