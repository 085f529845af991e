import { MalformedPayloadError } from '../../core/errors.ts';
import { decodeWindows1252 } from './charsets.ts';

/**
 * The header section of a message (RFC 5322 §2.2), read without its body: what the ack path needs
 * to name a delivery (its Message-ID), and what the processor reads the message's own fields from,
 * so both always agree on the Message-ID. The body is postal-mime's (connectors/email/message.ts).
 */

/** One header field as it appears, name lowercased, value unfolded but not decoded. */
export interface HeaderField {
  name: string;
  value: string;
}

/** The most of a message searched for the end of its header section (postal-mime's own cap is 2 MiB). */
const MAX_HEADER_BYTES = 256 * 1024;

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Bytes as a string with one char per byte (ISO-8859-1), so offsets found in it slice the bytes. */
export const binaryString = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** Where the header section ends: at the first empty line (CRLF CRLF, or LF LF from bare-LF mail). */
export const headerEnd = (text: string): { headerLength: number; bodyStart: number } => {
  // A part without header fields starts with the empty line.
  const empty = /^\r?\n/.exec(text);
  if (empty) return { headerLength: 0, bodyStart: empty[0].length };
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { headerLength: text.length, bodyStart: text.length };
  return { headerLength: match.index, bodyStart: match.index + match[0].length };
};

/** Header text as sent: 8-bit bytes are UTF-8 (RFC 6532) when they decode as such, else windows-1252. */
export const decodeHeaderBytes = (bytes: Uint8Array): string => {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
};

/** Parses a header section: unfolds continuation lines (RFC 5322 §2.2.3), keeps field order. */
export const parseHeaderSection = (text: string): HeaderField[] => {
  const fields: HeaderField[] = [];
  for (const line of text.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    // A line without a colon (or a leading mbox `From ` line) is not a field.
    if (colon <= 0 || /\s/.test(line.slice(0, colon).trimEnd())) continue;
    fields.push({ name: line.slice(0, colon).trimEnd().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
};

/** The first value of a header field, or undefined. */
export const headerValue = (headers: readonly HeaderField[], name: string): string | undefined =>
  headers.find((field) => field.name === name)?.value;

/** A UTF-8 byte order mark, which a script writing the message to a file may have put first. */
const withoutBom = (bytes: Uint8Array): Uint8Array => (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes);

/** Just the header fields of a message, without reading the body: cheap enough for the ack path. */
export const readHeaders = (message: Uint8Array): HeaderField[] => {
  const bytes = withoutBom(message);
  const { headerLength } = headerEnd(binaryString(bytes.subarray(0, Math.min(bytes.length, MAX_HEADER_BYTES))));
  return parseHeaderSection(decodeHeaderBytes(bytes.subarray(0, headerLength)));
};

/*
 * A field name is printable ASCII (RFC 5322 §2.2); real ones are tokens (letters, digits, `-`),
 * which is what tells a message from JSON, HTML or prose posted by mistake. Whitespace before the
 * colon is the obsolete syntax of RFC 5322 §4.5. An mbox `From ` line may come first (a pipe from
 * a local delivery agent keeps it).
 */
const FIRST_FIELD = /^(?:From [^\r\n]*\r?\n)?[A-Za-z0-9][A-Za-z0-9!#$%&'*+.^_`|~-]*[ \t]*:/;

/**
 * The header fields of what must be a MIME message: the ack path refuses only a body that does not
 * start with a header field (nothing can read it as mail). Missing fields (From, Date, Message-ID)
 * are for the processor to judge.
 *
 * @throws MalformedPayloadError naming what the body starts with instead.
 */
export const readMessageHeaders = (bytes: Uint8Array, what: string): HeaderField[] => {
  const start = binaryString(withoutBom(bytes).subarray(0, 1024));
  if (!FIRST_FIELD.test(start)) {
    const firstLine = start.split(/\r?\n/, 1)[0]!.slice(0, 60);
    const instead = bytes.length === 0 ? 'it is empty' : `it starts with ${firstLine ? JSON.stringify(firstLine) : 'an empty line'}`;
    throw new MalformedPayloadError(`${what} is not a MIME message: a message starts with a header field such as "From: …", and ${instead}.`);
  }
  return readHeaders(bytes);
};
