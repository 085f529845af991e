/**
 * Bytes to text in a mail charset, through `TextDecoder` (Node's full ICU knows ISO-8859-*,
 * windows-125x, KOI8-R, Shift_JIS, ISO-2022-JP, GB18030…), with the one decoding Node gets wrong
 * done here. Used for what postal-mime does not decode for the hub: encoded words (see
 * encoded-words.ts) and SendGrid's form fields.
 */

/** windows-1252 at 0x80–0x9f (undefined positions keep their C1 code point). */
const WINDOWS_1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * C1 control characters (U+0080–U+009F) read as the windows-1252 characters at those bytes.
 *
 * WHATWG maps `iso-8859-1`, `us-ascii` and `windows-1252` to windows-1252, but Node 20's
 * TextDecoder decodes that encoding as plain ISO-8859-1 (0x93 becomes U+0093, not “; Node 22 is
 * right): Outlook's curly quotes and euro signs would vanish. No mail means a C1 control, so text
 * decoded elsewhere (postal-mime's bodies) is repaired with this on every runtime alike.
 */
export const c1ToWindows1252 = (text: string): string =>
  text.replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]!);

/** Bytes as windows-1252, decoded here since Node 20 cannot (see {@link c1ToWindows1252}). */
export const decodeWindows1252 = (bytes: Uint8Array): string =>
  c1ToWindows1252(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));

const utf8 = new TextDecoder('utf-8');
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

const decoderFor = (label: string): ((bytes: Uint8Array) => string) | undefined => {
  try {
    const decoder = new TextDecoder(label);
    return decoder.encoding === 'windows-1252' ? decodeWindows1252 : (bytes) => decoder.decode(bytes);
  } catch {
    return undefined;
  }
};

/** The charset label itself: lowercased, unquoted, without an RFC 2231 language (`utf-8*en`). */
export const charsetLabel = (charset: string | undefined): string =>
  (charset ?? '').split('*', 1)[0]!.trim().toLowerCase().replace(/^"|"$/g, '');

/** Decodes bytes in a charset, falling back to UTF-8 (and windows-1252 for invalid UTF-8). */
export const decodeCharset = (bytes: Uint8Array, charset: string | undefined): string => {
  const label = charsetLabel(charset);
  const isUtf8 = label === 'utf-8' || label === 'utf8';
  // ASCII is decoded as UTF-8: mail labelled us-ascii often is not, and UTF-8 is the likelier truth.
  if (label && !isUtf8 && label !== 'us-ascii' && label !== 'ascii') {
    const decode = decoderFor(label);
    // An unknown label falls through: the bytes are most likely UTF-8 or Latin-1 anyway.
    if (decode) return decode(bytes);
  }
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return isUtf8 ? utf8.decode(bytes) : decodeWindows1252(bytes);
  }
};
