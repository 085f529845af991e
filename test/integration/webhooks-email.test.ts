import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { createDirectoryObjectReader, createEmailConnector } from '../../connectors/email/index.ts';
import { github } from '../../connectors/github/index.ts';
import { loadConfig } from '../../functions/config.ts';
import { startLocalHub } from '../../functions/local-hub.ts';
import {
  basicAuth,
  emailFixture,
  emailJsonFixture,
  sesNotification,
  signSns,
  snsHeaders,
  testCertificateFetcher,
  tributarySignature,
} from '../support/email.ts';
import { OPERATOR_TOKEN, TestHub, eventually, settled, uniqueTable } from '../support/hub.ts';

const MAILBOX = 'platform@acme.example';
const ROOT_REF = `email:${MAILBOX}/CAH5o0vW1x+checkout-502@mail.gmail.com`;

describe('email webhooks over HTTP', () => {
  let hub: TestHub;
  let objects: string;
  const confirmSubscription = vi.fn(async (_url: string) => {});

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-test-'));
    objects = mkdtempSync(join(tmpdir(), 'tributary-objects-'));
    // The hub as in production, except that SNS certificates, SNS confirmations and S3 stay on this machine.
    const email = createEmailConnector({ fetchCertificate: testCertificateFetcher, confirmSubscription, objectReader: createDirectoryObjectReader(objects) });
    const local = await startLocalHub({
      config: loadConfig({
        PORT: '0',
        DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        TRIBUTARY_TABLE: uniqueTable('email'),
        TRIBUTARY_DATA_DIR: dataDir,
        TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN,
        TRIBUTARY_LOG_LEVEL: 'silent',
      }),
      connectors: [github, email],
      pollMs: 50,
    });
    hub = new TestHub(local, dataDir);
  });
  afterAll(() => hub.close());

  const post = async (connectionId: string, body: Uint8Array | string, headers: Record<string, string>) => {
    const response = await fetch(`${hub.url}/hooks/email/${connectionId}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, contentType: response.headers.get('content-type') };
  };
  const postRaw = (connection: { id: string; secret: string }, message: Uint8Array, secret = connection.secret) =>
    post(connection.id, message, { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(message, secret) });
  const item = async (ref: string) => (await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`)).body;
  const emailItems = async () => (await hub.api('GET', '/v1/items?source=email&limit=100')).body.items as any[];

  describe('raw provider', () => {
    let connection: { id: string; secret: string; webhookUrl: string };
    beforeAll(async () => {
      connection = await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'raw', address: MAILBOX, team: 'platform' });
    });

    it('creates a connection whose webhook URL points at /hooks/email/{id}', () => {
      expect(connection.webhookUrl).toBe(`${hub.hub.publicUrl}/hooks/email/${connection.id}`);
    });

    it('indexes a signed message as a request, and answers its redelivery as a duplicate', async () => {
      const message = emailFixture('request-multipart-qp.eml');
      const deliveryId = `${MAILBOX}/CAH5o0vW1x+checkout-502@mail.gmail.com`;
      expect(await postRaw(connection, message)).toMatchObject({ status: 202, body: { deliveryId, status: 'accepted' } });
      expect(await postRaw(connection, message)).toMatchObject({ status: 202, body: { deliveryId, status: 'duplicate' } });
      const request = await eventually(async () => (await hub.api('GET', `/v1/items/${encodeURIComponent(ROOT_REF)}`)).status === 200 && item(ROOT_REF));
      expect(request).toMatchObject({
        ref: ROOT_REF,
        source: 'email',
        kind: 'request',
        category: 'request',
        team: 'platform',
        title: 'Checkout returns 502 in staging – blocks Friday release',
        status: { name: 'new', category: 'todo' },
        priority: { level: 'urgent' },
        requester: { name: 'Ana Lima', emails: ['ana.lima@customer.example'] },
        createdAt: '2024-03-04T17:15:02.000Z',
      });
      expect(request.links.map((l: any) => l.target).sort()).toEqual(['github:octo/api#12', 'jira:ACME-42']);
    });

    it('threads replies into the same item: the team answers, the requester writes again', async () => {
      expect((await postRaw(connection, emailFixture('reply-from-team.eml'))).status).toBe(202);
      await eventually(async () => (await item(ROOT_REF)).status?.category === 'in_progress', { what: 'the team reply' });
      expect((await postRaw(connection, emailFixture('reply-from-requester.eml'))).status).toBe(202);
      await eventually(async () => (await item(ROOT_REF)).status?.name === 'waiting', { what: 'the follow-up' });
      await settled(hub);

      const thread = (await emailItems()).filter((i) => i.ref.includes('checkout-502'));
      expect(thread).toHaveLength(1);
      expect(thread[0]).toMatchObject({ updatedAt: '2024-03-04T21:05:31.000Z', startedAt: '2024-03-04T18:40:00.000Z', createdAt: '2024-03-04T17:15:02.000Z' });
      const types = hub.publishedEvents().filter((e) => e.subject === ROOT_REF).map((e) => e.type);
      expect(types.filter((t) => t === 'work.item.created')).toHaveLength(1);
      expect(types).toEqual(expect.arrayContaining(['work.item.status_changed', 'work.link.added']));
    });

    it('refuses what it cannot trust or read with problem+json, and indexes nothing', async () => {
      const before = (await emailItems()).length;
      const latin1 = emailFixture('request-latin1.eml');
      const unsigned = await post(connection.id, latin1, { 'content-type': 'message/rfc822' });
      expect(unsigned).toMatchObject({ status: 401, contentType: 'application/problem+json', body: { type: expect.stringMatching(/invalid-signature/) } });
      expect(await postRaw(connection, latin1, 'whsec_wrong')).toMatchObject({ status: 401 });
      const json = Buffer.from('{"subject":"hi"}');
      expect(await post(connection.id, json, { 'content-type': 'application/json', 'x-tributary-signature': tributarySignature(json, connection.secret) })).toMatchObject({ status: 415 });
      expect(await postRaw(connection, json)).toMatchObject({ status: 400, contentType: 'application/problem+json', body: { detail: expect.stringMatching(/not a MIME message/) } });
      await settled(hub);
      expect((await emailItems()).length).toBe(before);
    });

    it('accepts a message without Message-ID and Date, indexes it dated when it arrived, and dedupes its retry by its content', async () => {
      const message = emailFixture('no-message-id-no-date.eml');
      const deliveryId = `${MAILBOX}/sha256:${createHash('sha256').update(message).digest('hex')}`;
      const before = Date.now();
      expect(await postRaw(connection, message)).toMatchObject({ status: 202, body: { deliveryId, status: 'accepted' } });
      expect(await postRaw(connection, message)).toMatchObject({ status: 202, body: { deliveryId, status: 'duplicate' } });
      const ref = `email:${deliveryId}`;
      const request = await eventually(async () => (await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`)).status === 200 && item(ref));
      expect(request).toMatchObject({ title: 'Checkout p99 latency above 2s', requester: { name: 'Grafana Alerts', emails: ['alerts@grafana.acme.example'] } });
      expect(Date.parse(request.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    });

    it('accepts a message without any sender, and lists it as ignored with its reason', async () => {
      const before = (await emailItems()).length;
      const message = emailFixture('no-sender.eml');
      const deliveryId = `${MAILBOX}/000001da7911$2b6c3f50$0a00141f@scanner-2f`;
      expect(await postRaw(connection, message)).toMatchObject({ status: 202, body: { deliveryId, status: 'accepted' } });
      const ignored = await eventually(async () =>
        ((await hub.api('GET', '/v1/deliveries?status=ignored&source=email')).body.items as any[]).find((d) => d.deliveryId === deliveryId),
      );
      expect(ignored).toMatchObject({
        source: 'email',
        connectionId: connection.id,
        event: 'raw.message',
        status: 'ignored',
        reason: 'The message names no sender: it has no From header and no Sender.',
      });
      expect((await emailItems()).length).toBe(before);
    });
  });

  describe('ses provider', () => {
    let connection: { id: string; secret: string };
    const TOPIC = 'arn:aws:sns:us-east-1:123456789012:platform-inbound';
    const postSns = (message: any) => post(connection.id, JSON.stringify(message), snsHeaders(message));
    beforeAll(async () => {
      connection = await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'ses', address: MAILBOX, topicArns: [TOPIC] });
    });

    it('confirms the SNS subscription and stores nothing', async () => {
      const confirmation = emailJsonFixture('sns-subscription-confirmation.json');
      expect(await postSns(confirmation)).toMatchObject({ status: 200, body: { ok: true, confirmed: TOPIC } });
      expect(confirmSubscription).toHaveBeenCalledWith(confirmation.SubscribeURL);
    });

    it('indexes an inline SES notification, and a redelivery of the same mail as a duplicate', async () => {
      const notification = emailJsonFixture('ses-received-notification.json');
      expect(await postSns(notification)).toMatchObject({ status: 202, body: { status: 'accepted' } });
      // SNS redelivers with a new MessageId; SES may also deliver one mail twice: the Message-ID decides.
      const again = signSns({ ...notification, MessageId: crypto.randomUUID() });
      expect(await postSns(again)).toMatchObject({ status: 202, body: { status: 'duplicate' } });
      const ref = `email:${MAILBOX}/b7e0c1d2-77aa-4c1b-9e0f-5d1c2a3b4c5d@partner.example`;
      await eventually(async () => (await item(ref)).title === 'TLS certificate for api.acme.example expires in 9 days');
    });

    it('reads a message an S3 action stored', async () => {
      const mime = Buffer.from(
        'From: Dana <dana@shop.example>\r\nTo: platform@acme.example\r\nSubject: Disk full on build agents\r\n' +
          'Date: Sat, 9 Mar 2024 07:00:00 +0000\r\nMessage-ID: <disk-full@shop.example>\r\n\r\nAll agents report ENOSPC.\r\n',
      );
      mkdirSync(join(objects, 'acme-inbound-mail', 'platform'), { recursive: true });
      writeFileSync(join(objects, 'acme-inbound-mail', 'platform', 'obj-1'), mime);
      const s3 = JSON.parse(emailJsonFixture('ses-received-s3-notification.json').Message);
      s3.receipt.action.objectKey = 'platform/obj-1';
      expect(await postSns(sesNotification(s3))).toMatchObject({ status: 202, body: { deliveryId: `${MAILBOX}/disk-full@shop.example` } });
      await eventually(async () => (await item(`email:${MAILBOX}/disk-full@shop.example`)).title === 'Disk full on build agents');
    });

    it('refuses a message SNS did not sign (401) and a topic the connection does not accept (403)', async () => {
      const notification = emailJsonFixture('ses-received-notification.json');
      expect(await postSns({ ...notification, Subject: 'changed' })).toMatchObject({ status: 401 });
      const otherTopic = signSns({ ...notification, TopicArn: 'arn:aws:sns:us-east-1:123456789012:other' });
      expect(await postSns(otherTopic)).toMatchObject({ status: 403 });
    });
  });

  describe('postmark and sendgrid providers', () => {
    it('indexes a Postmark inbound webhook sent with basic auth', async () => {
      const connection = await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'postmark', address: MAILBOX });
      const body = emailFixture('postmark-inbound.json');
      const headers = { 'content-type': 'application/json', authorization: basicAuth('tributary', connection.secret) };
      expect(await post(connection.id, body, headers)).toMatchObject({ status: 202, body: { status: 'accepted' } });
      expect(await post(connection.id, body, { ...headers, authorization: basicAuth('tributary', 'wrong') })).toMatchObject({ status: 401 });
      const ref = `email:${MAILBOX}/CAGXpo2WKfxHWZ5UFYCR3H_J9SNMG+5AXUovfEFL6DjWBJSyZaA@mail.gmail.com`;
      await eventually(async () => (await item(ref)).requester?.name === 'Priya Raman');
    });

    it('indexes a SendGrid Inbound Parse post', async () => {
      const connection = await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'sendgrid', address: MAILBOX });
      const headers = { 'content-type': 'multipart/form-data; boundary=xYzZY', authorization: basicAuth('tributary', connection.secret) };
      expect(await post(connection.id, emailFixture('sendgrid-parsed.multipart'), headers)).toMatchObject({ status: 202 });
      const ref = `email:${MAILBOX}/5f2c1e0a.1c69fb81.2b3c4.9d8e@mail.chantier.example`;
      await eventually(async () => (await item(ref)).title === 'Déploiement bloqué sur staging');
    });
  });

  it('never shows a Postmark password, not even its hash', async () => {
    const connection = await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'postmark', address: MAILBOX, password: 'a-long-postmark-password' });
    const shown = await hub.api('GET', `/v1/connections/${connection.id}`);
    expect(shown.body.settings.passwordSha256).toBe('********');
    expect(JSON.stringify((await hub.api('GET', '/v1/connections')).body)).not.toMatch(/[0-9a-f]{64}/);
  });

  it('validates the connection settings: a provider and a mailbox address', async () => {
    const missing = await hub.api('POST', '/v1/connections', { source: 'email', name: 'no address', provider: 'raw' });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body.errors)).toMatch(/address/);
    const unknown = await hub.api('POST', '/v1/connections', { source: 'email', name: 'imap', provider: 'imap', address: MAILBOX });
    expect(unknown.status).toBe(422);
  });
});
