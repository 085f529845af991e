import * as z from 'zod';
import type { StoredDelivery } from '../../../core/connector.ts';
import { MalformedPayloadError, UnsupportedMediaTypeError } from '../../../core/errors.ts';
import { verifyBasicAuth } from '../auth.ts';
import type { HeaderField } from '../header-section.ts';
import { type EmailMessage, htmlBodyToText, messageFromHeaders, messageFromMime } from '../message.ts';
import { type EmailProviderAdapter, contentIdOf, deliveryIdFor, mediaTypeOf, parseJsonObject } from '../provider.ts';
import { stripQuotedText } from '../text.ts';

/**
 * The fields of Postmark's inbound webhook JSON that are read.
 * https://postmarkapp.com/developer/webhooks/inbound-webhook
 */
const PostmarkAddress = z.looseObject({ Email: z.string(), Name: z.string().nullish() });

export const PostmarkInbound = z.looseObject({
  From: z.string().nullish(),
  FromFull: PostmarkAddress.nullish(),
  To: z.string().nullish(),
  Cc: z.string().nullish(),
  Subject: z.string().nullish(),
  Date: z.string().nullish(),
  TextBody: z.string().nullish(),
  HtmlBody: z.string().nullish(),
  Headers: z.array(z.looseObject({ Name: z.string(), Value: z.string() })).nullish(),
  Attachments: z
    .array(z.looseObject({ Name: z.string().nullish(), ContentType: z.string().nullish(), ContentLength: z.number().nullish(), Content: z.string().nullish() }))
    .nullish(),
  /** the whole message, when "Include raw email content" is on for the inbound stream */
  RawEmail: z.string().nullish(),
});
export type PostmarkInbound = z.infer<typeof PostmarkInbound>;

const quoteName = (name: string): string => `"${name.replace(/["\\]/g, '\\$&')}"`;

/**
 * Postmark lifts From, To, Cc, Subject and Date out of `Headers`: they are put back, so one header
 * list serves the same rules as a raw message.
 */
const headersOf = (inbound: PostmarkInbound): HeaderField[] => {
  const lifted: HeaderField[] = [];
  const from = inbound.FromFull?.Email
    ? `${inbound.FromFull.Name ? `${quoteName(inbound.FromFull.Name)} ` : ''}<${inbound.FromFull.Email}>`
    : inbound.From;
  if (from) lifted.push({ name: 'from', value: from });
  if (inbound.To) lifted.push({ name: 'to', value: inbound.To });
  if (inbound.Cc) lifted.push({ name: 'cc', value: inbound.Cc });
  if (inbound.Subject) lifted.push({ name: 'subject', value: inbound.Subject });
  if (inbound.Date) lifted.push({ name: 'date', value: inbound.Date });
  const liftedNames = new Set(lifted.map((field) => field.name));
  const rest = (inbound.Headers ?? [])
    .map((header) => ({ name: header.Name.toLowerCase(), value: header.Value }))
    .filter((field) => !liftedNames.has(field.name));
  return [...lifted, ...rest];
};

const parseInbound = (body: Uint8Array): PostmarkInbound => {
  const parsed = PostmarkInbound.safeParse(parseJsonObject(body, 'The body'));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new MalformedPayloadError(`The body is not a Postmark inbound message: invalid ${fields}.`);
  }
  return parsed.data;
};

const messageOf = async (inbound: PostmarkInbound): Promise<EmailMessage> => {
  if (inbound.RawEmail) return messageFromMime(new TextEncoder().encode(inbound.RawEmail));
  const text = inbound.TextBody?.trim() ? stripQuotedText(inbound.TextBody) : inbound.HtmlBody ? htmlBodyToText(inbound.HtmlBody) : '';
  return {
    ...messageFromHeaders(headersOf(inbound)),
    text: text.replace(/\r\n?/g, '\n'),
    attachments: (inbound.Attachments ?? []).map((attachment) => ({
      ...(attachment.Name ? { name: attachment.Name } : {}),
      contentType: (attachment.ContentType ?? 'application/octet-stream').split(';', 1)[0]!.trim().toLowerCase(),
      size: attachment.ContentLength ?? (attachment.Content ? Buffer.from(attachment.Content, 'base64').byteLength : 0),
    })),
  };
};

/** `postmark`: Postmark's inbound webhook (JSON), authenticated with basic auth in the webhook URL. */
export const postmarkProvider: EmailProviderAdapter = {
  prefix: 'postmark',
  verify(request, connection, settings) {
    if (settings.provider !== 'postmark') throw new Error('postmarkProvider needs postmark settings');
    verifyBasicAuth(request, connection, settings, 'Postmark');
  },
  receive(request, _connection, settings) {
    const mediaType = mediaTypeOf(request.headers['content-type']);
    if (mediaType !== 'application/json') {
      throw new UnsupportedMediaTypeError(`Expected Content-Type application/json (Postmark's inbound webhook), got ${mediaType || 'none'}.`);
    }
    const inbound = parseInbound(request.body);
    return { event: 'postmark.inbound', deliveryId: deliveryIdFor(headersOf(inbound), settings.address, request.body) };
  },
  read: async (delivery: StoredDelivery) => ({ message: await messageOf(parseInbound(delivery.body)), contentId: contentIdOf(delivery.body) }),
};
