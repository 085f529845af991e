import type { Connector, StoredDelivery } from '../../core/connector.ts';
import type { Normalized } from '../../core/changes.ts';
import { SIGNATURE_HEADER } from './auth.ts';
import { normalizeEmailMessage } from './normalize.ts';
import {
  type CertificateFetcher,
  type ObjectReader,
  type SubscriptionConfirmer,
  confirmSubscriptionOverHttps,
  createCertificateCache,
  fetchCertificateOverHttps,
} from './ports.ts';
import type { EmailEdgeDeps, EmailProviderAdapter } from './provider.ts';
import { postmarkProvider } from './providers/postmark.ts';
import { rawProvider } from './providers/raw.ts';
import { sendgridProvider } from './providers/sendgrid.ts';
import { sesProvider } from './providers/ses.ts';
import { createS3ObjectReader } from './s3-object-reader.ts';
import { type EmailProvider, EmailSettings, readEmailSettings } from './settings.ts';

/** One entry per provider: adding one is adding a file and a line. */
const PROVIDERS: Readonly<Record<EmailProvider, EmailProviderAdapter>> = {
  raw: rawProvider,
  ses: sesProvider,
  postmark: postmarkProvider,
  sendgrid: sendgridProvider,
};

/** The I/O of the email connector; every field has a production default. */
export interface EmailConnectorOptions {
  /** fetches SNS signing certificates (HTTPS by default); results are cached */
  fetchCertificate?: CertificateFetcher;
  /** confirms SNS subscriptions (GET SubscribeURL by default) */
  confirmSubscription?: SubscriptionConfirmer;
  /** reads messages an SES S3 action stored (S3 by default; a directory reader locally and in tests) */
  objectReader?: ObjectReader;
  /** the most of an S3-stored message read and kept; default 10 MB (SES accepts up to 40 MB) */
  maxObjectBytes?: number;
  clock?: () => Date;
}

/** The provider a stored delivery came through, from its event name (`ses.Received` → ses). */
const providerOfEvent = (event: string): EmailProviderAdapter | undefined =>
  Object.values(PROVIDERS).find((provider) => event.startsWith(`${provider.prefix}.`));

/**
 * Email: shared mailboxes (`support@`, `platform-requests@`) whose inbound mail becomes one
 * `request` item per thread. A connection names its `provider` (how mail arrives: raw, ses,
 * postmark, sendgrid) and its `address`; see docs/email.md.
 */
export function createEmailConnector(options: EmailConnectorOptions = {}): Connector<EmailSettings, Promise<Normalized>> {
  const deps: EmailEdgeDeps = {
    certificateFor: createCertificateCache(options.fetchCertificate ?? fetchCertificateOverHttps),
    confirmSubscription: options.confirmSubscription ?? confirmSubscriptionOverHttps,
    objectReader: options.objectReader ?? createS3ObjectReader(),
    maxObjectBytes: options.maxObjectBytes ?? 10 * 1024 * 1024,
    clock: options.clock ?? (() => new Date()),
  };
  return {
    source: 'email',
    settings: EmailSettings,
    secretHeaders: [SIGNATURE_HEADER, 'authorization'],
    secretSettings: ['passwordSha256'],
    verify(request, connection) {
      const settings = readEmailSettings(connection.settings);
      return PROVIDERS[settings.provider].verify(request, connection, settings, deps);
    },
    receive(request, connection) {
      const settings = readEmailSettings(connection.settings);
      return PROVIDERS[settings.provider].receive(request, connection, settings, deps);
    },
    // Asynchronous because postal-mime is; still pure: the same stored delivery always gives the same result.
    async normalize(delivery: StoredDelivery, context): Promise<Normalized> {
      const provider = providerOfEvent(delivery.event);
      if (!provider) return { outcome: 'ignored', event: delivery.event, reason: `No email provider stores ${delivery.event} deliveries.` };
      const read = await provider.read(delivery);
      if ('ignored' in read) return { outcome: 'ignored', event: delivery.event, reason: read.ignored };
      return normalizeEmailMessage(read.message, {
        settings: readEmailSettings(context.connection.settings),
        jiraProjects: context.jiraProjects,
        receivedAt: delivery.receivedAt,
        fallbackId: read.contentId,
        event: delivery.event,
      });
    },
  };
}

/** The email connector with production I/O: HTTPS for SNS, S3 for messages SES stored there. */
export const email: Connector<EmailSettings, Promise<Normalized>> = createEmailConnector();

export { normalizeEmailMessage, cleanSubject, emailRef, priorityOf, threadRootOf } from './normalize.ts';
export { EmailSettings } from './settings.ts';
export { createDirectoryObjectReader, createCertificateCache } from './ports.ts';
export { createS3ObjectReader } from './s3-object-reader.ts';
export type { CertificateFetcher, ObjectLocation, ObjectReader, SubscriptionConfirmer } from './ports.ts';
export { messageFromMime } from './message.ts';
