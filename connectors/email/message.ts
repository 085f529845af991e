import { type Mailbox, parseAddressList, parseMessageIds, senderOf } from './addresses.ts';
import { c1ToWindows1252 } from './charsets.ts';
import { decodeEncodedWords } from './encoded-words.ts';
import { type HeaderField, headerValue, readHeaders } from './header-section.ts';
import { loadMimeParser } from './mime-parser.ts';
import { htmlToText, stripQuotedHtml, stripQuotedText } from './text.ts';

/** An attachment as Tributary keeps it: metadata only, the content is never stored. */
export interface AttachmentInfo {
  name?: string;
  contentType: string;
  /** decoded size in bytes */
  size: number;
}

/**
 * One inbound message, as every provider's payload is reduced to before it is normalized: the
 * headers that matter, the readable text, attachment metadata. Nothing here is HTML.
 */
export interface EmailMessage {
  /** without angle brackets; absent when the sender set none */
  messageId?: string;
  inReplyTo: string[];
  references: string[];
  /** who sent it (connectors/email/addresses.ts `senderOf`); absent when no header names anyone */
  from?: Mailbox;
  /** To, then Cc (the recipients that can name the team) */
  to: Mailbox[];
  cc: Mailbox[];
  subject: string;
  /** the `Date` header as sent */
  date?: string;
  /** plain text, quoted history removed where detectable */
  text: string;
  attachments: AttachmentInfo[];
  /** all header fields, names lowercased (priority headers, auto-submitted markers…) */
  headers: HeaderField[];
}

/** A header value with encoded words decoded. */
export const decodedHeader = (headers: readonly HeaderField[], name: string): string | undefined => {
  const value = headerValue(headers, name);
  return value === undefined ? undefined : decodeEncodedWords(value);
};

/** The parts of a message that come from its header fields. */
export const messageFromHeaders = async (headers: HeaderField[]): Promise<Omit<EmailMessage, 'text' | 'attachments'>> => {
  const messageId = parseMessageIds(headerValue(headers, 'message-id'))[0];
  const from = await senderOf(headers);
  const date = headerValue(headers, 'date');
  return {
    ...(messageId ? { messageId } : {}),
    inReplyTo: parseMessageIds(headerValue(headers, 'in-reply-to')),
    references: parseMessageIds(headerValue(headers, 'references')),
    ...(from ? { from } : {}),
    to: await parseAddressList(headerValue(headers, 'to')),
    cc: await parseAddressList(headerValue(headers, 'cc')),
    subject: (decodedHeader(headers, 'subject') ?? '').replace(/\s+/g, ' ').trim(),
    ...(date ? { date } : {}),
    headers,
  };
};

/** HTML bodies lose their quoted history before they become text. */
export const htmlBodyToText = (html: string): string => htmlToText(stripQuotedHtml(html));

/**
 * Reads a raw RFC 5322 message: the body (text, HTML, attachments) with postal-mime, the header
 * fields with the header reader the ack path uses, so both name the message by the same Message-ID.
 *
 * Only the plain text is read when there is any; an HTML-only message is converted by
 * {@link htmlBodyToText} (link targets kept, quoted history dropped). A `message/rfc822` part is an
 * attachment unless it is marked inline. postal-mime's text is repaired where Node 20 decodes
 * windows-1252 wrong ({@link c1ToWindows1252}).
 *
 * @throws Error when postal-mime refuses the message (its nesting or header-size limits).
 */
export async function messageFromMime(bytes: Uint8Array): Promise<EmailMessage> {
  const { default: PostalMime } = await loadMimeParser();
  let parsed: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    parsed = await PostalMime.parse(bytes, { rfc822Attachments: true });
  } catch (cause) {
    throw new Error(`postal-mime could not parse the message: ${(cause as Error).message}`, { cause });
  }
  const text = parsed.text !== undefined ? c1ToWindows1252(parsed.text) : parsed.html !== undefined ? htmlBodyToText(c1ToWindows1252(parsed.html)) : '';
  return {
    ...(await messageFromHeaders(readHeaders(bytes))),
    text: stripQuotedText(text.replace(/\r\n?/g, '\n')),
    attachments: parsed.attachments.map((attachment) => ({
      ...(attachment.filename ? { name: c1ToWindows1252(attachment.filename) } : {}),
      contentType: attachment.mimeType,
      size: typeof attachment.content === 'string' ? Buffer.byteLength(attachment.content) : attachment.content.byteLength,
    })),
  };
}
