import * as z from 'zod';
import type { StoredDelivery } from '../../../core/connector.ts';
import { UnsupportedMediaTypeError } from '../../../core/errors.ts';
import { verifyBasicAuth } from '../auth.ts';
import type { HeaderField } from '../header-section.ts';
import { type EmailMessage, htmlBodyToText, messageFromHeaders, messageFromMime } from '../message.ts';
import { type EmailProviderAdapter, contentIdOf, deliveryIdFor, mediaTypeOf, parseJsonObject } from '../provider.ts';
import { stripQuotedText } from '../text.ts';

/**
 * An optional field of Postmark's JSON: absent when it holds something else. A message is never
 * refused for a field's form (accept, then judge): what cannot be read degrades to absent, and the
 * processor decides whether the rest is a request.
 */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined);

/**
 * The fields of Postmark's inbound webhook JSON that are read.
 * https://postmarkapp.com/developer/webhooks/inbound-webhook
 */
const PostmarkAddress = z.looseObject({ Email: z.string(), Name: optional(z.string()) });
/** a header or attachment entry that cannot be read is left out, the others kept */
const entries = <T extends z.ZodType>(entry: T) => optional(z.array(entry.nullable().catch(null)).transform((list) => list.filter((e): e is NonNullable<typeof e> => e !== null)));

export const PostmarkInbound = z.looseObject({
  From: optional(z.string()),
  FromFull: optional(PostmarkAddress),
  To: optional(z.string()),
  Cc: optional(z.string()),
  Subject: optional(z.string()),
  Date: optional(z.string()),
  TextBody: optional(z.string()),
  HtmlBody: optional(z.string()),
  Headers: entries(z.looseObject({ Name: z.string(), Value: z.string() })),
  Attachments: entries(
    z.looseObject({ Name: optional(z.string()), ContentType: optional(z.string()), ContentLength: optional(z.number()), Content: optional(z.string()) }),
  ),
  /** the whole message, when "Include raw email content" is on for the inbound stream */
  RawEmail: optional(z.string()),
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

/** Any JSON object reads: only a body that is not one is refused (MalformedPayloadError). */
const parseInbound = (body: Uint8Array): PostmarkInbound => PostmarkInbound.parse(parseJsonObject(body, 'The body'));

const messageOf = async (inbound: PostmarkInbound): Promise<EmailMessage> => {
  if (inbound.RawEmail) return messageFromMime(new TextEncoder().encode(inbound.RawEmail));
  const text = inbound.TextBody?.trim() ? stripQuotedText(inbound.TextBody) : inbound.HtmlBody ? htmlBodyToText(inbound.HtmlBody) : '';
  return {
    ...(await messageFromHeaders(headersOf(inbound))),
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
