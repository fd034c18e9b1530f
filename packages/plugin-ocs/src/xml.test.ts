import { describe, expect, it } from 'vitest';
import { child, children, escapeXml, parseXml, textAt, XmlError } from './xml.js';

describe('parseXml', () => {
  it('reads elements, attributes, namespaces and text', () => {
    const doc = parseXml(
      '<?xml version="1.0"?><contactList deltaNum="3" xmlns="http://schemas.microsoft.com/sip/types" xmlns:x="urn:x">' +
        '<group id="1" name="~"/><contact uri="bob@example.test" name="Bob &amp; Co" groups="1 2"><x:ext>&#x263A;&lt;</x:ext></contact></contactList>',
    );
    expect(doc.name).toBe('contactList');
    expect(doc.ns).toBe('http://schemas.microsoft.com/sip/types');
    expect(doc.attrs.deltaNum).toBe('3');
    expect(children(doc, 'contact')[0]!.attrs.name).toBe('Bob & Co');
    expect(child(doc, 'contact/ext')!.ns).toBe('urn:x');
    expect(textAt(doc, 'contact/ext')).toBe('☺<');
  });

  it('keeps CDATA verbatim and skips comments', () => {
    const doc = parseXml('<a><!-- hi --><![CDATA[<b>&amp;</b>]]></a>');
    expect(doc.text).toBe('<b>&amp;</b>');
  });

  it.each([
    ['a DOCTYPE (entity expansion)', '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>'],
    ['an undeclared entity', '<a>&lol;</a>'],
    ['an external entity reference', '<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>'],
    ['a mismatched tag', '<a><b></a></b>'],
    ['an unclosed element', '<a><b>'],
    ['two roots', '<a/><b/>'],
    ['text outside the root', 'hello<a/>'],
    ['an undeclared prefix', '<x:a/>'],
    ['a bad attribute', '<a b=c/>'],
    ['a duplicate attribute', '<a b="1" b="2"/>'],
    ['an empty document', ''],
    ['a bad character reference', '<a>&#0;</a>'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseXml(text)).toThrow(XmlError);
  });

  it('bounds size, depth and element count', () => {
    expect(() => parseXml(`<a>${'x'.repeat(100)}</a>`, { maxChars: 50 })).toThrow(/too large/);
    expect(() => parseXml(`${'<a>'.repeat(100)}${'</a>'.repeat(100)}`)).toThrow(/nested too deeply/);
    expect(() => parseXml(`<a>${'<b/>'.repeat(60_000)}</a>`)).toThrow(/Too many elements/);
  });

  it('escapes what it writes', () => {
    const hostile = `</body><x a="1">&'"\u0001`;
    const doc = parseXml(`<a t="${escapeXml(hostile)}">${escapeXml(hostile)}</a>`);
    expect(doc.text).toBe(hostile.replace('\u0001', ''));
    expect(doc.attrs.t).toBe(hostile.replace('\u0001', ''));
  });
});
