import { type Mailbox, parseAddressList, parseMessageIds } from './addresses.ts';
import { type AttachmentInfo, type HeaderField, decodeEncodedWords, headerValue, parseMime } from './mime.ts';
import { htmlToText, stripQuotedHtml, stripQuotedText } from './text.ts';

/**
 * One inbound message, as every provider's payload is reduced to before it is normalized: the
 * headers that matter, the readable text, attachment metadata. Nothing here is HTML.
 */
export interface EmailMessage {
  /** without angle brackets; absent when the sender set none */
  messageId?: string;
  inReplyTo: string[];
  references: string[];
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
export const messageFromHeaders = (headers: HeaderField[]): Omit<EmailMessage, 'text' | 'attachments'> => {
  const messageId = parseMessageIds(headerValue(headers, 'message-id'))[0];
  const from = parseAddressList(headerValue(headers, 'from'))[0];
  const date = headerValue(headers, 'date');
  return {
    ...(messageId ? { messageId } : {}),
    inReplyTo: parseMessageIds(headerValue(headers, 'in-reply-to')),
    references: parseMessageIds(headerValue(headers, 'references')),
    ...(from ? { from } : {}),
    to: parseAddressList(headerValue(headers, 'to')),
    cc: parseAddressList(headerValue(headers, 'cc')),
    subject: (decodedHeader(headers, 'subject') ?? '').replace(/\s+/g, ' ').trim(),
    ...(date ? { date } : {}),
    headers,
  };
};

/** HTML bodies lose their quoted history before they become text. */
export const htmlBodyToText = (html: string): string => htmlToText(stripQuotedHtml(html));

/** Reads a raw RFC 5322 message. */
export function messageFromMime(bytes: Uint8Array): EmailMessage {
  const parsed = parseMime(bytes, htmlBodyToText);
  return { ...messageFromHeaders(parsed.headers), text: stripQuotedText(parsed.text), attachments: parsed.attachments };
}

/**
 * Why a message cannot be a request, or undefined when it can: it needs a sender and something
 * that identifies or dates it (the least any mail system produces).
 */
export const whyNotAMessage = (headers: readonly HeaderField[]): string | undefined => {
  if (parseAddressList(headerValue(headers, 'from')).length === 0) {
    return headerValue(headers, 'from') === undefined
      ? 'it has no From header'
      : `its From header (${JSON.stringify(headerValue(headers, 'from')!.slice(0, 100))}) names no address`;
  }
  if (headerValue(headers, 'date') === undefined && headerValue(headers, 'message-id') === undefined) {
    return 'it has neither a Date nor a Message-ID header';
  }
  return undefined;
};
