import type { X509Certificate } from 'node:crypto';
import type { ConnectionForVerify, Received, StoredDelivery, WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/ids.ts';
import { parseMessageIds } from './addresses.ts';
import { type EmailMessage, whyNotAMessage } from './message.ts';
import { type HeaderField, headerValue } from './mime.ts';
import type { ObjectReader, SubscriptionConfirmer } from './ports.ts';
import type { EmailSettings } from './settings.ts';

/** The edge I/O a provider may need, injected (see ports.ts). */
export interface EmailEdgeDeps {
  certificateFor: (url: string) => Promise<X509Certificate>;
  confirmSubscription: SubscriptionConfirmer;
  objectReader: ObjectReader;
  /** the most of an S3-stored message that is read and kept */
  maxObjectBytes: number;
  clock: () => Date;
}

/** What a stored delivery holds: a message to index, or why there is nothing to index. */
export type ReadDelivery = { message: EmailMessage } | { ignored: string };

/**
 * One way mail reaches the hub. `verify` and `receive` run on the ack path; `read` is pure and
 * turns a stored delivery back into a message for `normalize`.
 */
export interface EmailProviderAdapter<S extends EmailSettings = EmailSettings> {
  /** the event names this provider stores deliveries under start with `{prefix}.` */
  prefix: string;
  verify(request: WebhookRequest, connection: ConnectionForVerify, settings: S, deps: EmailEdgeDeps): void | Promise<void>;
  receive(request: WebhookRequest, connection: ConnectionForVerify, settings: S, deps: EmailEdgeDeps): Received | Promise<Received>;
  read(delivery: StoredDelivery): ReadDelivery;
}

/** Message-ID + mailbox identify a delivery (mail is often delivered twice); without one, the bytes do. */
export const deliveryIdFor = (mailbox: string, messageId: string | undefined, bytes: Uint8Array): string =>
  `${mailbox}/${messageId ?? `sha256:${sha256Hex(bytes)}`}`;

/**
 * Checks at the edge that the header fields make a message (From, and Date or Message-ID) and
 * derives the delivery id from them.
 *
 * @throws MalformedPayloadError naming what is missing.
 */
export const identifyMessage = (headers: readonly HeaderField[], mailbox: string, bytes: Uint8Array, what: string): string => {
  const problem = whyNotAMessage(headers);
  if (problem) throw new MalformedPayloadError(`${what} is not an email message: ${problem}.`);
  return deliveryIdFor(mailbox, parseMessageIds(headerValue(headers, 'message-id'))[0], bytes);
};

export const mediaTypeOf = (contentType: string | undefined): string => (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();

export const decodeUtf8 = (bytes: Uint8Array, what: string): string => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new MalformedPayloadError(`${what} is not valid UTF-8.`, cause);
  }
};

/** A JSON object body, or a MalformedPayloadError that says what it is instead. */
export const parseJsonObject = (bytes: Uint8Array, what: string): Record<string, unknown> => {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(bytes, what));
  } catch (cause) {
    if (cause instanceof MalformedPayloadError) throw cause;
    throw new MalformedPayloadError(`${what} is not valid JSON: ${(cause as Error).message}.`, cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedPayloadError(`${what} is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not a JSON object.`);
  }
  return value as Record<string, unknown>;
};
