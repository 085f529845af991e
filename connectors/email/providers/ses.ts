import * as z from 'zod';
import type { Received } from '../../../core/connector.ts';
import { AppError, ForbiddenError, MalformedPayloadError } from '../../../core/errors.ts';
import { readMessageHeaders } from '../header-section.ts';
import { messageFromMime } from '../message.ts';
import { type EmailProviderAdapter, contentIdOf, deliveryIdFor, parseJsonObject } from '../provider.ts';
import type { EmailSettings } from '../settings.ts';
import { type SnsMessage, isSnsUrl, parseSnsMessage, verifySnsSignature } from '../sns.ts';

/**
 * Amazon SES receipt notifications, delivered by SNS. The notification carries the message inline
 * (`content`, SNS action) or names where an S3 action stored it.
 * https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
 */
const Verdict = z.looseObject({ status: z.string() }).nullish();

export const SesReceivedNotification = z.looseObject({
  notificationType: z.literal('Received'),
  mail: z.looseObject({ messageId: z.string(), timestamp: z.string().nullish(), destination: z.array(z.string()).nullish() }),
  receipt: z.looseObject({
    recipients: z.array(z.string()).nullish(),
    spamVerdict: Verdict,
    virusVerdict: Verdict,
    action: z.looseObject({
      type: z.string(),
      encoding: z.string().nullish(),
      bucketName: z.string().nullish(),
      objectKey: z.string().nullish(),
    }),
  }),
  content: z.string().nullish(),
  /** set by the hub on a notification whose message it read from S3 (the content is then base64) */
  contentSource: z.looseObject({ bucket: z.string(), key: z.string(), truncated: z.boolean() }).nullish(),
});
export type SesReceivedNotification = z.infer<typeof SesReceivedNotification>;

type SesSettings = Extract<EmailSettings, { provider: 'ses' }>;

const notificationOf = (sns: SnsMessage): Record<string, unknown> | undefined => {
  try {
    return parseJsonObject(new TextEncoder().encode(sns.Message), 'The SNS Message');
  } catch {
    return undefined;
  }
};

const parseReceived = (notification: Record<string, unknown>): SesReceivedNotification => {
  const parsed = SesReceivedNotification.safeParse(notification);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new MalformedPayloadError(`The SES Received notification is missing or has invalid ${fields}.`);
  }
  return parsed.data;
};

/** The MIME bytes a notification carries inline: base64 unless the SNS action says UTF8. */
const inlineContent = (notification: SesReceivedNotification): Uint8Array | undefined => {
  if (!notification.content) return undefined;
  const utf8 = !notification.contentSource && notification.receipt.action.encoding?.toUpperCase() === 'UTF8';
  return utf8 ? new TextEncoder().encode(notification.content) : new Uint8Array(Buffer.from(notification.content, 'base64'));
};

const confirmationFailed = (detail: string, cause: unknown): AppError =>
  new AppError({ status: 502, type: 'subscription-confirmation-failed', title: 'Bad Gateway', detail, cause });

/** `ses`: SNS-delivered SES receipt notifications; SNS signatures verified, subscriptions confirmed. */
export const sesProvider: EmailProviderAdapter = {
  prefix: 'ses',
  async verify(request, _connection, settings, deps) {
    const sns = parseSnsMessage(request.body);
    await verifySnsSignature(sns, deps.certificateFor, deps.clock());
    const { topicArns } = settings as SesSettings;
    if (topicArns.length > 0 && !topicArns.includes(sns.TopicArn)) {
      throw new ForbiddenError(`SNS topic ${sns.TopicArn} is not one this connection accepts (its topicArns setting).`);
    }
  },
  async receive(request, _connection, settings, deps): Promise<Received> {
    const sns = parseSnsMessage(request.body);
    if (sns.Type === 'SubscriptionConfirmation') {
      const url = sns.SubscribeURL ?? '';
      // The signature covers the URL, and the host is checked too: the hub only ever visits SNS.
      if (!isSnsUrl(url)) throw new MalformedPayloadError(`The SubscribeURL ${JSON.stringify(url)} is not an https://sns.<region>.amazonaws.com address.`);
      try {
        await deps.confirmSubscription(url);
      } catch (cause) {
        throw confirmationFailed(`Confirming the subscription to ${sns.TopicArn} failed: ${(cause as Error).message}. Request a new confirmation from SNS.`, cause);
      }
      return { event: 'ses.SubscriptionConfirmation', reply: { status: 200, body: { ok: true, confirmed: sns.TopicArn } } };
    }
    if (sns.Type === 'UnsubscribeConfirmation') {
      return { event: 'ses.UnsubscribeConfirmation', reply: { status: 200, body: { ok: true, unsubscribed: sns.TopicArn } } };
    }
    if (sns.Type !== 'Notification') throw new MalformedPayloadError(`Unknown SNS message type ${JSON.stringify(sns.Type)}.`);

    const notification = notificationOf(sns);
    const type = typeof notification?.notificationType === 'string' ? notification.notificationType : 'unknown';
    // Anything but mail (SES's setup test, bounces, messages of other publishers) is kept, then ignored.
    if (type !== 'Received') return { event: `ses.${type}`, deliveryId: `${settings.address}/sns:${sns.MessageId}` };

    const received = parseReceived(notification!);
    const inline = inlineContent(received);
    if (inline) {
      return { event: 'ses.Received', deliveryId: deliveryIdFor(readMessageHeaders(inline, 'The SES message'), settings.address, inline) };
    }
    const { action } = received.receipt;
    if (action.type !== 'S3' || !action.bucketName || !action.objectKey) {
      throw new MalformedPayloadError('The SES notification carries no content and names no S3 object (bucketName, objectKey).');
    }
    // arn:aws:sns:{region}:{account}:{topic}
    const region = sns.TopicArn.split(':')[3] || undefined;
    const location = { bucket: action.bucketName, key: action.objectKey, ...(region ? { region } : {}) };
    const { bytes, truncated } = await deps.objectReader.read(location, { maxBytes: deps.maxObjectBytes });
    const deliveryId = deliveryIdFor(readMessageHeaders(bytes, `The message in s3://${location.bucket}/${location.key}`), settings.address, bytes);
    // The message is stored with the notification, so a replay needs neither S3 nor the object.
    const withContent = {
      ...received,
      content: Buffer.from(bytes).toString('base64'),
      contentSource: { bucket: location.bucket, key: location.key, truncated },
    };
    const body = new TextEncoder().encode(JSON.stringify({ ...sns, Message: JSON.stringify(withContent) }));
    return { event: 'ses.Received', deliveryId, body };
  },
  async read(delivery) {
    if (delivery.event !== 'ses.Received') {
      return { ignored: `SES ${delivery.event.replace(/^ses\./, '')} notifications carry no mail to index.` };
    }
    const notification = parseReceived(notificationOf(parseSnsMessage(delivery.body)) ?? {});
    const { spamVerdict, virusVerdict } = notification.receipt;
    if (virusVerdict?.status === 'FAIL') return { ignored: 'SES found a virus in the message (virusVerdict FAIL).' };
    if (spamVerdict?.status === 'FAIL') return { ignored: 'SES classified the message as spam (spamVerdict FAIL).' };
    const content = inlineContent(notification);
    if (!content) throw new MalformedPayloadError('The stored SES notification has no content.');
    return { message: await messageFromMime(content), contentId: contentIdOf(content) };
  },
};

