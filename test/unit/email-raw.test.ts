import { describe, expect, it } from 'vitest';
import { createEmailConnector, EmailSettings } from '../../connectors/email/index.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnauthorizedError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/ids.ts';
import { emailFixture, storedDelivery, tributarySignature } from '../support/email.ts';

const email = createEmailConnector();
const SECRET = 'whsec_current';
const connection = { id: 'con_raw', settings: EmailSettings.parse({ provider: 'raw', address: 'Platform@Acme.example' }), secrets: [SECRET, 'whsec_previous'] };
const context = { connection, jiraProjects: {} };

const request = (body: Uint8Array, headers: Record<string, string> = {}): WebhookRequest => ({
  headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(body, SECRET), ...headers },
  body,
});

const message = emailFixture('request-multipart-qp.eml');

describe('email (raw provider): verify', () => {
  it('accepts a message signed with the current secret, and with a secret still inside its rotation window', async () => {
    await expect(Promise.resolve(email.verify(request(message), connection))).resolves.toBeUndefined();
    const withPrevious = request(message, { 'x-tributary-signature': tributarySignature(message, 'whsec_previous') });
    await expect(Promise.resolve(email.verify(withPrevious, connection))).resolves.toBeUndefined();
  });

  it.each([
    ['no signature', { 'x-tributary-signature': '' }, /no X-Tributary-Signature header/],
    ['a garbled signature', { 'x-tributary-signature': 'sha1=abc' }, /not of the form/],
    ['a signature with another secret', { 'x-tributary-signature': tributarySignature(message, 'whsec_other') }, /does not match the body/],
  ])('rejects a message with %s as 401 invalid-signature', async (_, headers, detail) => {
    const attempt = Promise.resolve().then(() => email.verify(request(message, headers), connection));
    await expect(attempt).rejects.toThrow(UnauthorizedError);
    await expect(attempt).rejects.toMatchObject({ status: 401, type: 'invalid-signature', message: expect.stringMatching(detail) });
  });

  it('rejects a body changed after signing', async () => {
    const signed = request(message);
    const changed = { ...signed, body: Buffer.concat([message, Buffer.from('x')]) };
    await expect(Promise.resolve().then(() => email.verify(changed, connection))).rejects.toThrow(/does not match/);
  });
});

describe('email (raw provider): receive', () => {
  it('identifies the delivery by mailbox and Message-ID, reading only the headers', async () => {
    expect(await email.receive(request(message), connection)).toEqual({
      event: 'raw.message',
      deliveryId: 'platform@acme.example/CAH5o0vW1x+checkout-502@mail.gmail.com',
    });
  });

  it('identifies a message without Message-ID by the sha256 of its bytes', async () => {
    const body = Buffer.from('From: ana@customer.example\r\nDate: Mon, 4 Mar 2024 09:00:00 +0000\r\nSubject: hi\r\n\r\nbody\r\n');
    expect((await email.receive(request(body), connection)).deliveryId).toBe(`platform@acme.example/sha256:${sha256Hex(body)}`);
  });

  it('rejects other content types as 415', async () => {
    const attempt = Promise.resolve().then(() => email.receive(request(message, { 'content-type': 'text/plain' }), connection));
    await expect(attempt).rejects.toThrow(UnsupportedMediaTypeError);
    await expect(attempt).rejects.toThrow(/message\/rfc822/);
  });

  it.each([
    ['has no From header', 'Date: Mon, 4 Mar 2024 09:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\nx', 'platform@acme.example/a@b'],
    ['has a From without an address', 'From: undisclosed\r\nMessage-ID: <a@b>\r\n\r\nx', 'platform@acme.example/a@b'],
    ['has neither Date nor Message-ID', 'From: ana@customer.example\r\nSubject: x\r\n\r\nx', `platform@acme.example/sha256:${sha256Hex('From: ana@customer.example\r\nSubject: x\r\n\r\nx')}`],
    ['starts with an mbox From_ line', 'From ana@customer.example Mon Mar  4 09:00:00 2024\r\nFrom: ana@customer.example\r\nMessage-ID: <a@b>\r\n\r\nx', 'platform@acme.example/a@b'],
  ])('accepts a message that %s: whether it is a request is judged in processing', async (_, text, deliveryId) => {
    expect(await email.receive(request(Buffer.from(text)), connection)).toEqual({ event: 'raw.message', deliveryId });
  });

  it.each([
    ['is JSON', '{"from":"ana@customer.example"}', /not a MIME message: .* starts with "\{\\"from\\":/],
    ['is HTML', '<html><body>hi</body></html>', /not a MIME message/],
    ['is empty', '', /not a MIME message: .* it is empty/],
    ['starts with an empty line', '\r\nFrom: a@b.example\r\n\r\nx', /starts with an empty line/],
  ])('rejects a body that %s as 400: it is not a MIME message', async (_, text, detail) => {
    const attempt = Promise.resolve().then(() => email.receive(request(Buffer.from(text)), connection));
    await expect(attempt).rejects.toThrow(MalformedPayloadError);
    await expect(attempt).rejects.toThrow(detail);
  });
});

describe('email (raw provider): normalize', () => {
  it('turns the stored message into a request item of the mailbox', async () => {
    const result = await email.normalize(storedDelivery('raw.message', message), context);
    expect(result).toMatchObject({
      outcome: 'changes',
      event: 'raw.message',
      changes: [
        {
          op: 'upsert',
          item: {
            ref: 'email:platform@acme.example/CAH5o0vW1x+checkout-502@mail.gmail.com',
            source: 'email',
            kind: 'request',
            title: 'Checkout returns 502 in staging – blocks Friday release',
            container: { source: 'email', key: 'platform@acme.example' },
            status: { name: 'new', category: 'todo' },
            createdAt: '2024-03-04T17:15:02.000Z',
          },
        },
      ],
    });
  });

  it('ignores deliveries of an event no provider stores', async () => {
    expect(await email.normalize(storedDelivery('imap.message', message), context)).toMatchObject({ outcome: 'ignored' });
  });
});
