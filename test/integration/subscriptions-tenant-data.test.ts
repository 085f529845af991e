import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../store/keys.ts';
import { DANA, DANA_TERMS, issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { readAllRows } from '../support/table-rows.ts';
import { type Receiver, startReceiver } from '../support/webhook-receiver.ts';

const named = (text: string) => DANA_TERMS.filter((term) => text.toLowerCase().includes(term.toLowerCase()));

describe('erasure, export and tenant purge cover subscriptions, their queues, attempts and the event log', () => {
  let hub: TestHub;
  let receiver: Receiver;
  let up = false;
  let tenant: { id: string; adminToken: string };
  let subscription: { id: string; secret: string };
  const api = (method: string, path: string, body?: unknown) => hub.api(method, path, body, tenant.adminToken);
  const rowsOfSubscription = async () =>
    (await readAllRows(hub.hub.db)).filter(({ row }) => String(row.pk) === keys.subscriptionPartition(tenant.id, subscription.id));

  beforeAll(async () => {
    hub = await startTestHub({ env: { TRIBUTARY_ALLOW_PRIVATE_TARGETS: 'true' } });
    receiver = await startReceiver(() => (up ? 204 : 500));
    tenant = (await hub.api('POST', '/v1/tenants', { name: 'data' })).body;
    const connection = await hub.createConnection('github', tenant.adminToken);
    subscription = (await api('POST', '/v1/subscriptions', { url: receiver.url, types: ['work.item.created'], description: 'archive' })).body;
    expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(1))).status).toBe(202);
    await settled(hub);
    // The receiver failed the first attempt: the event waits in the queue, its attempt is recorded.
    await eventually(async () => (await api('GET', `/v1/subscriptions/${subscription.id}/attempts`)).body.items.length === 1, { what: 'the first attempt' });
  });
  afterAll(async () => {
    await hub.close();
    await receiver.close();
  });

  it('exports subscriptions without their secrets, their queued events, attempts and the event log', async () => {
    const text = await (await fetch(`${hub.url}/v1/export`, { headers: { authorization: `Bearer ${tenant.adminToken}` } })).text();
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line));
    const of = (type: string) => lines.filter((l) => l.type === type);
    expect(of('subscription')).toEqual([expect.objectContaining({ id: subscription.id, description: 'archive', status: 'active', failingSince: expect.any(String) })]);
    expect(text).not.toContain(subscription.secret);
    expect(of('subscription_delivery')).toEqual([expect.objectContaining({ subscriptionId: subscription.id, eventType: 'work.item.created', status: 'pending', attempts: 1 })]);
    expect(of('subscription_attempt')).toEqual([expect.objectContaining({ subscriptionId: subscription.id, attempt: 1, status: 500, outcome: 'retrying' })]);
    const queuedEvent = of('subscription_delivery')[0].eventId;
    expect(of('event').map((e) => e.event.id)).toContain(queuedEvent);
    expect(lines.at(-1).counts).toMatchObject({ subscription: 1, subscription_delivery: 1, subscription_attempt: 1 });
  });

  it('erases a person from queued events and the event log, and the next attempt sends the pseudonymized event', async () => {
    expect(named((await rowsOfSubscription()).map((r) => r.text).join('\n'))).not.toEqual([]);
    const dana = ((await api('GET', '/v1/people')).body.items as any[]).find((p) => p.handles.some((h: any) => h.handle === DANA.login));
    const { status, body: job } = await api('DELETE', `/v1/people/${dana.id}`);
    expect(status).toBe(200);
    expect(job.status).toBe('done');
    expect((await rowsOfSubscription()).filter(({ text }) => named(text).length > 0).map(({ row }) => row.sk)).toEqual([]);
    const logRows = (await readAllRows(hub.hub.db)).filter(({ row }) => String(row.pk).startsWith(`T#${tenant.id}#LOG#`));
    expect(logRows.length).toBeGreaterThan(0);
    expect(logRows.filter(({ text }) => named(text).length > 0)).toEqual([]);

    up = true;
    await hub.hub.webhooks.kickAll();
    // The retry is due about 5 s after the first attempt.
    await eventually(() => receiver.delivered().length === 1, { what: 'the retry', timeoutMs: 20_000 });
    expect(named(receiver.delivered()[0]!.body)).toEqual([]);
    expect(receiver.delivered()[0]!.body).toContain(job.target);
  }, 30_000);

  it('purges subscriptions, queues and attempts with the tenant, and stops them at once', async () => {
    const response = await fetch(`${hub.url}/v1/tenants/${tenant.id}`, { method: 'DELETE', headers: { authorization: 'Bearer test-operator-token-0123456789', prefer: 'respond-async' } });
    expect(response.status).toBe(202);
    // Revoked with the tokens: the dispatcher finds no subscription to send for.
    expect((await hub.hub.db.doc.send(new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: hub.hub.db.table, Key: keys.subscription(tenant.id, subscription.id) }))).Item).toBeUndefined();
    const job = await response.json();
    await eventually(async () => (await hub.api('GET', `/v1/jobs/${job.id}`)).body.status === 'done', { what: 'the purge' });
    const left = (await readAllRows(hub.hub.db)).filter(({ row, text }) => !String(row.pk).startsWith('JOB#') && row.pk !== 'T#default#AUDIT' && text.includes(tenant.id));
    expect(left.map(({ row }) => `${row.pk} ${row.sk}`)).toEqual([]);
  });
});
