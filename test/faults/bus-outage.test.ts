import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../core/events.ts';
import type { EventPublisher } from '../../core/ports.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { faultLedger } from '../support/fault-ledger.ts';
import { allItems, issueRef, issueUpdate } from '../support/fault-payloads.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const ITEMS = 8;
const UPDATES = 5;

/** A bus that refuses everything while `failing`, and records what it took afterwards. */
const flakyBus = () => {
  const bus = {
    failing: true,
    attempts: 0,
    published: [] as EventEnvelope[],
    publisher: {
      async publish(events) {
        bus.attempts++;
        if (bus.failing) throw new Error('bus unavailable (test)');
        bus.published.push(...events);
        return { failedIds: [] };
      },
    } satisfies EventPublisher,
  };
  return bus;
};

const blockedPullRequest = (number: number) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = number;
  payload.pull_request.title = 'Retry the tax service';
  payload.pull_request.body = 'Blocked by ACME-101';
  payload.pull_request.created_at = '2024-03-01T10:00:00.000Z';
  payload.pull_request.updated_at = '2024-03-01T10:00:00.000Z';
  return payload;
};

describe('fault: the event bus fails 100% for a period, then recovers', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('keeps every event while the bus is down and publishes each id once when it recovers, in order per item', async () => {
    const ledger = faultLedger(`bus outage: ${ITEMS * UPDATES} updates while the bus fails, then recovers`);
    const bus = flakyBus();
    hub = await startTestHub({ publisher: bus.publisher });
    const connection = await hub.createConnection('github');
    for (let n = 1; n <= UPDATES; n++) {
      await Promise.all(
        Array.from({ length: ITEMS }, async (_, i) => {
          ledger.sent();
          if ((await postGithub(hub!.url, connection, 'issues', issueUpdate(i + 1, n))).status === 202) ledger.acked(`${i + 1}/${n}`);
        }),
      );
    }
    await eventually(() => bus.attempts > 5, { what: 'publish attempts against the failing bus' });
    // The index moves on while the bus is down: state is never held back by publishing.
    await eventually(async () => {
      const items = await allItems(hub!);
      return items.size === ITEMS && [...items.values()].every((i) => i.title.endsWith(`revision ${UPDATES}`));
    }, { what: 'the index to reach the last update' });
    expect(bus.published).toHaveLength(0);

    bus.failing = false;
    await settled(hub, { timeoutMs: 60_000 });
    const items = await allItems(hub);
    for (let number = 1; number <= ITEMS; number++) {
      for (let n = 1; n <= UPDATES; n++) {
        if (items.get(issueRef(number))?.title === `Issue ${number} revision ${UPDATES}`) ledger.indexed(`${number}/${n}`);
      }
      // Each update's event names the title it set: creation for the first, a title change after.
      for (const event of bus.published.filter((e) => e.subject === issueRef(number))) {
        const title = event.type === 'work.item.created' ? (event.data as any).item.title : (event.data as any).changes?.title?.after;
        const n = /revision (\d+)$/.exec(title ?? '')?.[1];
        if (n) ledger.published(`${number}/${n}`, event.id);
      }
    }
    expect(ledger.counts()).toEqual({ sent: ITEMS * UPDATES, acked: ITEMS * UPDATES, indexed: ITEMS * UPDATES, published: ITEMS * UPDATES, lost: 0, duplicated: 0 });
    const ids = bus.published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(bus.published.filter((e) => e.type === 'work.item.created')).toHaveLength(ITEMS);
    // Per item, events keep the order of the changes that caused them.
    for (let number = 1; number <= ITEMS; number++) {
      const titles = bus.published
        .filter((e) => e.type === 'work.item.updated' && e.subject === issueRef(number))
        .map((e) => (e.data as any).changes.title.after);
      expect(titles).toEqual(Array.from({ length: UPDATES - 1 }, (_, i) => `Issue ${number} revision ${i + 2}`));
    }
  }, 90_000);

  it('publishes only the entries that failed again after a partial failure', async () => {
    const ledger = faultLedger('bus partial failure: every other entry refused once');
    const published: EventEnvelope[] = [];
    let calls = 0;
    const partialBus: EventPublisher = {
      async publish(events) {
        calls++;
        // Every other event fails on the first call.
        const failedIds = calls === 1 ? events.filter((_, i) => i % 2 === 1).map((e) => e.id) : [];
        published.push(...events.filter((e) => !failedIds.includes(e.id)));
        return { failedIds };
      },
    };
    hub = await startTestHub({ publisher: partialBus });
    const connection = await hub.createConnection('github');
    const payload = issueUpdate(7, 1);
    payload.issue.body = 'Blocked by #1 and depends on #2';
    ledger.sent();
    if ((await postGithub(hub.url, connection, 'issues', payload)).status === 202) ledger.acked('7/1');
    await settled(hub, { timeoutMs: 60_000 });
    if ((await allItems(hub)).has(issueRef(7))) ledger.indexed('7/1');
    for (const event of published) ledger.published('7/1', event.id, `${event.type} ${(event.data as any).link?.target ?? ''}`);
    const ids = published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(published.map((e) => e.type).sort()).toEqual(['work.item.created', 'work.link.added', 'work.link.added']);
    expect(ledger.counts()).toEqual({ sent: 1, acked: 1, indexed: 1, published: 1, lost: 0, duplicated: 0 });
  });

  it('keeps alert events on their record while the bus fails, and publishes each once it recovers', async () => {
    const ledger = faultLedger('bus outage: alert events (unblocked) while the bus fails');
    const bus = flakyBus();
    hub = await startTestHub({ publisher: bus.publisher });
    const jira = await hub.createConnection('jira', undefined, { site: 'acme.atlassian.net' });
    const github = await hub.createConnection('github');
    const send = async (unit: string, post: Promise<{ status: number }>) => {
      ledger.sent();
      if ((await post).status === 202) ledger.acked(unit);
    };
    await send('ACME-101 created', postJira(hub.url, jira, cloudPayload('issue-created-acme-101')));
    await send('PR 60 opened', postGithub(hub.url, github, 'pull_request', blockedPullRequest(60)));
    await eventually(async () => (await hub!.api('GET', '/v1/items?blocked=true')).body.items.length === 1, { what: 'the PR to be blocked' });
    await send('ACME-101 done', postJira(hub.url, jira, cloudPayload('issue-updated-acme-101-done')));
    await eventually(async () => (await hub!.api('GET', '/v1/alerts?kind=unblocked')).body.items.length === 1, { what: 'the unblocked alert' });
    await eventually(() => bus.attempts > 3, { what: 'publish attempts against the failing bus' });
    expect(bus.published).toEqual([]);

    bus.failing = false;
    await settled(hub, { timeoutMs: 60_000 });
    const items = await allItems(hub);
    const pr = [...items.values()].find((i) => i.source === 'github');
    const story = [...items.values()].find((i) => i.source === 'jira');
    if (story) ledger.indexed('ACME-101 created');
    if (pr && !(await hub.api('GET', '/v1/items?blocked=true')).body.items.length) ledger.indexed('PR 60 opened');
    if (story?.status.category === 'done') ledger.indexed('ACME-101 done');
    for (const event of bus.published) {
      if (event.type === 'work.item.created' && event.subject === story?.ref) ledger.published('ACME-101 created', event.id);
      if (event.type === 'work.item.created' && event.subject === pr?.ref) ledger.published('PR 60 opened', event.id);
      if (event.type === 'work.alert.raised' && (event.data as any).alert.kind === 'unblocked') ledger.published('ACME-101 done', event.id);
    }
    expect(ledger.counts()).toEqual({ sent: 3, acked: 3, indexed: 3, published: 3, lost: 0, duplicated: 0 });
    const alertEvents = bus.published.filter((e) => e.type.startsWith('work.alert.'));
    expect(alertEvents.filter((e) => (e.data as any).alert.kind === 'unblocked')).toHaveLength(1);
    const ids = bus.published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 60_000);
});
