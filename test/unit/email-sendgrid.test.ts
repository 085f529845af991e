import { describe, expect, it } from 'vitest';
import { createEmailConnector, EmailSettings } from '../../connectors/email/index.ts';
import { parseFormData } from '../../connectors/email/form-data.ts';
import { messageFromMime } from '../../connectors/email/message.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnauthorizedError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/ids.ts';
import { basicAuth, emailFixture, formData, storedDelivery } from '../support/email.ts';

const email = createEmailConnector();
const SECRET = 'whsec_sendgrid';
const connection = { id: 'con_sg', settings: EmailSettings.parse({ provider: 'sendgrid', address: 'platform@acme.example' }), secrets: [SECRET] };
const CONTENT_TYPE = 'multipart/form-data; boundary=xYzZY';

const post = (body: Uint8Array, headers: Record<string, string> = {}): WebhookRequest => ({
  headers: { 'content-type': CONTENT_TYPE, authorization: basicAuth('tributary', SECRET), ...headers },
  body,
});
const rejection = (run: () => unknown) => Promise.resolve().then(run);
const parsedMode = emailFixture('sendgrid-parsed.multipart');
const rawMode = emailFixture('sendgrid-raw.multipart');
const normalize = (body: Uint8Array) =>
  email.normalize(storedDelivery('sendgrid.inbound', body, { 'content-type': CONTENT_TYPE }), { connection, jiraProjects: {} });

describe('email (sendgrid provider)', () => {
  it('authenticates Inbound Parse with basic auth in the destination URL', async () => {
    await expect(rejection(() => email.verify(post(parsedMode), connection))).resolves.toBeUndefined();
    await expect(rejection(() => email.verify(post(parsedMode, { authorization: basicAuth('tributary', 'nope') }), connection))).rejects.toThrow(
      UnauthorizedError,
    );
  });

  it('identifies a parsed-mode post by the Message-ID of its headers field', async () => {
    expect(await email.receive(post(parsedMode), connection)).toEqual({
      event: 'sendgrid.inbound',
      deliveryId: 'platform@acme.example/5f2c1e0a.1c69fb81.2b3c4.9d8e@mail.chantier.example',
    });
  });

  it('decodes each field in the charset SendGrid lists for it, and keeps attachments as metadata', async () => {
    const result = await normalize(parsedMode);
    expect(result).toMatchObject({
      outcome: 'changes',
      changes: [
        {
          item: {
            ref: 'email:platform@acme.example/5f2c1e0a.1c69fb81.2b3c4.9d8e@mail.chantier.example',
            title: 'Déploiement bloqué sur staging',
            requester: { name: 'Renée Dupré', emails: ['renee@chantier.example'] },
            createdAt: '2024-03-08T12:01:40.000Z',
            links: [{ target: 'jira:ACME-55', type: 'relates' }],
          },
        },
      ],
    });
    const fields = parseFormData(CONTENT_TYPE, parsedMode);
    expect(fields.get('attachment1')).toMatchObject({ filename: 'capture.png', contentType: 'image/png' });
    expect(fields.get('attachment1')!.bytes.byteLength).toBe(1024);
  });

  it('accepts a raw message without From, named by the sha256 of the message, and ignores it for want of a sender', async () => {
    const mime = Buffer.from('Subject: x\r\n\r\nx');
    const body = formData([{ name: 'email', value: mime }]).body;
    expect((await email.receive(post(body), connection)).deliveryId).toBe(`platform@acme.example/sha256:${sha256Hex(mime)}`);
    expect(await normalize(body)).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/no From header/) });
  });

  it('reads the "send raw" variant from its email field', async () => {
    expect((await email.receive(post(rawMode), connection)).deliveryId).toBe('platform@acme.example/CAKx9r=Q1v2@mail.gmail.com');
    expect(await normalize(rawMode)).toMatchObject({
      changes: [{ item: { title: 'Need a new Kafka topic for shipment events', links: [{ target: 'github:octo/shipping#31' }] } }],
    });
  });

  it('keeps bytes of non-UTF-8 fields intact through the form parser', async () => {
    const latin1 = Buffer.from('Grüße', 'latin1');
    const { body, contentType } = formData([{ name: 'text', value: latin1 }]);
    expect(Buffer.from(parseFormData(contentType, body).get('text')!.bytes)).toEqual(latin1);
    const mime = Buffer.from('From: a@b.example\r\nDate: Mon, 4 Mar 2024 09:00:00 +0000\r\n\r\nx');
    const raw = formData([{ name: 'email', value: mime }]);
    expect((await messageFromMime(parseFormData(raw.contentType, raw.body).get('email')!.bytes)).from?.address).toBe('a@b.example');
  });

  it.each([
    ['JSON', { 'content-type': 'application/json' }, rawMode, UnsupportedMediaTypeError, /multipart\/form-data/],
    ['a form without a boundary', { 'content-type': 'multipart/form-data' }, rawMode, MalformedPayloadError, /no boundary/],
    ['a form without headers or email', {}, formData([{ name: 'text', value: 'hi' }]).body, MalformedPayloadError, /neither an "email" field/],
    ['an email field that is not a MIME message', {}, formData([{ name: 'email', value: '<html>hi</html>' }]).body, MalformedPayloadError, /not a MIME message/],
  ])('rejects %s', async (_, headers, body, type, detail) => {
    const attempt = rejection(() => email.receive(post(body, headers), connection));
    await expect(attempt).rejects.toThrow(type);
    await expect(attempt).rejects.toThrow(detail);
  });
});
