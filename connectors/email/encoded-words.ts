import { charsetLabel, decodeCharset } from './charsets.ts';

/**
 * RFC 2047 encoded words (`=?ISO-8859-1?Q?Andr=E9?=`), decoded where postal-mime 4.0 gets them
 * wrong (docs/postal-mime-corrections.md):
 *
 * - adjacent words of one charset are decoded as one byte string: encoders split a multi-byte
 *   character between two words (RFC 2047 §5 forbids it; Gmail, Outlook and mailing-list software
 *   do it anyway), and postal-mime joins only base64 words whose first one has no padding;
 * - except the stateful ISO-2022 charsets, decoded word by word: each word starts and ends in
 *   ASCII (RFC 1468), and Node's TextDecoder inserts U+FFFD between two back-to-back escape
 *   sequences when the bytes of two words are joined;
 * - whitespace between two encoded words is dropped (§6.2), whatever their charsets;
 * - charsets go through {@link decodeCharset} (windows-1252 right on Node 20 too).
 */

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/** ISO-2022-JP, -JP-2, -KR, -CN, and Microsoft's ISO-2022-JP code pages (50220–50222). */
const isStateful = (charset: string): boolean => /^(?:cs)?iso-?2022|^(?:cp|windows-|x-cp)5022[012]$/.test(charset);

const hex = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/** The `Q` encoding (RFC 2047 §4.2): `_` is a space, `=XX` a byte; anything else stands for itself. */
const decodeQ = (text: string): Uint8Array => {
  const bytes = new TextEncoder().encode(text);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const high = byte === 61 /* = */ ? hex(bytes[i + 1] ?? -1) : -1;
    const low = high >= 0 ? hex(bytes[i + 2] ?? -1) : -1;
    if (low >= 0) {
      out.push(high * 16 + low);
      i += 2;
    } else {
      out.push(byte === 95 /* _ */ ? 32 : byte);
    }
  }
  return Uint8Array.from(out);
};

const decodeWordBytes = (encoding: string, text: string): Uint8Array =>
  encoding.toUpperCase() === 'B' ? new Uint8Array(Buffer.from(text, 'base64')) : decodeQ(text);

interface Word {
  charset: string;
  bytes: Uint8Array;
}

/** The text of a run of adjacent encoded words. */
const decodeRun = (words: readonly Word[]): string => {
  let out = '';
  let group: Word[] = [];
  const flush = () => {
    if (group.length > 0) out += decodeCharset(Buffer.concat(group.map((word) => word.bytes)), group[0]!.charset);
    group = [];
  };
  for (const word of words) {
    if (group.length > 0 && (group[0]!.charset !== word.charset || isStateful(word.charset))) flush();
    group.push(word);
  }
  flush();
  return out;
};

/**
 * Replaces every run of encoded words (words separated by nothing but linear whitespace) with
 * `render(its decoded text)`; the text between runs is kept as it is.
 */
const mapEncodedWords = (value: string, render: (decoded: string) => string): string => {
  let out = '';
  let run: Word[] = [];
  /** where the last encoded word ended */
  let runEnd = 0;
  const flush = () => {
    if (run.length > 0) out += render(decodeRun(run));
    run = [];
  };
  for (const match of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(runEnd, match.index);
    if (run.length === 0 || !/^[ \t\r\n]*$/.test(between)) {
      flush();
      out += between;
    }
    run.push({ charset: charsetLabel(match[1]), bytes: decodeWordBytes(match[2]!, match[3]!) });
    runEnd = match.index + match[0].length;
  }
  flush();
  return out + value.slice(runEnd);
};

/** Decodes the encoded words of a header value (`Subject`, a display name, a file name). */
export const decodeEncodedWords = (value: string): string => (value.includes('=?') ? mapEncodedWords(value, (decoded) => decoded) : value);

/**
 * The same header value with every run of encoded words rewritten as one UTF-8 base64 word holding
 * the right text: what a parser that decodes words itself (postal-mime's `addressParser`) is
 * handed, so the address syntax around the words is left to it.
 */
export const reencodeEncodedWords = (value: string): string =>
  value.includes('=?') ? mapEncodedWords(value, (decoded) => `=?UTF-8?B?${Buffer.from(decoded, 'utf8').toString('base64')}?=`) : value;
