import { describe, expect, it } from 'vitest';
import { parseAddressList, parseMessageIds } from '../../connectors/email/addresses.ts';
import { decodeCharset } from '../../connectors/email/charsets.ts';
import { decodeEncodedWords } from '../../connectors/email/encoded-words.ts';
import { readHeaders, readMessageHeaders } from '../../connectors/email/header-section.ts';
import { messageFromMime } from '../../connectors/email/message.ts';
import { htmlToText, stripQuotedHtml, stripQuotedText, trimText } from '../../connectors/email/text.ts';
import { emailFixture } from '../support/email.ts';

const crlf = (text: string) => new TextEncoder().encode(text.replace(/\r?\n/g, '\r\n'));

describe('messageFromMime (postal-mime) on real-shaped messages', () => {
  it('reads a multipart/mixed request: the plain alternative (quoted-printable UTF-8), and the attachment as metadata only', async () => {
    const message = await messageFromMime(emailFixture('request-multipart-qp.eml'));
    expect(message).toMatchObject({
      messageId: 'CAH5o0vW1x+checkout-502@mail.gmail.com',
      from: { name: 'Ana Lima', address: 'ana.lima@customer.example' },
      to: [{ name: 'Platform Requests', address: 'platform@acme.example' }],
      cc: [{ address: 'bob@customer.example' }],
      subject: '[urgent] Checkout returns 502 in staging – blocks Friday release',
      date: 'Mon, 4 Mar 2024 09:15:02 -0800',
      inReplyTo: [],
      references: [],
    });
    expect(message.text).toContain('returns 502 for every request — the error budget');
    expect(message.text).toContain('Grüße aus München');
    // Soft line breaks are joined, `=3D` is decoded.
    expect(message.text).toContain('https://grafana.customer.example/d/checkout?orgId=1&from=now-6h&to=now&var-env=staging');
    expect(message.text).not.toContain('<p>');
    expect(message.attachments).toEqual([{ name: 'Fehlerbericht März.pdf', contentType: 'application/pdf', size: 3088 }]);
  });

  it('decodes ISO-8859-1: encoded-word From and Subject, quoted-printable body', async () => {
    const message = await messageFromMime(emailFixture('request-latin1.eml'));
    expect(message.from).toEqual({ name: 'José Muñoz', address: 'jose.munoz@correo.example' });
    expect(message.subject).toBe('Petición: réplica de base de datos para informes');
    expect(message.text).toContain('Necesitamos una réplica de sólo lectura');
    expect(message.text).toContain('Está relacionado con ACME-7');
  });

  it('converts an HTML-only windows-1252 body to text, dropping style and script, keeping link targets', async () => {
    const message = await messageFromMime(emailFixture('request-html-only.eml'));
    expect(message.subject).toBe('New laptop request for Chloé');
    expect(message.text).toBe(
      'A new laptop was requested for Chloé – “MacBook Pro 14”.\nSee the IT issue (https://github.com/acme/it/issues/5) & blocked by ACME-9.',
    );
  });

  it('drops Outlook quoted history from a base64 reply and keeps its threading headers', async () => {
    const message = await messageFromMime(emailFixture('reply-from-team.eml'));
    expect(message.messageId).toBe('SN6PR04MB4976A1B2C3D4E5F6@SN6PR04MB4976.namprd04.prod.outlook.com');
    expect(message.inReplyTo).toEqual(['CAH5o0vW1x+checkout-502@mail.gmail.com']);
    expect(message.subject).toBe('RE: [urgent] Checkout returns 502 in staging – blocks Friday release');
    expect(message.cc.map((c) => c.address)).toEqual(['platform@acme.example', 'bob@customer.example']);
    expect(message.text).toBe("Hi Ana,\n\nWe're on it: the pool size change of ACME-42 is being rolled back, tracked in PLAT-310.\n\nJoe");
  });

  it('drops a Gmail attribution split over two lines and the quoted lines after it', async () => {
    const message = await messageFromMime(emailFixture('reply-from-requester.eml'));
    expect(message.references).toEqual([
      'CAH5o0vW1x+checkout-502@mail.gmail.com',
      'SN6PR04MB4976A1B2C3D4E5F6@SN6PR04MB4976.namprd04.prod.outlook.com',
    ]);
    expect(message.text).toBe('Still failing after the rollback, see octo/web#88 for the client side.');
  });

  it('tolerates bare LF line ends, a missing Content-Type and a multipart cut off before its end', async () => {
    const truncated = new TextEncoder().encode(
      'From: a@x.example\nDate: Mon, 4 Mar 2024 09:00:00 +0000\nContent-Type: multipart/mixed; boundary=b1\n\n' +
        '--b1\nContent-Type: text/plain\n\nfirst part\n--b1\nContent-Type: application/zip; name=logs.zip\nContent-Transfer-Encoding: base64\n\nUEsDBA',
    );
    const message = await messageFromMime(truncated);
    expect(message.text).toBe('first part');
    expect(message.attachments).toEqual([{ name: 'logs.zip', contentType: 'application/zip', size: 4 }]);
    expect((await messageFromMime(new TextEncoder().encode('From: a@x.example\n\nplain body\n'))).text).toBe('plain body');
  });

  it('reads the header section alone, without the body', () => {
    const headers = readHeaders(emailFixture('request-multipart-qp.eml'));
    expect(headers.find((h) => h.name === 'message-id')?.value).toBe('<CAH5o0vW1x+checkout-502@mail.gmail.com>');
    expect(headers.find((h) => h.name === 'received')?.value).toMatch(/^from mail-wr1-f52\.google\.com .* \(UTC\)$/);
  });

  it('reads a nested message/rfc822 part as an attachment, not as the text', async () => {
    const forwarded = (disposition: string) =>
      crlf(
        'From: a@x.example\nContent-Type: multipart/mixed; boundary="outer"\n\n--outer\nContent-Type: text/plain\n\nsee the forwarded mail\n' +
          `--outer\nContent-Type: message/rfc822\n${disposition}\nFrom: b@y.example\nSubject: inner\n\ninner body\n--outer--\n`,
      );
    for (const disposition of ['Content-Disposition: attachment; filename="original.eml"\n', '']) {
      const message = await messageFromMime(forwarded(disposition));
      expect(message.text).toBe('see the forwarded mail');
      expect(message.attachments).toEqual([{ ...(disposition ? { name: 'original.eml' } : {}), contentType: 'message/rfc822', size: expect.any(Number) }]);
    }
  });

  it('fails with postal-mime\'s reason on a message nested deeper than it reads', async () => {
    let body = 'Content-Type: text/plain\r\n\r\nbottom\r\n';
    for (let i = 300; i > 0; i--) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
    await expect(messageFromMime(Buffer.from(`From: a@b.example\r\n${body}`))).rejects.toThrow(/postal-mime could not parse the message: .*nesting depth/i);
  });
});

describe('the header reader of the ack path', () => {
  it('reads the fields of a message, unfolded, with 8-bit values as UTF-8 or else windows-1252', () => {
    const headers = readMessageHeaders(Buffer.from('From: Jos\xe9 <jose@correo.example>\r\nSubject : caf\xe9\r\n  au lait\r\n\r\nbody', 'latin1'), 'The body');
    expect(headers).toEqual([
      { name: 'from', value: 'José <jose@correo.example>' },
      { name: 'subject', value: 'café  au lait' },
    ]);
    expect(readMessageHeaders(Buffer.from('From: Jörg <jörg@müller.example>\r\n\r\n'), 'The body')).toEqual([{ name: 'from', value: 'Jörg <jörg@müller.example>' }]);
  });

  it('refuses only what does not start with a header field, naming what it starts with', () => {
    expect(() => readMessageHeaders(Buffer.from('Hello team, the build is broken: see ACME-1'), 'The body')).toThrow(
      'The body is not a MIME message: a message starts with a header field such as "From: …", and it starts with "Hello team, the build is broken: see ACME-1".',
    );
    expect(readMessageHeaders(Buffer.from('X-Anything: 1\r\n\r\n'), 'The body')).toEqual([{ name: 'x-anything', value: '1' }]);
    expect(readMessageHeaders(Buffer.from('\ufeffFrom: a@b.example\r\n\r\n'), 'The body')).toEqual([{ name: 'from', value: 'a@b.example' }]);
  });
});

describe('MIME building blocks', () => {
  it('joins encoded words split inside a multi-byte character, and drops the space between encoded words only', () => {
    // "日本語" split across two B-encoded words in the middle of a character (RFC 2047 §5 forbids it; encoders do it anyway).
    const bytes = Buffer.from('日本語テスト', 'utf8');
    const word = (b: Buffer) => `=?UTF-8?B?${b.toString('base64')}?=`;
    expect(decodeEncodedWords(`${word(bytes.subarray(0, 4))} ${word(bytes.subarray(4))}`)).toBe('日本語テスト');
    expect(decodeEncodedWords(`=?UTF-8?B?${bytes.subarray(0, 4).toString('base64')}?= =?utf-8?q?${[...bytes.subarray(4, 6)].map((b) => `=${b.toString(16).toUpperCase()}`).join('')}?=`)).toBe('日本');
    expect(decodeEncodedWords('=?ISO-8859-1?Q?Andr=E9?= Pirard <a@b>')).toBe('André Pirard <a@b>');
    expect(decodeEncodedWords('=?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=')).toBe('テスト');
    expect(decodeEncodedWords('plain =?utf-8?q?caf=C3=A9_au_lait?= here')).toBe('plain café au lait here');
    expect(decodeEncodedWords('=?utf-8?q?a?= b =?utf-8?q?c?=')).toBe('a b c');
  });

  it('decodes back-to-back ISO-2022-JP words word by word, each ending in ASCII (RFC 1468)', () => {
    expect(decodeEncodedWords('=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=')).toBe('日本語テスト');
    expect(decodeEncodedWords('=?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=\r\n =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=')).toBe('テストテスト');
  });

  it('decodes windows-1252 curly quotes (which Node 20 gets wrong) and falls back for unknown charsets', () => {
    expect(decodeCharset(Uint8Array.of(0x93, 0x68, 0x69, 0x94, 0x80), 'windows-1252')).toBe('“hi”€');
    expect(decodeCharset(Uint8Array.of(0x93, 0x68, 0x69, 0x94), 'iso-8859-1')).toBe('“hi”');
    expect(decodeCharset(new TextEncoder().encode('naïve'), 'x-unknown-charset')).toBe('naïve');
    expect(decodeCharset(Uint8Array.of(0x6e, 0x61, 0xef, 0x76, 0x65), undefined)).toBe('naïve');
    expect(decodeCharset(Uint8Array.of(0xf0, 0xe5, 0xe4), 'koi8-r')).toBe('ПЕД');
    expect(decodeEncodedWords('=?windows-1252?Q?=93hi=94?=')).toBe('“hi”');
  });

  it('parses address lists with quoted names, comments, groups and encoded words', async () => {
    expect(
      await parseAddressList('"Park, Joe" <Joe.Park@ACME.example>, ana@customer.example (Ana Lima), Team: x@y.example, z@y.example;, =?UTF-8?Q?Ren=C3=A9e?= <renee@c.example>, not an address'),
    ).toEqual([
      { name: 'Park, Joe', address: 'joe.park@acme.example' },
      { name: 'Ana Lima', address: 'ana@customer.example' },
      { address: 'x@y.example' },
      { address: 'z@y.example' },
      { name: 'Renée', address: 'renee@c.example' },
    ]);
  });

  it('reads message ids with or without angle brackets', () => {
    expect(parseMessageIds('<a@b> <c@d>\r\n <e@f>')).toEqual(['a@b', 'c@d', 'e@f']);
    expect(parseMessageIds('a@b')).toEqual(['a@b']);
    expect(parseMessageIds('')).toEqual([]);
  });
});

describe('mail text', () => {
  it('keeps a forwarded message but cuts the history after an attribution', () => {
    expect(stripQuotedText('FYI\n\n---------- Forwarded message ---------\nFrom: x\n\nACME-1 is down')).toContain('ACME-1 is down');
    expect(stripQuotedText('Thanks!\n\nLe lun. 4 mars 2024 à 10:00, Ana <a@b> a écrit :\n> old')).toBe('Thanks!');
  });

  it('trims long text at a line end', () => {
    const text = `${'a'.repeat(90)}\n${'b'.repeat(30)}`;
    expect(trimText(text, 100)).toBe('a'.repeat(90));
    expect(trimText('short', 100)).toBe('short');
  });

  it('keeps the text of tags that never close, and drops an unclosed quote to the end, in one pass', () => {
    expect(htmlToText('<p>Fixes ACME-1 <a href="https://x.test/browse/ACME-2">the ticket')).toBe('Fixes ACME-1 the ticket (https://x.test/browse/ACME-2)');
    expect(stripQuotedHtml('<p>Please help</p><blockquote>On Monday Ana wrote: <p>old')).toBe('<p>Please help</p>');
    // A signed payload may carry half a megabyte of this: patterns that rescan the rest from
    // every `<` took seconds to minutes.
    const strays = '<a <div <li '.repeat(20_000);
    expect(htmlToText(`<p>Fixes ACME-3</p>${strays}`)).toBe(`Fixes ACME-3\n${strays.trim()}`);
    const anchors = '<a href="https://x.test/">y '.repeat(20_000);
    expect(htmlToText(anchors)).toBe(`${'y '.repeat(20_000)}(https://x.test/)`);
    expect(stripQuotedHtml(`<p>Fixes ACME-3</p>${'<blockquote><div class="gmail_quote" '.repeat(20_000)}`)).toBe('<p>Fixes ACME-3</p>');
  });

  it('turns lists, breaks and entities into text', () => {
    expect(htmlToText('<ul><li>one</li><li>two &amp; three</li></ul><p>a<br/>b&#8217;s &#x2014; c&nbsp;d</p>')).toBe('- one\n- two & three\na\nb’s — c d');
  });
});

describe('multipart edge cases', () => {
  it('reads a part without header fields as text/plain, and does not mistake a nested boundary sharing a prefix', async () => {
    const message = await messageFromMime(
      crlf(
        'From: a@x.example\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\n\nno headers here\nSubject: not a header\n\n' +
          '--b1\nContent-Type: multipart/alternative; boundary="b10"\n\n--b10\nContent-Type: text/plain\n\nnested\n--b10--\n--b1--\n',
      ),
    );
    expect(message.text).toBe('no headers here\nSubject: not a header\n\nnested');
  });
});
