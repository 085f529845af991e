/**
 * A small, pure MIME reader (RFC 5322 messages, RFC 2045–2047 and 2231): header unfolding and
 * encoded words, multipart trees, base64 and quoted-printable, charsets through `TextDecoder`
 * (Node's full ICU knows ISO-8859-*, windows-125x, KOI8-R, Shift_JIS, ISO-2022-JP, GB18030…).
 * It reads what Tributary needs (headers, the text of the message, attachment metadata) and
 * tolerates what real mail does wrong: bare LF line ends, unknown charsets, truncated multiparts.
 */

/** One header field as it appears, name lowercased, value unfolded but not decoded. */
export interface HeaderField {
  name: string;
  value: string;
}

/** An attachment as Tributary keeps it: metadata only, the content is never stored. */
export interface AttachmentInfo {
  name?: string;
  contentType: string;
  /** decoded size in bytes */
  size: number;
}

export interface MimePart {
  headers: HeaderField[];
  /** `type/subtype`, lowercased; `text/plain` when absent (RFC 2045 §5.2) */
  contentType: string;
  params: Readonly<Record<string, string>>;
  disposition?: string;
  filename?: string;
  /** the decoded content of a leaf part */
  content: Uint8Array;
  children: MimePart[];
}

/** A parsed message: its header fields and the parts tree. */
export interface ParsedMime {
  headers: HeaderField[];
  root: MimePart;
  /** the readable text: text/plain preferred, else HTML converted to text */
  text: string;
  /** true when the text came from an HTML part (no text/plain alternative) */
  textFromHtml: boolean;
  attachments: AttachmentInfo[];
}

const MAX_DEPTH = 16;
const MAX_PARTS = 500;

const utf8 = new TextDecoder('utf-8');
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Bytes as a string with one char per byte (ISO-8859-1), so offsets found in it slice the bytes. */
const binaryString = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** windows-1252 at 0x80–0x9f (undefined positions keep their C1 code point). */
const WINDOWS_1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/*
 * WHATWG maps `iso-8859-1`, `us-ascii` and `windows-1252` to windows-1252, but Node 20's
 * TextDecoder decodes that encoding as plain ISO-8859-1 (0x93 becomes U+0093, not “): Outlook's
 * curly quotes would vanish. So this one is decoded here.
 */
const decodeWindows1252 = (bytes: Uint8Array): string =>
  binaryString(bytes).replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]!);

const decoderFor = (label: string): ((bytes: Uint8Array) => string) | undefined => {
  try {
    const decoder = new TextDecoder(label);
    return decoder.encoding === 'windows-1252' ? decodeWindows1252 : (bytes) => decoder.decode(bytes);
  } catch {
    return undefined;
  }
};

/** Decodes bytes in a charset, falling back to UTF-8 (and windows-1252 for invalid UTF-8). */
export const decodeCharset = (bytes: Uint8Array, charset: string | undefined): string => {
  const label = (charset ?? '').trim().toLowerCase().replace(/^"|"$/g, '');
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

/** Where the header section ends: at the first empty line (CRLF CRLF, or LF LF from bare-LF mail). */
const headerEnd = (text: string): { headerLength: number; bodyStart: number } => {
  // A part without header fields starts with the empty line.
  const empty = /^\r?\n/.exec(text);
  if (empty) return { headerLength: 0, bodyStart: empty[0].length };
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { headerLength: text.length, bodyStart: text.length };
  return { headerLength: match.index, bodyStart: match.index + match[0].length };
};

/** Header text as sent: 8-bit bytes are UTF-8 (RFC 6532) when they decode as such, else Latin-1. */
const decodeHeaderBytes = (bytes: Uint8Array): string => {
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
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) continue;
    fields.push({ name: line.slice(0, colon).toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
};

/** The first value of a header field, or undefined. */
export const headerValue = (headers: readonly HeaderField[], name: string): string | undefined =>
  headers.find((field) => field.name === name)?.value;

/** Just the header fields of a message, without reading the body: cheap enough for the ack path. */
export const readHeaders = (bytes: Uint8Array): HeaderField[] => splitPart(bytes).headers;

const base64Decode = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64'));

/** Quoted-printable (RFC 2045 §6.7): `=XX` escapes and `=` soft line breaks. */
export const quotedPrintableDecode = (bytes: Uint8Array): Uint8Array => {
  const out = new Uint8Array(bytes.length);
  let length = 0;
  const hex = (c: number): number =>
    c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte !== 61 /* = */) {
      out[length++] = byte;
      continue;
    }
    const a = bytes[i + 1];
    const b = bytes[i + 2];
    if (a === 13 && b === 10) {
      i += 2;
    } else if (a === 10) {
      i += 1;
    } else if (a !== undefined && b !== undefined && hex(a) >= 0 && hex(b) >= 0) {
      out[length++] = hex(a) * 16 + hex(b);
      i += 2;
    } else {
      // Trailing whitespace after a soft break, or a stray `=`: keep what is not an escape.
      let j = i + 1;
      while (bytes[j] === 32 || bytes[j] === 9) j++;
      if (bytes[j] === 13 && bytes[j + 1] === 10) i = j + 1;
      else if (bytes[j] === 10) i = j;
      else out[length++] = byte;
    }
  }
  return out.subarray(0, length);
};

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

const decodeWordBytes = (encoding: string, text: string): Uint8Array =>
  encoding.toUpperCase() === 'B'
    ? base64Decode(text)
    : quotedPrintableDecode(new TextEncoder().encode(text.replace(/_/g, ' ')));

/**
 * Decodes RFC 2047 encoded words (`=?ISO-8859-1?Q?Andr=E9?=`). Whitespace between two encoded
 * words is dropped (§6.2), and adjacent words in one charset are joined as bytes first, since
 * encoders split multi-byte characters across words.
 */
export const decodeEncodedWords = (value: string): string => {
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: Uint8Array[] } | undefined;
  const flush = () => {
    if (!pending) return;
    out += decodeCharset(Buffer.concat(pending.bytes), pending.charset);
    pending = undefined;
  };
  for (const match of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, match.index);
    const charset = match[1]!.split('*', 1)[0]!.toLowerCase();
    if (!pending || !/^\s*$/.test(between)) {
      flush();
      out += between;
    } else if (pending.charset !== charset) {
      flush();
    }
    const bytes = decodeWordBytes(match[2]!, match[3]!);
    if (pending) pending.bytes.push(bytes);
    else pending = { charset, bytes: [bytes] };
    last = match.index + match[0].length;
  }
  flush();
  return out + value.slice(last);
};

/** An RFC 2231 parameter being reassembled from its numbered pieces. */
interface ExtendedParameter {
  charset?: string;
  pieces: Map<number, { text: string; encoded: boolean }>;
}

/** `type/subtype; a=1; b="x y"` with RFC 2231 extended parameters (`name*0*=utf-8''…`). */
export const parseParameterized = (value: string): { value: string; params: Record<string, string> } => {
  const segments: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && quoted) {
      current += value[++i] ?? '';
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      segments.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  segments.push(current);
  const head = segments.shift()!.trim().toLowerCase();
  const plain: Record<string, string> = {};
  const extended = new Map<string, ExtendedParameter>();
  for (const segment of segments) {
    const eq = segment.indexOf('=');
    if (eq < 0) continue;
    const key = segment.slice(0, eq).trim().toLowerCase();
    let raw = segment.slice(eq + 1).trim();
    if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) raw = raw.slice(1, -1);
    const parts = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key);
    if (!parts || (parts[2] === undefined && parts[3] === undefined)) {
      plain[key] = raw;
      continue;
    }
    const name = parts[1]!;
    const index = Number(parts[2] ?? 0);
    const encoded = parts[3] !== undefined;
    const entry: ExtendedParameter = extended.get(name) ?? { pieces: new Map() };
    let text = raw;
    if (encoded && index === 0) {
      const initial = /^([^']*)'[^']*'(.*)$/.exec(raw);
      if (initial) {
        entry.charset = initial[1] || undefined;
        text = initial[2]!;
      }
    }
    entry.pieces.set(index, { text, encoded });
    extended.set(name, entry);
  }
  for (const [name, entry] of extended) {
    const bytes: number[] = [];
    for (const index of [...entry.pieces.keys()].sort((a, b) => a - b)) {
      const piece = entry.pieces.get(index)!;
      const text = piece.text;
      for (let i = 0; i < text.length; i++) {
        const hex = piece.encoded && text[i] === '%' ? /^[0-9a-fA-F]{2}$/.exec(text.slice(i + 1, i + 3)) : null;
        if (hex) {
          bytes.push(parseInt(hex[0], 16));
          i += 2;
        } else {
          bytes.push(...new TextEncoder().encode(text[i]!));
        }
      }
    }
    plain[name] = decodeCharset(new Uint8Array(bytes), entry.charset);
  }
  // Non-standard but common: encoded words inside quoted parameter values (`name="=?UTF-8?B?…?="`).
  for (const [key, v] of Object.entries(plain)) if (v.includes('=?')) plain[key] = decodeEncodedWords(v);
  return { value: head, params: plain };
};

const decodeTransfer = (bytes: Uint8Array, encoding: string | undefined): Uint8Array => {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'base64':
      return base64Decode(binaryString(bytes));
    case 'quoted-printable':
      return quotedPrintableDecode(bytes);
    default:
      return bytes;
  }
};

/** The byte ranges of the body parts between `--boundary` delimiter lines (RFC 2046 §5.1.1). */
export const splitMultipart = (body: Uint8Array, boundary: string): Uint8Array[] => {
  const text = binaryString(body);
  const delimiter = `--${boundary}`;
  const parts: Uint8Array[] = [];
  let start: number | undefined;
  let position = 0;
  for (;;) {
    let found = text.indexOf(delimiter, position);
    // A delimiter is a line of its own: it starts the body or follows a line break, and ends with
    // `--`, transport padding or the line end (so `--b1` does not match a nested `--b10`).
    while (found >= 0 && ((found > 0 && text[found - 1] !== '\n') || !/^(?:--|[ \t]*(?:\r?\n|$))/.test(text.slice(found + delimiter.length, found + delimiter.length + 3)))) {
      found = text.indexOf(delimiter, found + 1);
    }
    if (found < 0) {
      // A truncated message: the last part runs to the end.
      if (start !== undefined) parts.push(body.subarray(start));
      return parts;
    }
    if (start !== undefined) {
      // The line break before the delimiter belongs to the delimiter.
      let end = found;
      if (text[end - 1] === '\n') end--;
      if (text[end - 1] === '\r') end--;
      parts.push(body.subarray(start, Math.max(start, end)));
    }
    const after = found + delimiter.length;
    if (text.startsWith('--', after)) return parts;
    const lineEnd = text.indexOf('\n', after);
    if (lineEnd < 0) return parts;
    start = lineEnd + 1;
    position = start;
  }
};

/** A part's header fields and its (still encoded) body. */
export const splitPart = (bytes: Uint8Array): { headers: HeaderField[]; body: Uint8Array } => {
  const { headerLength, bodyStart } = headerEnd(binaryString(bytes.subarray(0, Math.min(bytes.length, 256 * 1024))));
  return {
    headers: parseHeaderSection(decodeHeaderBytes(bytes.subarray(0, headerLength))),
    body: bytes.subarray(Math.min(bodyStart, bytes.length)),
  };
};

const parsePart = (bytes: Uint8Array, depth: number, budget: { parts: number }): MimePart => {
  budget.parts++;
  const { headers, body } = splitPart(bytes);
  const type = parseParameterized(headerValue(headers, 'content-type') ?? 'text/plain');
  const contentType = /^[\w.+-]+\/[\w.+-]+$/.test(type.value) ? type.value : 'text/plain';
  const disposition = headerValue(headers, 'content-disposition');
  const parsedDisposition = disposition ? parseParameterized(disposition) : undefined;
  const filename = parsedDisposition?.params.filename ?? type.params.name;
  const part: MimePart = {
    headers,
    contentType,
    params: type.params,
    ...(parsedDisposition?.value ? { disposition: parsedDisposition.value } : {}),
    ...(filename ? { filename: decodeEncodedWords(filename) } : {}),
    content: new Uint8Array(0),
    children: [],
  };
  const boundary = type.params.boundary;
  if (contentType.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    for (const child of splitMultipart(body, boundary)) {
      if (budget.parts >= MAX_PARTS) break;
      part.children.push(parsePart(child, depth + 1, budget));
    }
    return part;
  }
  part.content = decodeTransfer(body, headerValue(headers, 'content-transfer-encoding'));
  return part;
};

const isAttachment = (part: MimePart): boolean =>
  part.disposition === 'attachment' ||
  (!part.contentType.startsWith('text/plain') && !part.contentType.startsWith('text/html')) ||
  (part.filename !== undefined && part.disposition !== 'inline');

const partText = (part: MimePart): string => decodeCharset(part.content, part.params.charset);

interface Collected {
  plain: string[];
  html: string[];
  attachments: AttachmentInfo[];
}

/**
 * Walks the tree: the inline text of every branch, and the attachments. In a
 * multipart/alternative only one alternative is read: the plain one when there is one.
 */
const collect = (part: MimePart, into: Collected): void => {
  if (part.contentType.startsWith('multipart/')) {
    if (part.contentType === 'multipart/alternative' && part.children.length > 0) {
      const plain = part.children.find((c) => c.contentType === 'text/plain' && !isAttachment(c));
      const chosen = plain ?? part.children.at(-1)!;
      for (const child of part.children) {
        if (child === chosen) collect(child, into);
        else collectAttachmentsOnly(child, into);
      }
      return;
    }
    for (const child of part.children) collect(child, into);
    return;
  }
  if (isAttachment(part)) {
    into.attachments.push({
      ...(part.filename ? { name: part.filename } : {}),
      contentType: part.contentType,
      size: part.content.byteLength,
    });
    return;
  }
  if (part.contentType === 'text/html') into.html.push(partText(part));
  else into.plain.push(partText(part));
};

const collectAttachmentsOnly = (part: MimePart, into: Collected): void => {
  const scratch: Collected = { plain: [], html: [], attachments: [] };
  collect(part, scratch);
  into.attachments.push(...scratch.attachments);
};

/**
 * Parses a whole RFC 5322 message. Never throws on content: what cannot be read is skipped.
 * `htmlToText` converts HTML-only bodies (injected to keep this module about MIME).
 */
export const parseMime = (bytes: Uint8Array, htmlToText: (html: string) => string): ParsedMime => {
  const root = parsePart(bytes, 0, { parts: 0 });
  const collected: Collected = { plain: [], html: [], attachments: [] };
  collect(root, collected);
  const textFromHtml = collected.plain.length === 0 && collected.html.length > 0;
  const text = textFromHtml ? collected.html.map(htmlToText).join('\n\n') : collected.plain.join('\n\n');
  return { headers: root.headers, root, text: text.replace(/\r\n?/g, '\n'), textFromHtml, attachments: collected.attachments };
};
