import { MalformedPayloadError } from '../../../core/errors.ts';
import { verifyBasicAuth } from '../auth.ts';
import { decodeCharset } from '../charsets.ts';
import { type FormField, parseFormData } from '../form-data.ts';
import { type HeaderField, parseHeaderSection, readMessageHeaders } from '../header-section.ts';
import { type AttachmentInfo, type EmailMessage, htmlBodyToText, messageFromHeaders, messageFromMime } from '../message.ts';
import { type EmailProviderAdapter, contentIdOf, deliveryIdFor } from '../provider.ts';
import { stripQuotedText } from '../text.ts';

/**
 * SendGrid Inbound Parse posts multipart/form-data, in one of two shapes:
 * - parsed (default): `headers` (the raw header section), `text`, `html`, `charsets` (the charset
 *   of each text field, as JSON), `attachment-info` and `attachment1…N` files;
 * - "POST the raw, full MIME message": the message in an `email` field.
 * https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
 */
type Form = Map<string, FormField>;

const rawMessageOf = (form: Form): Uint8Array | undefined => form.get('email')?.bytes;

const charsetsOf = (form: Form): Record<string, string> => {
  const field = form.get('charsets');
  if (!field) return {};
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(field.bytes));
    return typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
};

const textField = (form: Form, name: string, charsets: Record<string, string>): string | undefined => {
  const field = form.get(name);
  return field ? decodeCharset(field.bytes, charsets[name] ?? 'utf-8') : undefined;
};

const headersOf = (form: Form): HeaderField[] => {
  const headers = form.get('headers');
  if (!headers) {
    throw new MalformedPayloadError(
      'The form has neither an "email" field (raw mode) nor a "headers" field (parsed mode): it is not a SendGrid Inbound Parse post.',
    );
  }
  // Header sections are ASCII with encoded words, or UTF-8 (RFC 6532).
  return parseHeaderSection(decodeCharset(headers.bytes, 'utf-8'));
};

const attachmentsOf = (form: Form): AttachmentInfo[] => {
  let info: Record<string, { filename?: string; name?: string; type?: string }> = {};
  const field = form.get('attachment-info');
  if (field) {
    try {
      info = JSON.parse(new TextDecoder().decode(field.bytes)) as typeof info;
    } catch {
      info = {};
    }
  }
  return [...form.entries()]
    .filter(([name, value]) => /^attachment\d+$/.test(name) && value.filename !== undefined)
    .map(([name, value]) => {
      const meta = info[name] ?? {};
      const filename = meta.filename ?? meta.name ?? value.filename;
      const type = meta.type ?? value.contentType ?? 'application/octet-stream';
      return { ...(filename ? { name: filename } : {}), contentType: type.split(';', 1)[0]!.trim().toLowerCase(), size: value.bytes.byteLength };
    });
};

const messageOf = async (form: Form): Promise<EmailMessage> => {
  const raw = rawMessageOf(form);
  if (raw) return messageFromMime(raw);
  const charsets = charsetsOf(form);
  const text = textField(form, 'text', charsets);
  const html = textField(form, 'html', charsets);
  return {
    ...(await messageFromHeaders(headersOf(form))),
    text: (text?.trim() ? stripQuotedText(text) : html ? htmlBodyToText(html) : '').replace(/\r\n?/g, '\n'),
    attachments: attachmentsOf(form),
  };
};

/** `sendgrid`: SendGrid Inbound Parse, authenticated with basic auth in the destination URL. */
export const sendgridProvider: EmailProviderAdapter = {
  prefix: 'sendgrid',
  verify(request, connection, settings) {
    if (settings.provider !== 'sendgrid') throw new Error('sendgridProvider needs sendgrid settings');
    verifyBasicAuth(request, connection, settings, 'SendGrid Inbound Parse');
  },
  receive(request, _connection, settings) {
    const form = parseFormData(request.headers['content-type'], request.body);
    const raw = rawMessageOf(form);
    const headers = raw ? readMessageHeaders(raw, 'The "email" field') : headersOf(form);
    return { event: 'sendgrid.inbound', deliveryId: deliveryIdFor(headers, settings.address, raw ?? request.body) };
  },
  async read(delivery) {
    const form = parseFormData(delivery.headers['content-type'], delivery.body);
    return { message: await messageOf(form), contentId: contentIdOf(rawMessageOf(form) ?? delivery.body) };
  },
};
