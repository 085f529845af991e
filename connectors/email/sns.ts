import { type X509Certificate, verify as verifySignature } from 'node:crypto';
import * as z from 'zod';
import { MalformedPayloadError, UnauthorizedError } from '../../core/errors.ts';

/**
 * Amazon SNS HTTP(S) messages and their signatures.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 */

export const SnsMessage = z.looseObject({
  Type: z.string(),
  MessageId: z.string(),
  TopicArn: z.string(),
  Message: z.string(),
  Timestamp: z.string(),
  SignatureVersion: z.string(),
  Signature: z.string(),
  SigningCertURL: z.string(),
  Subject: z.string().nullish(),
  Token: z.string().nullish(),
  SubscribeURL: z.string().nullish(),
  UnsubscribeURL: z.string().nullish(),
});
export type SnsMessage = z.infer<typeof SnsMessage>;

/** The body of an SNS POST, parsed and checked to have the fields its signature covers. */
export function parseSnsMessage(body: Uint8Array): SnsMessage {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new MalformedPayloadError('The body is not UTF-8 JSON; an SES connection receives Amazon SNS messages.', cause);
  }
  const parsed = SnsMessage.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new MalformedPayloadError(`The body is not an Amazon SNS message: missing or invalid ${fields}.`);
  }
  return parsed.data;
}

/**
 * SNS hosts are `sns.<region>.amazonaws.com`, over HTTPS. Checked before anything is fetched, so a
 * forged message cannot make the hub fetch (or confirm) an address of the forger's choosing.
 */
export const isSnsUrl = (url: string): boolean => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    /^sns\.[a-z]{2}(?:-[a-z]+)+-\d+\.amazonaws\.com$/.test(parsed.hostname) &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === ''
  );
};

/** The fields each message type signs, in the order of the string to sign. */
const SIGNED_FIELDS: Readonly<Record<string, readonly (keyof SnsMessage)[]>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** `Name\nvalue\n` for each signed field present (a Notification's Subject only when it has one). */
export function stringToSign(message: SnsMessage): string {
  const fields = SIGNED_FIELDS[message.Type];
  if (!fields) throw new MalformedPayloadError(`Unknown SNS message type ${JSON.stringify(message.Type)}.`);
  return fields
    .filter((field) => message[field] !== undefined && message[field] !== null)
    .map((field) => `${field}\n${String(message[field])}\n`)
    .join('');
}

/** SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA. */
const ALGORITHMS: Readonly<Record<string, string>> = { '1': 'sha1', '2': 'sha256' };

const invalid = (detail: string): UnauthorizedError => new UnauthorizedError(detail, 'invalid-signature');

/**
 * Verifies that Amazon SNS signed the message: the certificate URL is an SNS host over HTTPS, the
 * certificate is valid now, and its key verifies the signature of the signed fields.
 *
 * @throws UnauthorizedError (`invalid-signature`) otherwise.
 */
export async function verifySnsSignature(
  message: SnsMessage,
  certificateFor: (url: string) => Promise<X509Certificate>,
  now: Date,
): Promise<void> {
  const algorithm = ALGORITHMS[message.SignatureVersion];
  if (!algorithm) throw invalid(`SNS SignatureVersion ${JSON.stringify(message.SignatureVersion)} is not supported (1 or 2).`);
  if (!isSnsUrl(message.SigningCertURL)) {
    throw invalid(`The SigningCertURL ${JSON.stringify(message.SigningCertURL)} is not an https://sns.<region>.amazonaws.com address.`);
  }
  let certificate: X509Certificate;
  try {
    certificate = await certificateFor(message.SigningCertURL);
  } catch (cause) {
    // Not the sender's fault, perhaps: a 5xx makes SNS retry.
    throw new Error(`Could not fetch the SNS signing certificate ${message.SigningCertURL}`, { cause });
  }
  if (Date.parse(certificate.validFrom) > now.getTime() || Date.parse(certificate.validTo) < now.getTime()) {
    throw invalid('The SNS signing certificate is not valid at this time.');
  }
  const signature = Buffer.from(message.Signature, 'base64');
  const valid = verifySignature(algorithm, Buffer.from(stringToSign(message), 'utf8'), certificate.publicKey, signature);
  if (!valid) throw invalid('The SNS message signature does not verify: the message was not sent by Amazon SNS or was changed.');
}
