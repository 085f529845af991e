import type { X509Certificate } from 'node:crypto';
import type { ConnectionForVerify, Received, StoredDelivery, WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/ids.ts';
import { parseMessageIds } from './addresses.ts';
import { type HeaderField, headerValue } from './header-section.ts';
import type { EmailMessage } from './message.ts';
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

/**
 * What a stored delivery holds: a message to index, with the `sha256:` of its content that names
 * it when it has no Message-ID (the same as in its delivery id), or why there is nothing to index.
 */
export type ReadDelivery = { message: EmailMessage; contentId: string } | { ignored: string };

/**
 * One way mail reaches the hub. `verify` and `receive` run on the ack path and refuse only what is
 * not signed right or cannot be read at all; `read` is pure (and asynchronous: postal-mime is) and
 * turns a stored delivery back into a message for `normalize`, which judges it.
 */
export interface EmailProviderAdapter<S extends EmailSettings = EmailSettings> {
  /** the event names this provider stores deliveries under start with `{prefix}.` */
  prefix: string;
  verify(request: WebhookRequest, connection: ConnectionForVerify, settings: S, deps: EmailEdgeDeps): void | Promise<void>;
  receive(request: WebhookRequest, connection: ConnectionForVerify, settings: S, deps: EmailEdgeDeps): Received | Promise<Received>;
  read(delivery: StoredDelivery): Promise<ReadDelivery>;
}

/** The content's own name, for a message without Message-ID: the sha256 of its bytes (headers and body). */
export const contentIdOf = (bytes: Uint8Array): string => `sha256:${sha256Hex(bytes)}`;

/**
 * Message-ID + mailbox identify a delivery (mail is often delivered twice, and a retried POST is
 * the same message); without a Message-ID, the message's bytes do, so a retry still dedupes.
 * Nothing else about the message is judged on the ack path: a message without a sender is stored,
 * and ignored with that reason by the processor.
 */
export const deliveryIdFor = (headers: readonly HeaderField[], mailbox: string, bytes: Uint8Array): string =>
  `${mailbox}/${parseMessageIds(headerValue(headers, 'message-id'))[0] ?? contentIdOf(bytes)}`;

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
