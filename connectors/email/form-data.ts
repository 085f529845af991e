import { MalformedPayloadError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { headerValue, parseParameterized, splitMultipart, splitPart } from './mime.ts';

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
