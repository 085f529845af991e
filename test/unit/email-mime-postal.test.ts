import { readdirSync } from 'node:fs';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { parseMessageIds } from '../../connectors/email/addresses.ts';
import { htmlBodyToText, messageFromMime } from '../../connectors/email/message.ts';
import { decodeCharset, parseMime } from '../../connectors/email/mime.ts';
import { htmlToText } from '../../connectors/email/text.ts';
import { EMAIL_FIXTURES, emailFixture } from '../support/email.ts';

/*
 * postal-mime is a maintained MIME parser, but asynchronous only, while `normalize` is synchronous
 * and pure: the connector parses with its own reader, and this suite holds that reader to
 * postal-mime's answers on every fixture.
 */
const fixtures = readdirSync(EMAIL_FIXTURES).filter((name) => name.endsWith('.eml'));

/**
 * postal-mime decodes with TextDecoder, and Node 20's TextDecoder reads windows-1252 as ISO-8859-1
 * (0x93 becomes the control U+0093, not “): its windows-1252 text is decoded again, correctly.
 */
const fixWindows1252 = (text: string, bytes: Buffer): string =>
  /charset="?windows-1252/i.test(bytes.toString('latin1')) ? decodeCharset(Buffer.from(text, 'latin1'), 'windows-1252') : text;

const crlf = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));
const EDGE_CASES: Record<string, Buffer> = {
  'RFC 2231 continuations and an encoded word split in a character': crlf(
    `From: =?UTF-8?B?5pel5pys?= =?UTF-8?B?6Kqe?= <jp@x.example>\nSubject: =?UTF-8?B?5pel5pys6Kqe44OG44K5?= =?UTF-8?B?44OI?=\nDate: Mon, 4 Mar 2024 09:00:00 +0000\nMessage-ID: <edge-1@x.example>\n` +
      `Content-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: 7bit\n\n\x1b$B%F%9%H\x1b(B\n` +
      `--outer\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename*0*=UTF-8''R%C3%A9sum; filename*1*=%C3%A9.pdf\nContent-Transfer-Encoding: base64\n\nAAECAwQ=\n--outer--\n`,
  ),
  'KOI8-R quoted-printable with a soft break': crlf(
    'From: ivan@x.example\nSubject: =?koi8-r?Q?=F0=D2=C9=D7=C5=D4?=\nDate: Mon, 4 Mar 2024 09:00:00 +0000\nMessage-ID: <edge-2@x.example>\n' +
      'Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: quoted-printable\n\n=F0=D2=C9=D7=C5=D4, =\n=CD=C9=D2\n',
  ),
};
const cases: [string, Buffer][] = [...fixtures.map((name): [string, Buffer] => [name, emailFixture(name)]), ...Object.entries(EDGE_CASES)];

describe('the MIME reader agrees with postal-mime', () => {
  it.each(cases)('on %s', async (_, bytes) => {
    const expected = await PostalMime.parse(bytes);
    const message = messageFromMime(bytes);
    const parsed = parseMime(bytes, htmlToText);
    expect(message.subject).toBe(expected.subject);
    expect(message.from).toEqual({ ...(expected.from?.name ? { name: expected.from.name } : {}), address: expected.from?.address?.toLowerCase() });
    expect(message.messageId).toBe(parseMessageIds(expected.messageId)[0]);
    expect(message.inReplyTo).toEqual(parseMessageIds(expected.inReplyTo));
    expect(message.references).toEqual(parseMessageIds(expected.references));
    expect(new Date(message.date!).toISOString()).toBe(expected.date);
    if (expected.text !== undefined) expect(parsed.text.trim()).toBe(expected.text.replace(/\r\n/g, '\n').trim());
    else expect(parsed.text).toBe(htmlToText(fixWindows1252(expected.html ?? '', bytes)));
    expect(parsed.attachments).toEqual(
      expected.attachments.map((a) => ({
        ...(a.filename ? { name: a.filename } : {}),
        contentType: a.mimeType,
        size: typeof a.content === 'string' ? Buffer.byteLength(a.content) : a.content.byteLength,
      })),
    );
  });

  it('converts HTML bodies the same way whichever parser extracted them', async () => {
    const bytes = emailFixture('request-html-only.eml');
    expect(messageFromMime(bytes).text).toBe(htmlBodyToText(fixWindows1252((await PostalMime.parse(bytes)).html!, bytes)));
  });
});
