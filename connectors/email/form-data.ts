import { MalformedPayloadError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { decodeCharset } from './charsets.ts';
import { decodeEncodedWords } from './encoded-words.ts';
import { type HeaderField, binaryString, decodeHeaderBytes, headerEnd, headerValue, parseHeaderSection } from './header-section.ts';

/*
 * multipart/form-data (RFC 7578), the body SendGrid's Inbound Parse posts: read on the ack path
 * (the Message-ID is in one of its fields) and again by the processor. Its parts are form fields,
 * not mail: each keeps its bytes, in whatever charset SendGrid's `charsets` field names.
 */

/** An RFC 2231 parameter being reassembled from its numbered pieces. */
interface ExtendedParameter {
  charset?: string;
  pieces: Map<number, { text: string; encoded: boolean }>;
}

/** `type/subtype; a=1; b="x y"` with RFC 2231 extended parameters (`name*0*=utf-8''…`). */
const parseParameterized = (value: string): { value: string; params: Record<string, string> } => {
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

/** The byte ranges of the body parts between `--boundary` delimiter lines (RFC 2046 §5.1.1). */
const splitMultipart = (body: Uint8Array, boundary: string): Uint8Array[] => {
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
const splitPart = (bytes: Uint8Array): { headers: HeaderField[]; body: Uint8Array } => {
  const { headerLength, bodyStart } = headerEnd(binaryString(bytes.subarray(0, Math.min(bytes.length, 256 * 1024))));
  return {
    headers: parseHeaderSection(decodeHeaderBytes(bytes.subarray(0, headerLength))),
    body: bytes.subarray(Math.min(bodyStart, bytes.length)),
  };
};

/** One field of a multipart/form-data body, as bytes: SendGrid posts each in its own charset. */
export interface FormField {
  bytes: Uint8Array;
  filename?: string;
  contentType?: string;
}

/**
 * Parses `multipart/form-data` (RFC 7578) into fields by name, keeping each value's bytes. The Web
 * `Request.formData()` would decode every value as UTF-8, and SendGrid's Inbound Parse posts text
 * fields in the charsets its `charsets` field lists.
 *
 * @throws UnsupportedMediaTypeError when the content type is not multipart/form-data with a boundary.
 */
export function parseFormData(contentType: string | undefined, body: Uint8Array): Map<string, FormField> {
  const type = parseParameterized(contentType ?? '');
  if (type.value !== 'multipart/form-data') {
    throw new UnsupportedMediaTypeError(
      `Expected Content-Type multipart/form-data, got ${type.value || 'none'}. Point SendGrid Inbound Parse at this URL.`,
    );
  }
  const boundary = type.params.boundary;
  if (!boundary) throw new MalformedPayloadError('The multipart/form-data Content-Type has no boundary parameter.');
  const fields = new Map<string, FormField>();
  for (const part of splitMultipart(body, boundary)) {
    const { headers, body: value } = splitPart(part);
    const disposition = parseParameterized(headerValue(headers, 'content-disposition') ?? '');
    const name = disposition.params.name;
    if (disposition.value !== 'form-data' || name === undefined || fields.has(name)) continue;
    const partType = headerValue(headers, 'content-type');
    fields.set(name, {
      bytes: value,
      ...(disposition.params.filename !== undefined ? { filename: disposition.params.filename } : {}),
      ...(partType ? { contentType: partType } : {}),
    });
  }
  if (fields.size === 0) throw new MalformedPayloadError(`The multipart/form-data body has no fields delimited by its boundary.`);
  return fields;
}
