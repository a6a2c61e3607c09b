// The little XML S3 speaks: documents built from nested elements, and the request bodies
// clients send (CreateBucketConfiguration, Delete, CompleteMultipartUpload) read back into
// elements. No DTDs, no entities beyond the five predefined and character references, so
// nothing in a body can make the parser fetch or expand anything.

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** the element's own text (character data directly inside it, concatenated) */
  text: string;
}

/** What builders take: an element with text, child elements, or nothing (an empty element). */
export type XmlContent = string | number | XmlNode[] | undefined;
export interface XmlNode {
  name: string;
  content?: XmlContent;
  attributes?: Record<string, string>;
}

export function el(name: string, content?: XmlContent, attributes?: Record<string, string>): XmlNode {
  return { name, content, attributes };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\r': '&#13;' })[c]!);
}

function render(node: XmlNode): string {
  const attrs = Object.entries(node.attributes ?? {}).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
  const c = node.content;
  if (c === undefined || (Array.isArray(c) && c.length === 0) || c === '') return `<${node.name}${attrs}/>`;
  const inner = Array.isArray(c) ? c.map(render).join('') : escapeXml(String(c));
  return `<${node.name}${attrs}>${inner}</${node.name}>`;
}

/** A whole document: the declaration, then the root in the S3 namespace unless told otherwise. */
export function xmlDocument(root: XmlNode, opts: { namespace?: string | null } = {}): string {
  const ns = opts.namespace === undefined ? S3_NAMESPACE : opts.namespace;
  const withNs = ns ? { ...root, attributes: { xmlns: ns, ...(root.attributes ?? {}) } } : root;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(withNs)}`;
}

export class XmlSyntaxError extends Error {}

const NAME = /^[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?/;

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlSyntaxError('a bare & in character data');
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (!(ref in named)) throw new XmlSyntaxError(`unknown entity ${whole}`);
    return named[ref]!;
  });
}

/** The local part of a possibly prefixed name: S3 bodies come with and without namespaces. */
function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** Parses a document into its root element; XmlSyntaxError when it is not well formed. */
export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;

  const fail = (why: string): never => {
    throw new XmlSyntaxError(`${why} at offset ${i}`);
  };
  const skipUntil = (end: string) => {
    const at = source.indexOf(end, i);
    if (at < 0) fail(`unterminated construct, expected ${end}`);
    i = at + end.length;
  };

  if (source.charCodeAt(0) === 0xfeff) i = 1;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const text = source.slice(i, lt < 0 ? source.length : lt);
    if (text) {
      if (stack.length === 0) {
        if (text.trim()) fail('text outside the root element');
      } else {
        stack[stack.length - 1]!.text += decodeEntities(text);
      }
    }
    if (lt < 0) break;
    i = lt;
    if (source.startsWith('<?', i)) {
      skipUntil('?>');
    } else if (source.startsWith('<!--', i)) {
      skipUntil('-->');
    } else if (source.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) fail('CDATA outside the root element');
      const end = source.indexOf(']]>', i);
      if (end < 0) fail('unterminated CDATA');
      stack[stack.length - 1]!.text += source.slice(i + 9, end);
      i = end + 3;
    } else if (source.startsWith('<!', i)) {
      fail('document type declarations are not accepted');
    } else if (source.startsWith('</', i)) {
      const m = NAME.exec(source.slice(i + 2));
      if (!m) fail('bad end tag');
      const open = stack.pop();
      if (!open || open.name !== localName(m![0])) fail(`mismatched end tag ${m![0]}`);
      i += 2 + m![0].length;
      while (/\s/.test(source[i] ?? '')) i++;
      if (source[i] !== '>') fail('bad end tag');
      i++;
    } else {
      const m = NAME.exec(source.slice(i + 1));
      if (!m) fail('bad start tag');
      const element: XmlElement = { name: localName(m![0]), attributes: {}, children: [], text: '' };
      i += 1 + m![0].length;
      let selfClosing = false;
      for (;;) {
        while (/\s/.test(source[i] ?? '')) i++;
        if (source.startsWith('/>', i)) {
          selfClosing = true;
          i += 2;
          break;
        }
        if (source[i] === '>') {
          i++;
          break;
        }
        const attr = /^([A-Za-z_][\w.\-:]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(source.slice(i));
        if (!attr) fail('bad attribute');
        element.attributes[attr![1]!] = decodeEntities(attr![3] ?? attr![4] ?? '');
        i += attr![0].length;
      }
      if (stack.length === 0) {
        if (root) fail('a second root element');
        root = element;
      } else {
        stack[stack.length - 1]!.children.push(element);
      }
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length > 0) fail(`unclosed element ${stack[stack.length - 1]!.name}`);
  if (!root) fail('no root element');
  return root!;
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function children(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}
