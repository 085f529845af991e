import { readdirSync } from 'node:fs';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { parseMessageIds } from '../../connectors/email/addresses.ts';
import { c1ToWindows1252 } from '../../connectors/email/charsets.ts';
import { htmlBodyToText, messageFromMime } from '../../connectors/email/message.ts';
import { stripQuotedText } from '../../connectors/email/text.ts';
import { EMAIL_FIXTURES, emailFixture } from '../support/email.ts';

/*
 * The hub parses mail with postal-mime and corrects it where it is wrong
 * (docs/postal-mime-corrections.md). Each case below states postal-mime's own answer too: when an
 * upgrade fixes one, its expectation fails, and the correction can go.
 */

const crlf = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));
const message = (headers: string, body = 'hi\n') => crlf(`${headers}\nDate: Mon, 4 Mar 2024 09:00:00 +0000\nMessage-ID: <c@x.example>\n\n${body}`);
const base64Word = (bytes: Uint8Array, charset = 'UTF-8') => `=?${charset}?B?${Buffer.from(bytes).toString('base64')}?=`;
/** Whether this runtime's TextDecoder reads windows-1252 as WHATWG says (Node 22 does, Node 20 does not). */
const nodeDecodesWindows1252 = new TextDecoder('windows-1252').decode(Uint8Array.of(0x93)) === '“';

describe('where postal-mime is wrong, the hub corrects it', () => {
  const japanese = Buffer.from('日本語テスト', 'utf8');
  const splitSubject = `${base64Word(japanese.subarray(0, 4))} ${base64Word(japanese.subarray(4))}`;

  it('decodes a UTF-8 character split between two base64 encoded words (a subject, a display name)', async () => {
    const bytes = message(`From: ${splitSubject} <jp@x.example>\nSubject: ${splitSubject}`);
    const postal = await PostalMime.parse(bytes);
    expect(postal.subject).toBe('日\ufffd\ufffd\ufffd語テスト');
    expect(postal.from?.name).toBe('日\ufffd\ufffd\ufffd語テスト');
    const read = await messageFromMime(bytes);
    expect(read.subject).toBe('日本語テスト');
    expect(read.from).toEqual({ name: '日本語テスト', address: 'jp@x.example' });
  });

  it('decodes a UTF-8 character split between a base64 and a quoted-printable word', async () => {
    const qWord = `=?UTF-8?Q?${[...japanese.subarray(4, 6)].map((b) => `=${b.toString(16).toUpperCase()}`).join('')}?=`;
    const bytes = message(`From: jp@x.example\nSubject: ${base64Word(japanese.subarray(0, 4))} ${qWord}`);
    expect((await PostalMime.parse(bytes)).subject).toMatch(/\ufffd/);
    expect((await messageFromMime(bytes)).subject).toBe('日本');
  });

  it('keeps a joined run joined when another run of the header needs decoding word by word', async () => {
    const subject = '=?UTF-8?B?YWLD?= =?UTF-8?B?qQ==?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=';
    const bytes = message(`From: a@x.example\nSubject: ${subject}`);
    expect((await PostalMime.parse(bytes)).subject).toBe('ab\ufffd\ufffdテストテスト');
    expect((await messageFromMime(bytes)).subject).toBe('abéテストテスト');
  });

  it('reads windows-1252 text right on Node 20 too, where TextDecoder reads it as ISO-8859-1', async () => {
    const bytes = Buffer.concat([
      message('From: a@x.example\nSubject: quotes\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit', ''),
      Uint8Array.of(0x93, 0x68, 0x69, 0x94, 0x20, 0x80, 0x35),
    ]);
    expect((await PostalMime.parse(bytes)).text).toBe(nodeDecodesWindows1252 ? '“hi” €5\n' : '\u0093hi\u0094 \u00805\n');
    expect((await messageFromMime(bytes)).text).toBe('“hi” €5');
  });
});

describe('ISO-2022-JP encoded words, decoded word by word', () => {
  const words = '=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=';

  it('since joining their bytes makes Node\'s TextDecoder insert U+FFFD between them', () => {
    const joined = Buffer.concat([Buffer.from('GyRCRnxLXDhsGyhC', 'base64'), Buffer.from('GyRCJUYlOSVIGyhC', 'base64')]);
    expect(new TextDecoder('iso-2022-jp').decode(joined)).toBe('日本語\ufffdテスト');
  });

  it('as postal-mime does (it retries word by word when a join decodes to U+FFFD), and so does the hub', async () => {
    const bytes = message(`From: jp@x.example\nSubject: ${words}`);
    expect((await PostalMime.parse(bytes)).subject).toBe('日本語テスト');
    expect((await messageFromMime(bytes)).subject).toBe('日本語テスト');
  });
});

describe('everywhere else the hub reads what postal-mime reads', () => {
  /** fixtures written to show a case above, and the field the correction changes */
  const CORRECTED: Record<string, readonly string[]> = {
    'subject-utf8-split-words.eml': ['subject', 'from'],
    // RFC 5322 §3.6.2: with several authors in From, the Sender is who sent it.
    'sender-several-authors.eml': ['from'],
  };
  const fixtures = readdirSync(EMAIL_FIXTURES).filter((name) => name.endsWith('.eml'));

  it.each(fixtures)('on %s', async (name) => {
    const bytes = emailFixture(name);
    const expected = await PostalMime.parse(bytes);
    const read = await messageFromMime(bytes);
    const corrected = CORRECTED[name] ?? [];
    if (!corrected.includes('subject')) expect(read.subject).toBe((expected.subject ?? '').replace(/\s+/g, ' ').trim());
    if (!corrected.includes('from')) {
      const from = expected.from?.address ? { ...(expected.from.name ? { name: expected.from.name } : {}), address: expected.from.address.toLowerCase() } : undefined;
      expect(read.from).toEqual(from);
    }
    expect(read.messageId).toBe(parseMessageIds(expected.messageId)[0]);
    expect(read.inReplyTo).toEqual(parseMessageIds(expected.inReplyTo));
    expect(read.references).toEqual(parseMessageIds(expected.references));
    if (expected.date) expect(new Date(read.date!).toISOString()).toBe(expected.date);
    else expect(read.date).toBeUndefined();
    const text = expected.text !== undefined ? stripQuotedText(c1ToWindows1252(expected.text).replace(/\r\n/g, '\n')) : htmlBodyToText(c1ToWindows1252(expected.html ?? ''));
    expect(read.text).toBe(stripQuotedText(text));
    expect(read.attachments).toEqual(
      expected.attachments.map((a) => ({
        ...(a.filename ? { name: a.filename } : {}),
        contentType: a.mimeType,
        size: typeof a.content === 'string' ? Buffer.byteLength(a.content) : a.content.byteLength,
      })),
    );
  });
});
