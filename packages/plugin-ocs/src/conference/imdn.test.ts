import { describe, expect, it } from 'vitest';
import { fc } from '../../../../test/helpers/fuzz.js';
import { DocumentError, XmlError } from '../xml.js';
import { failureReason, parseImdn, undelivered } from './imdn.js';

const NS = 'http://schemas.microsoft.com/rtc/2005/08/imdn';

describe('MCU delivery reports ([MS-CONFIM] 2.2.2)', () => {
  it("reads the spec's example: the message id, the recipient's address and status, and the ms-diagnostics reason", () => {
    const body =
      `<?xml version="1.0" encoding="utf-8"?><imdn xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="${NS}"><message-id>2</message-id>` +
      `<recipient uri="&lt;sip:Bob@contoso.com ;opaque=user:epid:d7NL6_mHNFSL3I1rbITi2gAA;gruu&gt;"><status>408</status>` +
      `<entry><key>ms-diagnostics</key><value>6001;source="server.microsoft.com"; reason="Request Timeout";component="ImMcu" </value></entry></recipient>` +
      `<recipient uri="sip:carol@contoso.com"><status>200</status></recipient></imdn>`;
    const report = parseImdn(body);
    expect(report).toEqual({
      messageId: '2',
      recipients: [
        { address: 'bob@contoso.com', status: 408, reason: 'Request Timeout' },
        { address: 'carol@contoso.com', status: 200 },
      ],
    });
    expect(report.recipients.filter(undelivered).map(failureReason)).toEqual(['408 (did not answer in time): Request Timeout']);
  });

  it('a missing or unreadable status is a failure; hostile addresses and reasons are left out or made one line', () => {
    const report = parseImdn(
      `<imdn xmlns="${NS}"><message-id> 7 </message-id>` +
        `<recipient uri="&lt;sip:a@x.test&#13;&#10;Via: evil&gt;"><status>abc</status><entry><key>MS-Diagnostics</key><value>1;reason="line&#10;two"</value></entry></recipient>` +
        `<recipient><status>-1</status></recipient><recipient uri="sip:b@x.test"/><unknown/></imdn>`,
    );
    expect(report.messageId).toBe('7');
    expect(report.recipients).toEqual([
      { address: undefined, status: undefined, reason: 'line two' },
      { address: undefined, status: undefined },
      { address: 'b@x.test', status: undefined },
    ]);
    expect(report.recipients.every(undelivered)).toBe(true);
    expect(failureReason(report.recipients[2]!)).toBe('the conference service could not deliver it');
  });

  it('refuses what is not a report: malformed or truncated XML, another document, no message id', () => {
    expect(() => parseImdn(`<imdn xmlns="${NS}"><message-id>1</message-id><recipient`)).toThrow(XmlError);
    expect(() => parseImdn('')).toThrow(XmlError);
    expect(() => parseImdn('<conference-info/>')).toThrow(DocumentError);
    expect(() => parseImdn(`<imdn xmlns="${NS}"><recipient uri="sip:a@x.test"><status>408</status></recipient></imdn>`)).toThrow(DocumentError);
    expect(() => parseImdn(`<imdn xmlns="${NS}"><message-id>${'9'.repeat(300)}</message-id></imdn>`)).toThrow(DocumentError);
  });

  it('any input: a report or a typed error, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (tail) => {
        try {
          const report = parseImdn(`<imdn xmlns="${NS}"><message-id>1</message-id>${tail}`);
          for (const r of report.recipients) expect(r.address === undefined || /^[^\s<>]+@[^\s<>]+$/.test(r.address)).toBe(true);
        } catch (error) {
          expect(error instanceof XmlError || error instanceof DocumentError).toBe(true);
        }
      }),
    );
  });
});
