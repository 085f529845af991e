import { createHmac, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Helpers to sign and shape email deliveries like each provider does. The SNS signing key and
 * certificate under test/fixtures/email/ were generated once with openssl for the tests
 * (self-signed, CN=sns.amazonaws.com, valid 2020–2120); they have nothing to do with Amazon's.
 */

export const EMAIL_FIXTURES = fileURLToPath(new URL('../fixtures/email/', import.meta.url));

export const emailFixture = (name: string): Buffer => readFileSync(join(EMAIL_FIXTURES, name));

export const emailJsonFixture = <T = any>(name: string): T => JSON.parse(emailFixture(name).toString('utf8')) as T;

export const TEST_SNS_CERT_PEM = emailFixture('sns-test-signing.pem').toString('utf8');
const TEST_SNS_KEY_PEM = emailFixture('sns-test-signing.key').toString('utf8');
export const TEST_SNS_CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';

/** Serves the test certificate for its URL and fails (like a network error) for any other. */
export const testCertificateFetcher = async (url: string): Promise<string> => {
  if (url === TEST_SNS_CERT_URL) return TEST_SNS_CERT_PEM;
  throw new Error(`tests never fetch ${url}`);
};

/**
 * Signs an SNS message as Amazon SNS does, written from the SNS developer guide independently of
 * the code under test: `Name\nvalue\n` for each signed field in order, RSA with SHA1 (v1) or SHA256 (v2).
 */
export const signSns = <T extends Record<string, any>>(message: T, version: '1' | '2' = '1', certUrl = TEST_SNS_CERT_URL): T => {
  const fields =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const signed = { ...message, SignatureVersion: version, SigningCertURL: certUrl };
  const text = fields
    .filter((field) => signed[field] !== undefined && signed[field] !== null)
    .map((field) => `${field}\n${signed[field]}\n`)
    .join('');
  const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(text, 'utf8'), TEST_SNS_KEY_PEM).toString('base64');
  return { ...signed, Signature: signature };
};

/** An SES `Received` notification wrapped in a signed SNS message, as SNS posts it. */
export const sesNotification = (notification: Record<string, unknown>, sns: Record<string, unknown> = {}) =>
  signSns({
    Type: 'Notification',
    MessageId: crypto.randomUUID(),
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:platform-inbound',
    Subject: 'Amazon SES Email Receipt Notification',
    Message: JSON.stringify(notification),
    Timestamp: '2024-03-04T17:15:05.120Z',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:platform-inbound:3b1c',
    ...sns,
  });

/** The headers SNS sends with a message. */
export const snsHeaders = (message: { Type: string; MessageId: string; TopicArn: string }): Record<string, string> => ({
  'content-type': 'text/plain; charset=UTF-8',
  'x-amz-sns-message-type': message.Type,
  'x-amz-sns-message-id': message.MessageId,
  'x-amz-sns-topic-arn': message.TopicArn,
  'user-agent': 'Amazon Simple Notification Service Agent',
});

/** `sha256=<hex>` of the body with the secret: the `raw` provider's signature. */
export const tributarySignature = (body: Uint8Array | string, secret: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export const basicAuth = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A multipart/form-data body as SendGrid Inbound Parse posts it (fields in order, bytes kept). */
export const formData = (
  fields: readonly { name: string; value: string | Uint8Array; filename?: string; contentType?: string }[],
  boundary = 'xYzZY',
): { body: Buffer; contentType: string } => {
  const chunks: Buffer[] = [];
  for (const field of fields) {
    const disposition = `form-data; name="${field.name}"${field.filename !== undefined ? `; filename="${field.filename}"` : ''}`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${field.contentType ? `Content-Type: ${field.contentType}\r\n` : ''}\r\n`;
    chunks.push(Buffer.from(head, 'utf8'), Buffer.from(field.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
};

/** A stored delivery as the processor hands it to `normalize`. */
export const storedDelivery = (event: string, body: Uint8Array, headers: Record<string, string> = {}) => ({
  event,
  headers,
  body,
  receivedAt: '2024-03-10T00:00:00.000Z',
});
