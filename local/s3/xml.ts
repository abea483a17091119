import { S3Errors } from './errors.ts';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

// Characters XML would otherwise drop or normalize (CR, control chars) are written as numeric references.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000d\u000e-\u001f]/g, (c) => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
}

type XmlValue = string | number | boolean | undefined | null;

/** `<name>escaped value</name>`, or nothing when the value is absent. */
export function textElement(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>…already rendered children…</name>`. */
export function element(name: string, ...children: string[]): string {
  return `<${name}>${children.join('')}</${name}>`;
}

/** A complete response document whose root carries the S3 namespace. */
export function xmlDocument(rootName: string, ...children: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${rootName} xmlns="${S3_XMLNS}">${children.join('')}</${rootName}>`;
}

export interface XmlElement {
  /** Local name, without any namespace prefix. */
  name: string;
  children: XmlElement[];
  /** The element's own text (text and CDATA directly inside it), entities decoded, not trimmed. */
  text: string;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (_whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const named = Object.hasOwn(NAMED_ENTITIES, ref) ? NAMED_ENTITIES[ref] : undefined;
    if (named === undefined) throw S3Errors.malformedXml();
    return named;
  });
}

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon === -1 ? qualified : qualified.slice(colon + 1);
}

/**
 * Parses the small request documents S3 accepts (Delete, CompleteMultipartUpload, VersioningConfiguration,
 * CreateBucketConfiguration). Attributes are ignored; anything not well formed is MalformedXML.
 */
export function parseXml(source: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const fail = () => S3Errors.malformedXml();

  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const textEnd = lt === -1 ? source.length : lt;
    if (textEnd > i) {
      const text = source.slice(i, textEnd);
      const parent = stack.at(-1);
      if (parent) parent.text += decodeEntities(text);
      else if (text.trim() !== '') throw fail();
    }
    if (lt === -1) break;

    if (source.startsWith('<?', lt)) {
      const end = source.indexOf('?>', lt);
      if (end === -1) throw fail();
      i = end + 2;
    } else if (source.startsWith('<!--', lt)) {
      const end = source.indexOf('-->', lt);
      if (end === -1) throw fail();
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt);
      const parent = stack.at(-1);
      if (end === -1 || !parent) throw fail();
      parent.text += source.slice(lt + 9, end);
      i = end + 3;
    } else if (source.startsWith('<!', lt)) {
      // DOCTYPE and friends: refused, as S3 does, and it keeps entity expansion out.
      throw fail();
    } else if (source.startsWith('</', lt)) {
      const end = source.indexOf('>', lt);
      if (end === -1) throw fail();
      const name = localName(source.slice(lt + 2, end).trim());
      const open = stack.pop();
      if (!open || open.name !== name) throw fail();
      i = end + 1;
    } else {
      const end = source.indexOf('>', lt);
      if (end === -1) throw fail();
      let inner = source.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) inner = inner.slice(0, -1);
      const match = /^([A-Za-z_][\w.:-]*)/.exec(inner);
      if (!match) throw fail();
      const node: XmlElement = { name: localName(match[1]), children: [], text: '' };
      const parent = stack.at(-1);
      if (parent) parent.children.push(node);
      else if (root) throw fail();
      else root = node;
      if (!selfClosing) stack.push(node);
      i = end + 1;
    }
  }
  if (!root || stack.length > 0) throw fail();
  return root;
}

export function childElements(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c) => c.name === name);
}

export function childText(parent: XmlElement, name: string): string | undefined {
  return parent.children.find((c) => c.name === name)?.text;
}
