import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../core/events.ts';
import type { EventPublisher } from '../../core/ports.ts';
import { githubExamples } from '../fixtures/github-examples.ts';
import { seededRandom, shuffled } from '../fixtures/work-items.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';

const issueTemplate = () => githubExamples('issues', { action: 'edited' })[0]!.payload as any;

/** Update `n` of issue `number`: a new title, label set and state, at an increasing time. */
const issueUpdate = (number: number, n: number) => {
  const payload = issueTemplate();
  payload.issue.number = number;
  payload.issue.title = `Issue ${number} revision ${n}`;
  payload.issue.updated_at = new Date(Date.UTC(2030, 0, 1, 0, 0, n)).toISOString();
  payload.issue.state = n % 3 === 0 ? 'closed' : 'open';
  payload.issue.state_reason = n % 3 === 0 ? 'completed' : null;
  payload.issue.labels = n % 2 === 0 ? [{ id: n, node_id: 'x', url: 'x', name: `rev-${n}`, color: '000000', default: false, description: null }] : [];
  return payload;
};

interface IndexedState {
  title: string;
  status: unknown;
  labels: string[];
  updatedAt: string;
}

const indexState = async (hub: TestHub): Promise<Record<string, IndexedState>> => {
  const { body } = await hub.api('GET', '/v1/items?limit=200');
  return Object.fromEntries(
    (body.items as any[]).map((i) => [i.ref, { title: i.title, status: i.status, labels: i.labels, updatedAt: i.updatedAt }]),
  );
};

describe('pipeline under faults', () => {
  const hubs: TestHub[] = [];
  const start = async (options?: Parameters<typeof startTestHub>[0]) => {
    const hub = await startTestHub(options);
    hubs.push(hub);
    return { hub, connection: await hub.createConnection('github') };
  };
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((h) => h.close()));
  });
  afterAll(async () => {
    await Promise.all(hubs.map((h) => h.close()));
  });

  it('applies a delivery posted 3× concurrently once, with one set of events', async () => {
    const { hub, connection } = await start();
    const payload = githubExamples('pull_request', { action: 'opened' })[0]!.payload;
    const deliveryId = crypto.randomUUID();
    const answers = await Promise.all([1, 2, 3].map(() => postGithub(hub.url, connection, 'pull_request', payload, { deliveryId })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.map((a) => a.body.status).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    await settled(hub);
    const events = hub.publishedEvents();
    expect(events.filter((e) => e.type === 'work.item.created')).toHaveLength(1);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const items = (await hub.api('GET', '/v1/items')).body.items;
    expect(items).toHaveLength(1);
    expect(items[0].version).toBe(1);
  });

  it('ends in the in-order state when 200 updates to 20 items arrive shuffled', async () => {
    const updates = Array.from({ length: 20 }, (_, item) => Array.from({ length: 10 }, (_, n) => ({ number: 100 + item, n: n + 1 }))).flat();

    const inOrder = await start();
    for (const u of updates) await postGithub(inOrder.hub.url, inOrder.connection, 'issues', issueUpdate(u.number, u.n));
    await settled(inOrder.hub);

    const shuffledRun = await start();
    const batches = shuffled(updates, seededRandom(42));
    // 8 at a time: concurrent deliveries race for the same items.
    for (let i = 0; i < batches.length; i += 8) {
      await Promise.all(batches.slice(i, i + 8).map((u) => postGithub(shuffledRun.hub.url, shuffledRun.connection, 'issues', issueUpdate(u.number, u.n))));
    }
    await settled(shuffledRun.hub);

    const expected = await indexState(inOrder.hub);
    expect(Object.keys(expected)).toHaveLength(20);
    expect(await indexState(shuffledRun.hub)).toEqual(expected);
    for (const state of Object.values(expected)) expect(state.title).toMatch(/revision 10$/);
  }, 120_000);

  it('loses no event while the event bus fails, and publishes each event id once it recovers', async () => {
    let failing = true;
    const published: EventEnvelope[] = [];
    let attempts = 0;
    const flakyBus: EventPublisher = {
      async publish(events) {
        attempts++;
        if (failing) throw new Error('bus unavailable');
        published.push(...events);
        return { failedIds: [] };
      },
    };
    const { hub, connection } = await start({ publisher: flakyBus });
    for (let n = 1; n <= 5; n++) {
      for (const number of [1, 2, 3]) expect((await postGithub(hub.url, connection, 'issues', issueUpdate(number, n))).status).toBe(202);
    }
    await eventually(() => attempts > 5, { what: 'publish attempts against the failing bus' });
    // The index moves on while the bus is down: state is never held back by publishing.
    await eventually(async () => Object.values(await indexState(hub)).every((s) => s.title.endsWith('revision 5')));
    expect(published).toHaveLength(0);

    failing = false;
    await settled(hub);
    const ids = published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(published.filter((e) => e.type === 'work.item.created')).toHaveLength(3);
    expect(published.filter((e) => e.type === 'work.item.updated')).toHaveLength(12);
    // Per item, events keep the order of the changes that caused them.
    for (const number of [1, 2, 3]) {
      const titles = published
        .filter((e) => e.type === 'work.item.updated' && e.subject.endsWith(`#${number}`))
        .map((e) => (e.data as any).changes.title.after);
      expect(titles).toEqual([2, 3, 4, 5].map((n) => `Issue ${number} revision ${n}`));
    }
  });

  it('publishes only the entries that failed again after a partial failure', async () => {
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
    const { hub, connection } = await start({ publisher: partialBus });
    const payload = issueUpdate(7, 1);
    payload.issue.body = 'Blocked by #1 and depends on #2';
    await postGithub(hub.url, connection, 'issues', payload);
    await settled(hub);
    const ids = published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(published.map((e) => e.type).sort()).toEqual(['work.item.created', 'work.link.added', 'work.link.added']);
  });
});
