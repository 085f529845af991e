import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import {
  createDirectoryObjectReader,
  createEmailConnector,
  createS3ObjectReader,
  EmailSettings,
  type EmailConnectorOptions,
} from '../../connectors/email/index.ts';
import { isSnsUrl } from '../../connectors/email/sns.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { AppError, ForbiddenError, MalformedPayloadError, UnauthorizedError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/ids.ts';
import {
  emailFixture,
  emailJsonFixture,
  signSns,
  snsHeaders,
  storedDelivery,
  testCertificateFetcher,
} from '../support/email.ts';

const NOW = new Date('2024-03-07T14:20:13.000Z');
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:platform-inbound';
const connectionWith = (settings: Record<string, unknown> = {}) => ({
  id: 'con_ses',
  settings: EmailSettings.parse({ provider: 'ses', address: 'platform@acme.example', ...settings }),
  secrets: ['whsec_unused'],
});
const connection = connectionWith();

const connectorWith = (options: EmailConnectorOptions = {}) =>
  createEmailConnector({ fetchCertificate: testCertificateFetcher, confirmSubscription: vi.fn(async () => {}), clock: () => NOW, ...options });

const post = (message: Record<string, any>): WebhookRequest => ({
  headers: snsHeaders(message as any),
  body: new TextEncoder().encode(JSON.stringify(message)),
});

const inline = emailJsonFixture('ses-received-notification.json');
const s3 = emailJsonFixture('ses-received-s3-notification.json');
const confirmation = emailJsonFixture('sns-subscription-confirmation.json');
/** The SES notification inside an SNS message, edited and re-signed. */
const withNotification = (edit: (notification: any) => void, sns: Record<string, any> = inline) => {
  const notification = JSON.parse(sns.Message);
  edit(notification);
  return signSns({ ...sns, Message: JSON.stringify(notification) }, sns.SignatureVersion);
};

const rejection = (run: () => unknown) => Promise.resolve().then(run);

describe('email (ses provider): SNS signatures', () => {
  it('verifies a SignatureVersion 1 (SHA1withRSA) and a SignatureVersion 2 (SHA256withRSA) message', async () => {
    const email = connectorWith();
    await expect(rejection(() => email.verify(post(inline), connection))).resolves.toBeUndefined();
    await expect(rejection(() => email.verify(post(signSns(inline, '2')), connection))).resolves.toBeUndefined();
  });

  it.each([
    ['a changed Message', (m: any) => ({ ...m, Message: m.Message.replace('9 days', '99 days') }), /does not verify/],
    ['a v1 signature declared as v2', (m: any) => ({ ...m, SignatureVersion: '2' }), /does not verify/],
    ['an unknown SignatureVersion', (m: any) => ({ ...m, SignatureVersion: '3' }), /SignatureVersion "3" is not supported/],
    ['a certificate over http', (m: any) => signSns(m, '1', m.SigningCertURL.replace('https:', 'http:')), /is not an https:\/\/sns/],
    ['a certificate on another host', (m: any) => signSns(m, '1', 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem'), /is not an https:\/\/sns/],
    ['a certificate on a look-alike host', (m: any) => signSns(m, '1', 'https://sns-us-east-1.amazonaws.com/cert.pem'), /is not an https:\/\/sns/],
  ])('rejects %s as 401 invalid-signature without fetching anything else', async (_, tamper, detail) => {
    const fetchCertificate = vi.fn(testCertificateFetcher);
    const attempt = rejection(() => connectorWith({ fetchCertificate }).verify(post(tamper(inline)), connection));
    await expect(attempt).rejects.toThrow(UnauthorizedError);
    await expect(attempt).rejects.toMatchObject({ status: 401, type: 'invalid-signature', message: expect.stringMatching(detail) });
    for (const [url] of fetchCertificate.mock.calls) expect(isSnsUrl(url)).toBe(true);
  });

  it('rejects a message while its certificate is not valid', async () => {
    const before = connectorWith({ clock: () => new Date('2019-06-01T00:00:00Z') });
    await expect(rejection(() => before.verify(post(inline), connection))).rejects.toThrow(/not valid at this time/);
  });

  it('fails as a server error (so SNS retries) when the certificate cannot be fetched', async () => {
    const email = connectorWith({ fetchCertificate: async () => Promise.reject(new Error('connect ETIMEDOUT')) });
    const attempt = rejection(() => email.verify(post(inline), connection));
    await expect(attempt).rejects.toThrow(/Could not fetch the SNS signing certificate/);
    await expect(attempt).rejects.not.toBeInstanceOf(AppError);
  });

  it('fetches each signing certificate once and caches it', async () => {
    const fetchCertificate = vi.fn(testCertificateFetcher);
    const email = connectorWith({ fetchCertificate });
    await email.verify(post(inline), connection);
    await email.verify(post(s3), connection);
    await email.verify(post(confirmation), connection);
    expect(fetchCertificate).toHaveBeenCalledTimes(1);
  });

  it('accepts only the topics of the topicArns setting when it is set (403 otherwise)', async () => {
    const email = connectorWith();
    await expect(rejection(() => email.verify(post(inline), connectionWith({ topicArns: [TOPIC] })))).resolves.toBeUndefined();
    const other = connectionWith({ topicArns: ['arn:aws:sns:us-east-1:123456789012:someone-else'] });
    const attempt = rejection(() => email.verify(post(inline), other));
    await expect(attempt).rejects.toThrow(ForbiddenError);
    await expect(attempt).rejects.toThrow(/platform-inbound is not one this connection accepts/);
  });

  it('rejects a body that is not an SNS message as 400', async () => {
    const email = connectorWith();
    const notJson = { headers: {}, body: new TextEncoder().encode('Subject: hi') };
    await expect(rejection(() => email.verify(notJson, connection))).rejects.toThrow(MalformedPayloadError);
    const notSns = { headers: {}, body: new TextEncoder().encode('{"Type":"Notification"}') };
    await expect(rejection(() => email.verify(notSns, connection))).rejects.toThrow(/not an Amazon SNS message: missing or invalid MessageId/);
  });
});

describe('email (ses provider): subscriptions', () => {
  it('confirms a subscription by visiting its SubscribeURL, and answers without storing anything', async () => {
    const confirmSubscription = vi.fn(async () => {});
    const received = await connectorWith({ confirmSubscription }).receive(post(confirmation), connection);
    expect(confirmSubscription).toHaveBeenCalledWith(confirmation.SubscribeURL);
    expect(received).toEqual({ event: 'ses.SubscriptionConfirmation', reply: { status: 200, body: { ok: true, confirmed: TOPIC } } });
  });

  it('never visits a SubscribeURL outside SNS, even in a validly signed message', async () => {
    const confirmSubscription = vi.fn(async () => {});
    const forged = signSns({ ...confirmation, SubscribeURL: 'https://attacker.example/?Action=ConfirmSubscription' });
    const attempt = rejection(() => connectorWith({ confirmSubscription }).receive(post(forged), connection));
    await expect(attempt).rejects.toThrow(/SubscribeURL .* is not an https:\/\/sns/);
    expect(confirmSubscription).not.toHaveBeenCalled();
  });

  it('answers 502 when the confirmation fails', async () => {
    const email = connectorWith({ confirmSubscription: async () => Promise.reject(new Error('GET SubscribeURL answered 403')) });
    await expect(rejection(() => email.receive(post(confirmation), connection))).rejects.toMatchObject({
      status: 502,
      type: 'subscription-confirmation-failed',
    });
  });

  it('acknowledges an UnsubscribeConfirmation without doing anything', async () => {
    const unsubscribe = signSns({ ...confirmation, Type: 'UnsubscribeConfirmation' });
    expect((await connectorWith().receive(post(unsubscribe), connection)).reply).toEqual({ status: 200, body: { ok: true, unsubscribed: TOPIC } });
  });
});

describe('email (ses provider): notifications', () => {
  it('identifies an inline message by mailbox and Message-ID and normalizes it from the stored notification', async () => {
    const email = connectorWith();
    const request = post(inline);
    const received = await email.receive(request, connection);
    expect(received).toEqual({ event: 'ses.Received', deliveryId: 'platform@acme.example/b7e0c1d2-77aa-4c1b-9e0f-5d1c2a3b4c5d@partner.example' });
    const result = await email.normalize(storedDelivery(received.event, request.body), { connection, jiraProjects: { ACME: 'acme.atlassian.net' } });
    expect(result).toMatchObject({
      outcome: 'changes',
      changes: [
        {
          item: {
            ref: 'email:platform@acme.example/b7e0c1d2-77aa-4c1b-9e0f-5d1c2a3b4c5d@partner.example',
            title: 'TLS certificate for api.acme.example expires in 9 days',
            requester: { emails: ['carol@partner.example'], name: 'Carol Nguyen' },
            createdAt: '2024-03-07T14:20:09.000Z',
            links: [{ type: 'relates', target: 'jira:acme.atlassian.net/ACME-101', origin: 'key_mention', confidence: 0.8 }],
          },
        },
      ],
    });
  });

  it('reads the message an S3 action stored, and stores it with the notification so a replay needs no S3', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-s3-'));
    mkdirSync(join(root, 'acme-inbound-mail', 'platform'), { recursive: true });
    writeFileSync(join(root, 'acme-inbound-mail', 'platform', '9q4v2l3bq7m1h0ss1b4b5ui2d4o8k0ee1ubm7ag1'), emailFixture('ses-message.eml'));
    const email = connectorWith({ objectReader: createDirectoryObjectReader(root) });
    const received = await email.receive(post(s3), connection);
    expect(received).toMatchObject({ event: 'ses.Received', deliveryId: 'platform@acme.example/b7e0c1d2-77aa-4c1b-9e0f-5d1c2a3b4c5d@partner.example' });
    expect(received.body).toBeInstanceOf(Uint8Array);
    const stored = JSON.parse(JSON.parse(new TextDecoder().decode(received.body)).Message);
    expect(stored.contentSource).toEqual({ bucket: 'acme-inbound-mail', key: 'platform/9q4v2l3bq7m1h0ss1b4b5ui2d4o8k0ee1ubm7ag1', truncated: false });

    const fromS3 = await email.normalize(storedDelivery('ses.Received', received.body!), { connection, jiraProjects: {} });
    const fromInline = await email.normalize(storedDelivery('ses.Received', post(inline).body), { connection, jiraProjects: {} });
    expect(fromS3).toEqual(fromInline);
  });

  it('keeps only the first maxObjectBytes of a huge S3 message', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-s3-'));
    mkdirSync(join(root, 'acme-inbound-mail', 'platform'), { recursive: true });
    const huge = Buffer.concat([emailFixture('ses-message.eml'), Buffer.alloc(4096, 'x')]);
    writeFileSync(join(root, 'acme-inbound-mail', 'platform', '9q4v2l3bq7m1h0ss1b4b5ui2d4o8k0ee1ubm7ag1'), huge);
    const received = await connectorWith({ objectReader: createDirectoryObjectReader(root), maxObjectBytes: 2048 }).receive(post(s3), connection);
    const stored = JSON.parse(JSON.parse(new TextDecoder().decode(received.body)).Message);
    expect(stored.contentSource.truncated).toBe(true);
    expect(Buffer.from(stored.content, 'base64').byteLength).toBe(2048);
  });

  it('refuses an object key that leaves the reader directory', async () => {
    const reader = createDirectoryObjectReader(mkdtempSync(join(tmpdir(), 'tributary-s3-')));
    await expect(reader.read({ bucket: 'b', key: '../../etc/passwd' }, { maxBytes: 10 })).rejects.toThrow(/leaves/);
  });

  it('reads S3 objects with a ranged GetObject in the region of the notification\'s topic', async () => {
    const s3Mock = mockClient(S3Client);
    try {
      const mime = emailFixture('ses-message.eml');
      s3Mock.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(mime) } } as any);
      const regions: (string | undefined)[] = [];
      const objectReader = createS3ObjectReader({ clientFor: (region) => (regions.push(region), new S3Client({ region: region ?? 'us-east-1' })) });
      const received = await connectorWith({ objectReader }).receive(post(s3), connection);
      expect(received.deliveryId).toBe('platform@acme.example/b7e0c1d2-77aa-4c1b-9e0f-5d1c2a3b4c5d@partner.example');
      expect(regions).toEqual(['us-east-1']);
      expect(s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({
        Bucket: 'acme-inbound-mail',
        Key: 'platform/9q4v2l3bq7m1h0ss1b4b5ui2d4o8k0ee1ubm7ag1',
        Range: `bytes=0-${10 * 1024 * 1024}`,
      });
    } finally {
      s3Mock.restore();
    }
  });

  it('fails as a server error (so SNS retries) when S3 refuses the read', async () => {
    const s3Mock = mockClient(S3Client);
    try {
      s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
      const objectReader = createS3ObjectReader();
      const attempt = rejection(() => connectorWith({ objectReader }).receive(post(s3), connection));
      await expect(attempt).rejects.toThrow(/Access Denied/);
      await expect(attempt).rejects.not.toBeInstanceOf(AppError);
    } finally {
      s3Mock.restore();
    }
  });

  it.each([
    ['spam', (n: any) => (n.receipt.spamVerdict.status = 'FAIL'), /spam/],
    ['a virus', (n: any) => (n.receipt.virusVerdict.status = 'FAIL'), /virus/],
  ])('records a message SES marked as %s, then ignores it', async (_, edit, reason) => {
    const email = connectorWith();
    const request = post(withNotification(edit));
    const received = await email.receive(request, connection);
    expect(await email.normalize(storedDelivery(received.event, request.body), { connection, jiraProjects: {} })).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(reason),
    });
  });

  it('records and ignores notifications that carry no mail (SES setup test, other publishers)', async () => {
    const email = connectorWith();
    const setupTest = signSns({ ...inline, Message: JSON.stringify({ notificationType: 'AmazonSnsSubscriptionSucceeded', message: 'ok' }) });
    const received = await email.receive(post(setupTest), connection);
    expect(received).toEqual({ event: 'ses.AmazonSnsSubscriptionSucceeded', deliveryId: `platform@acme.example/sns:${inline.MessageId}` });
    expect(await email.normalize(storedDelivery(received.event, post(setupTest).body), { connection, jiraProjects: {} })).toMatchObject({ outcome: 'ignored' });
    expect((await email.receive(post(signSns({ ...inline, Message: 'hello' })), connection)).event).toBe('ses.unknown');
  });

  it('rejects a Received notification whose content is not a MIME message (400)', async () => {
    const notMail = withNotification((n) => (n.content = Buffer.from('just some text').toString('base64')));
    await expect(rejection(() => connectorWith().receive(post(notMail), connection))).rejects.toThrow(/The SES message is not a MIME message: .* starts with "just some text"/);
    const noContent = withNotification((n) => delete n.content);
    await expect(rejection(() => connectorWith().receive(post(noContent), connection))).rejects.toThrow(/no content and names no S3 object/);
  });

  it('reads UTF8-encoded inline content', async () => {
    const utf8 = withNotification((n) => {
      n.receipt.action.encoding = 'UTF8';
      n.content = emailFixture('ses-message.eml').toString('utf8');
    });
    expect((await connectorWith().receive(post(utf8), connection)).deliveryId).toMatch(/b7e0c1d2/);
  });

  it('accepts a message without From, Date or Message-ID, named by the sha256 of its content, and ignores it for want of a sender', async () => {
    const mime = Buffer.from('To: platform@acme.example\r\nSubject: Scanned document\r\n\r\nPages: 1\r\n');
    const email = connectorWith();
    const request = post(withNotification((n) => (n.content = mime.toString('base64'))));
    const received = await email.receive(request, connection);
    expect(received).toEqual({ event: 'ses.Received', deliveryId: `platform@acme.example/sha256:${sha256Hex(mime)}` });
    expect(await email.normalize(storedDelivery(received.event, request.body), { connection, jiraProjects: {} })).toMatchObject({
      outcome: 'ignored',
      reason: 'The message names no sender: it has no From header and no Sender.',
    });
  });
});
