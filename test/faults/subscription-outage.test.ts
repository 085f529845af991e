import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faultLedger, type FaultLedger } from '../support/fault-ledger.ts';
import { issueOpened } from '../support/fault-payloads.ts';
import { OPERATOR_TOKEN, type TestHub, eventually, postGithub, settled, startTestHub, uniqueTable } from '../support/hub.ts';
import { freePort, killHard, startHubProcess } from '../support/hub-process.ts';
import { type Receiver, startReceiver, verifyWebhook } from '../support/webhook-receiver.ts';

/**
 * Subscriptions under faults: a receiver that is down (connections refused, then 503s) for longer
 * than a day, a hub restarted between two attempts, and a hub killed while a send is in flight.
 * Units are GitHub issues; one is `published` when its `work.item.created` event reached the
 * receiver with a 2xx. Every acknowledged issue must get there, under its one event id.
 */

const ALLOW_PRIVATE = { TRIBUTARY_ALLOW_PRIVATE_TARGETS: 'true' };

/** A hub clock that tests move forward, so retries hours apart come due at once. */
const movableClock = () => {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) };
};

const titleNumber = (event: any): string => /^Issue (\d+)$/.exec(event.data.item.title)?.[1] ?? '?';

/** What the receiver got, into the ledger: each 2xx delivery publishes its issue; every request carries its event's id and verifies. */
const account = (ledger: FaultLedger, receiver: Receiver, secret: string) => {
  for (const request of receiver.received) {
    const event = verifyWebhook(request, secret, { ignoreTime: true }) as any;
    expect(request.headers['webhook-id']).toBe(event.id);
    if (request.answered !== undefined && request.answered >= 200 && request.answered < 300) ledger.published(titleNumber(event), event.id);
  }
};

const attemptCount = async (hub: TestHub, subscriptionId: string): Promise<number> => {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { items: unknown[]; nextCursor: string | null } = (await hub.api('GET', `/v1/subscriptions/${subscriptionId}/attempts?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body;
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
};

const sendIssues = async (ledger: FaultLedger, url: string, connection: { id: string; secret: string }, numbers: readonly number[]) => {
  for (const number of numbers) {
    ledger.sent();
    if ((await postGithub(url, connection, 'issues', issueOpened(number))).status === 202) ledger.acked(String(number));
  }
};

const markIndexed = async (ledger: FaultLedger, hub: { api: TestHub['api'] }) => {
  for (const item of (await hub.api('GET', '/v1/items?limit=200')).body.items as { title: string }[]) {
    const n = /^Issue (\d+)$/.exec(item.title)?.[1];
    if (n) ledger.indexed(n);
  }
};

describe('fault: webhook receivers fail and hubs restart; every event is delivered, none lost', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('keeps retrying through a receiver outage, disables the subscription after a day of failures, and delivers everything once resumed', async () => {
    const ledger = faultLedger('subscription outage: receiver down for over a day, then resumed');
    const clock = movableClock();
    const hub = await startTestHub({ env: ALLOW_PRIVATE, clock: clock.now });
    cleanup.push(() => hub.close());
    const port = await freePort();
    const connection = await hub.createConnection('github');
    const subscription = (await hub.api('POST', '/v1/subscriptions', { url: `http://127.0.0.1:${port}/hooks`, types: ['work.item.created'], description: 'outage' })).body;

    // Down: nothing listens on the port.
    await sendIssues(ledger, hub.url, connection, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await settled(hub);
    // At least: the clock also moves with the wall clock, so a busy machine may already retry the first (5 s).
    await eventually(async () => (await attemptCount(hub, subscription.id)) >= 10, { what: 'the first attempts' });
    // The retries come due as the clock moves: 5 s, 5 min, 30 min (each ±20 %).
    for (const [step, attempts] of [
      [7_000, 20],
      [6.5 * 60_000, 30],
      [37 * 60_000, 40],
    ] as const) {
      clock.advance(step);
      await hub.hub.webhooks.kickAll();
      await eventually(async () => (await attemptCount(hub, subscription.id)) === attempts, { what: `${attempts} attempts` });
    }
    // Still down a day after the first failure: disabled, announced by an alert.
    let receiver = await startReceiver(() => 503, { port });
    cleanup.push(() => receiver.close());
    clock.advance(25 * 3_600_000);
    await hub.hub.webhooks.kickAll();
    const disabled = await eventually(async () => {
      const body = (await hub.api('GET', `/v1/subscriptions/${subscription.id}`)).body;
      return body.status === 'disabled' ? body : undefined;
    }, { what: 'the subscription to be disabled' });
    expect(disabled.disabledReason).toMatch(/^every attempt has failed since .* \(24 hours or more\); the last: (HTTP 503|ECONNREFUSED)/);
    await eventually(async () => (await hub.api('GET', '/v1/alerts?kind=subscription_disabled&state=open')).body.items.length === 1, { what: 'the alert' });

    // Events go on queuing while it is disabled.
    await sendIssues(ledger, hub.url, connection, [11, 12, 13, 14, 15]);
    await settled(hub);
    await hub.hub.webhooks.kickAll();
    expect(receiver.delivered()).toHaveLength(0);

    // The receiver is back; resuming sends every event it missed, each once.
    await receiver.close();
    receiver = await startReceiver(() => 202, { port });
    cleanup.push(() => receiver.close());
    expect((await hub.api('PATCH', `/v1/subscriptions/${subscription.id}`, { status: 'active' })).status).toBe(200);
    await eventually(() => receiver.delivered().length >= 15, { what: 'every event after the resume', timeoutMs: 30_000 });
    await hub.hub.webhooks.kickAll();
    await markIndexed(ledger, hub);
    account(ledger, receiver, subscription.secret);
    ledger.note(`${await attemptCount(hub, subscription.id)} attempts`);
    expect(ledger.counts()).toEqual({ sent: 15, acked: 15, indexed: 15, published: 15, lost: 0, duplicated: 0 });
    expect((await hub.api('GET', '/v1/alerts?kind=subscription_disabled')).body.items[0].state).toBe('resolved');
    // Attempt numbers go on after the resume; the first issue's history tells the whole story.
    const firstEvent = receiver.deliveredBodies().find((e) => titleNumber(e) === '1');
    const history = (await hub.api('GET', `/v1/subscriptions/${subscription.id}/attempts?eventId=${firstEvent.id}`)).body.items;
    expect(history.map((a: any) => [a.attempt, a.outcome])).toEqual([
      [5, 'delivered'],
      [4, 'retrying'],
      [3, 'retrying'],
      [2, 'retrying'],
      [1, 'retrying'],
    ]);
    expect(history[4].error).toMatch(/^ECONNREFUSED/);
  }, 90_000);

  it('delivers what was waiting for a retry when the hub restarts before it was due', async () => {
    const ledger = faultLedger('subscription: hub restarted between two attempts');
    const clock = movableClock();
    const env = { ...ALLOW_PRIVATE, TRIBUTARY_TABLE: uniqueTable('subrestart') };
    const receiver = await startReceiver(() => 503);
    cleanup.push(() => receiver.close());
    const first = await startTestHub({ env, clock: clock.now });
    let closed = false;
    cleanup.push(() => (closed ? Promise.resolve() : first.close()));
    const connection = await first.createConnection('github');
    const subscription = (await first.api('POST', '/v1/subscriptions', { url: receiver.url, types: ['work.item.created'] })).body;
    await sendIssues(ledger, first.url, connection, [1, 2, 3, 4, 5, 6, 7, 8]);
    await settled(first);
    // Each event once at least (a busy machine may already retry the first, 5 s later on the wall clock).
    const failedIds = () => [...new Set(receiver.received.map((r) => String(r.headers['webhook-id'])))].sort();
    await eventually(() => failedIds().length === 8, { what: 'the first attempts (503)' });
    await first.close();
    closed = true;

    receiver.respond = () => 200;
    clock.advance(7_000);
    const second = await startTestHub({ env, clock: clock.now });
    cleanup.push(() => second.close());
    await eventually(() => receiver.delivered().length === 8, { what: 'the retries from the restarted hub' });
    expect(receiver.delivered().map((r) => r.headers['webhook-id']).sort()).toEqual(failedIds());
    await markIndexed(ledger, second);
    account(ledger, receiver, subscription.secret);
    expect(ledger.counts()).toEqual({ sent: 8, acked: 8, indexed: 8, published: 8, lost: 0, duplicated: 0 });
  }, 60_000);

  it('sends again, with the same webhook-id, what was in flight when the hub was SIGKILLed', async () => {
    const ledger = faultLedger('subscription: hub SIGKILLed mid-delivery, restarted', { publication: 'at-least-once' });
    // The first two requests never get an answer: they are in flight when the hub dies.
    const receiver = await startReceiver((_request, n) => (n <= 2 ? 'hang' : 204));
    cleanup.push(() => receiver.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-subcrash-'));
    const env = { ...ALLOW_PRIVATE, TRIBUTARY_DATA_DIR: dataDir, TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN, TRIBUTARY_TABLE: uniqueTable('subcrash') };
    const children: ChildProcess[] = [];
    cleanup.push(async () => {
      for (const child of children) await killHard(child);
    });
    const start = async () => {
      const started = await startHubProcess(env);
      children.push(started.child);
      return { ...started, api: (method: string, path: string, body?: unknown) => call(started.url, method, path, body) };
    };
    const call = async (url: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    };

    let hub = await start();
    const connection = (await hub.api('POST', '/v1/connections', { source: 'github', name: 'crash' })).body;
    const subscription = (await hub.api('POST', '/v1/subscriptions', { url: receiver.url, types: ['work.item.created'] })).body;
    await sendIssues(ledger, hub.url, connection, [1, 2, 3, 4, 5, 6]);
    await eventually(() => receiver.received.length >= 2, { what: 'two sends in flight', timeoutMs: 30_000 });
    await killHard(hub.child);
    const inFlight = receiver.received.slice(0, 2).map((r) => r.headers['webhook-id']);

    hub = await start();
    // The claims of the killed process lapse (30 s), then those two are sent again.
    await eventually(() => new Set(receiver.delivered().map((r) => r.headers['webhook-id'])).size === 6, { what: 'every event delivered', timeoutMs: 90_000 });
    const delivered = receiver.delivered().map((r) => r.headers['webhook-id']);
    for (const id of inFlight) expect(delivered).toContain(id);
    await markIndexed(ledger, hub);
    account(ledger, receiver, subscription.secret);
    ledger.note(`${receiver.received.length} requests for 6 events (2 cut off by the kill)`);
    expect(ledger.counts()).toMatchObject({ sent: 6, acked: 6, indexed: 6, published: 6, lost: 0, duplicated: 0 });
  }, 150_000);
});
