import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEmailConnector, EmailSettings } from '../../connectors/email/index.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnauthorizedError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/ids.ts';
import { basicAuth, emailFixture, emailJsonFixture, storedDelivery } from '../support/email.ts';

const email = createEmailConnector();
const SECRET = 'whsec_postmark';
const settings = EmailSettings.parse({ provider: 'postmark', address: 'platform@acme.example' });
const connection = { id: 'con_pm', settings, secrets: [SECRET] };
const inbound = emailJsonFixture('postmark-inbound.json');

const post = (payload: unknown, headers: Record<string, string> = {}): WebhookRequest => ({
  headers: { 'content-type': 'application/json', authorization: basicAuth('tributary', SECRET), ...headers },
  body: new TextEncoder().encode(JSON.stringify(payload)),
});
const rejection = (run: () => unknown) => Promise.resolve().then(run);
const normalize = (payload: unknown) => email.normalize(storedDelivery('postmark.inbound', post(payload).body), { connection, jiraProjects: {} });

describe('email (postmark provider): credentials', () => {
  it('accepts basic auth with the default user and the connection secret', async () => {
    await expect(rejection(() => email.verify(post(inbound), connection))).resolves.toBeUndefined();
  });

  it('accepts a password given at creation, keeping only its sha256 in the settings', async () => {
    const given = EmailSettings.parse({ provider: 'postmark', address: 'platform@acme.example', username: 'postmark', password: 'correct horse battery staple' });
    expect(given).not.toHaveProperty('password');
    expect(given).toMatchObject({ passwordSha256: createHash('sha256').update('correct horse battery staple').digest('hex') });
    // what is stored parses again unchanged (settings are re-read on every delivery)
    expect(EmailSettings.parse(given)).toEqual(given);
    const withGiven = { ...connection, settings: given };
    const request = post(inbound, { authorization: basicAuth('postmark', 'correct horse battery staple') });
    await expect(rejection(() => email.verify(request, withGiven))).resolves.toBeUndefined();
  });

  it.each([
    ['no credentials', {}, /no basic-auth credentials/],
    ['a wrong password', { authorization: basicAuth('tributary', 'guess') }, /credentials are wrong/],
    ['a wrong user', { authorization: basicAuth('admin', SECRET) }, /credentials are wrong/],
    ['a bearer token', { authorization: `Bearer ${SECRET}` }, /no basic-auth credentials/],
  ])('rejects %s as 401 invalid-credentials', async (_, headers, detail) => {
    const request = post(inbound);
    const { authorization: _a, ...rest } = request.headers;
    const attempt = rejection(() => email.verify({ ...request, headers: { ...rest, ...headers } }, connection));
    await expect(attempt).rejects.toThrow(UnauthorizedError);
    await expect(attempt).rejects.toMatchObject({ type: 'invalid-credentials', message: expect.stringMatching(detail) });
  });
});

describe('email (postmark provider): receive', () => {
  it('accepts a message without a sender, or without Message-ID and Date (named by the sha256 of the body), to judge it later', async () => {
    const { From: _f, FromFull: _ff, ...withoutSender } = inbound;
    expect(await email.receive(post(withoutSender), connection)).toMatchObject({ event: 'postmark.inbound' });
    expect(await normalize(withoutSender)).toMatchObject({ outcome: 'ignored', reason: 'The message names no sender: it has no From header and no Sender.' });
    const anonymous = { ...inbound, Date: undefined, Headers: inbound.Headers.filter((h: { Name: string }) => !/^message-id$/i.test(h.Name)) };
    const received = await email.receive(post(anonymous), connection);
    expect(received.deliveryId).toBe(`platform@acme.example/sha256:${sha256Hex(post(anonymous).body)}`);
    expect(await normalize(anonymous)).toMatchObject({
      outcome: 'changes',
      changes: [{ item: { ref: `email:platform@acme.example/sha256:${sha256Hex(post(anonymous).body)}`, createdAt: '2024-03-10T00:00:00.000Z' } }],
    });
  });

  it('identifies the delivery by the Message-ID header, not by Postmark\'s own MessageID', async () => {
    expect(await email.receive(post(inbound), connection)).toEqual({
      event: 'postmark.inbound',
      deliveryId: 'platform@acme.example/CAGXpo2WKfxHWZ5UFYCR3H_J9SNMG+5AXUovfEFL6DjWBJSyZaA@mail.gmail.com',
    });
  });

  it('rejects other content types (415) and bodies that are not a JSON object (400)', async () => {
    await expect(rejection(() => email.receive(post(inbound, { 'content-type': 'application/x-www-form-urlencoded' }), connection))).rejects.toThrow(
      UnsupportedMediaTypeError,
    );
    await expect(rejection(() => email.receive(post([inbound]), connection))).rejects.toThrow(MalformedPayloadError);
  });

  it('accepts optional fields in other forms, reading them as absent: a header or attachment that cannot be read is left out alone', async () => {
    const headers = [...inbound.Headers.map((h: object, i: number) => (i === 1 ? { ...h, Value: { nested: ['x'] } } : h)), 42];
    const odd = { ...inbound, FromFull: '2024-13-45T99:99:99Z', Subject: 7, Headers: headers, Attachments: [{ Name: 'a.txt', ContentLength: 'big', Content: 'aGk=' }] };
    expect(await email.receive(post(odd), connection)).toEqual(await email.receive(post(inbound), connection));
    expect(await email.receive(post({ ...inbound, Headers: 'none' }), connection)).toMatchObject({ event: 'postmark.inbound' });
    const result = await normalize(odd);
    if (result.outcome !== 'changes' || result.changes[0]!.op !== 'upsert') throw new Error('expected an upsert');
    // FromFull unreadable: From names the sender; no Subject: the title comes from the text.
    expect(result.changes[0]!.item.requester).toMatchObject({ emails: ['priya@retail.example'] });
    expect(result.changes[0]!.item.title).not.toBe('Access to the prod read replica [P1]');
  });
});

describe('email (postmark provider): normalize', () => {
  it('maps the inbound JSON: sender, subject tag priority, links from the text without its quoted history (a browse URL names the Jira site)', async () => {
    const result = await normalize(inbound);
    expect(result).toMatchObject({
      outcome: 'changes',
      changes: [
        {
          item: {
            ref: 'email:platform@acme.example/CAGXpo2WKfxHWZ5UFYCR3H_J9SNMG+5AXUovfEFL6DjWBJSyZaA@mail.gmail.com',
            title: 'Access to the prod read replica [P1]',
            priority: { name: '[P1]', level: 'high' },
            requester: { name: 'Priya Raman', emails: ['priya@retail.example'] },
            createdAt: '2024-03-08T06:02:07.000Z',
            status: { name: 'new', category: 'todo' },
          },
        },
      ],
    });
    if (result.outcome !== 'changes' || result.changes[0]!.op !== 'upsert') throw new Error('expected an upsert');
    expect(result.changes[0]!.item.links.map((l) => l.target)).toEqual(['jira:acme.atlassian.net/ACME-77', 'github:octo/analytics#4']);
  });

  it('prefers the raw message when "Include raw email content" is on', async () => {
    const raw = emailFixture('request-latin1.eml').toString('latin1');
    const result = await normalize({ ...inbound, RawEmail: raw });
    expect(result).toMatchObject({ changes: [{ item: { title: 'Petición: réplica de base de datos para informes' } }] });
  });

  it('falls back to the HTML body when there is no text body', async () => {
    const result = await normalize({ ...inbound, TextBody: '', HtmlBody: '<p>Please see <b>ACME-5</b></p>' });
    expect(result).toMatchObject({ changes: [{ item: { links: [{ target: 'jira:ACME-5' }] } }] });
  });
});
