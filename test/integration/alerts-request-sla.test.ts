import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepAlerts } from '../../pipeline/alerts.ts';
import { tributarySignature } from '../support/email.ts';
import { type TestHub, settled, startTestHub } from '../support/hub.ts';

const SILENT = { info: () => {}, warn: () => {}, error: () => {} };
const HOUR = 3_600_000;
const RECEIVED = new Date('2026-03-02T09:00:00.000Z');

/** A customer's message to `mailbox`, sent when the test's clock starts. */
const request = (mailbox: string, messageId: string) =>
  [
    'From: Ana Lima <ana.lima@customer.example>',
    `To: <${mailbox}>`,
    `Subject: Our export has been failing since Monday (${messageId})`,
    `Date: ${RECEIVED.toUTCString()}`,
    `Message-ID: <${messageId}@customer.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    'Hello, the nightly export fails with a timeout. Can you look at it?',
    '',
  ].join('\r\n');

describe('request_unanswered: a mailbox\'s own SLA comes before the tenant\'s', () => {
  let hub: TestHub;
  let now = RECEIVED;
  let token = '';

  const unanswered = async () =>
    ((await hub.api('GET', '/v1/alerts?kind=request_unanswered&state=open', undefined, token)).body.items as any[]).map((a) => a.message as string);

  beforeAll(async () => {
    hub = await startTestHub({ clock: () => now, env: { TRIBUTARY_SWEEP_INTERVAL_SECONDS: '0' } });
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'support desk' })).body as { adminToken: string };
    token = tenant.adminToken;
    // The tenant's SLA stays the default (24 hours); the urgent mailbox promises an answer within 2.
    const urgent = await hub.createConnection('email', token, { provider: 'raw', address: 'urgent@acme.example', slaHours: 2 });
    const support = await hub.createConnection('email', token, { provider: 'raw', address: 'support@acme.example' });
    for (const [connection, mailbox] of [
      [urgent, 'urgent@acme.example'],
      [support, 'support@acme.example'],
    ] as const) {
      const message = request(mailbox, mailbox.split('@')[0]!);
      const response = await fetch(`${hub.url}/hooks/email/${connection.id}`, {
        method: 'POST',
        headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(message, connection.secret) },
        body: message,
      });
      expect(response.status).toBe(202);
    }
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('raises nothing while both requests are inside their SLA', async () => {
    now = new Date(RECEIVED.getTime() + 1 * HOUR);
    await sweepAlerts({ db: hub.hub.db, clock: () => now, log: SILENT });
    expect(await unanswered()).toEqual([]);
  });

  it('raises the request to the 2-hour mailbox after 3 hours, and not the one under the tenant\'s 24 hours', async () => {
    now = new Date(RECEIVED.getTime() + 3 * HOUR);
    await sweepAlerts({ db: hub.hub.db, clock: () => now, log: SILENT });
    const messages = await unanswered();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/urgent.*past the 2-hour SLA/);
  });

  it('raises the other one once the tenant\'s SLA has passed', async () => {
    now = new Date(RECEIVED.getTime() + 25 * HOUR);
    await sweepAlerts({ db: hub.hub.db, clock: () => now, log: SILENT });
    const messages = await unanswered();
    expect(messages).toHaveLength(2);
    expect(messages.some((m) => /past the 24-hour SLA/.test(m))).toBe(true);
  });
});
