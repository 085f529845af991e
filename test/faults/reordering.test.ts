import { afterAll, describe, expect, it } from 'vitest';
import { github } from '../../connectors/github/index.ts';
import { applyChange } from '../../core/merge.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { toBody } from '../fixtures/github-examples.ts';
import { seededRandom, shuffled } from '../fixtures/work-items.ts';
import { faultLedger } from '../support/fault-ledger.ts';
import { allItems, issueRef, issueUpdate } from '../support/fault-payloads.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

const ITEMS = 50;
const UPDATES_PER_ITEM = 20;
const SEED = Number(process.env.FAULT_SEED ?? 42);

/** Update `n` of issue `number`, with owners coming and going too. */
const richUpdate = (number: number, n: number) => {
  const payload = issueUpdate(number, n);
  payload.issue.assignees = n % 4 === 0 ? [] : [payload.issue.user];
  payload.issue.body = `Revision ${n}`;
  return payload;
};

/** The fields two histories of an item must agree on (versions differ: stale updates write nothing). */
const projection = (item: WorkItem | Record<string, any>) => ({
  title: item.title,
  status: item.status,
  labels: item.labels,
  owners: (item.owners as any[]).map((o) => o.id),
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
  startedAt: item.startedAt,
  closedAt: item.closedAt,
  links: (item.links as any[]).map((l) => `${l.type}:${l.target}`).sort(),
});

/** The in-order final state, folded with the same pure normalizer and merge the processor uses. */
const inOrderState = (updates: readonly { number: number; n: number }[]) => {
  const items = new Map<string, WorkItem>();
  for (const u of [...updates].sort((a, b) => a.n - b.n)) {
    const normalized = github.normalize(
      { event: 'issues', headers: {}, body: toBody(richUpdate(u.number, u.n)), receivedAt: '2030-02-01T00:00:00.000Z' },
      { connection: { id: 'con_reference', settings: {} }, jiraProjects: {} },
    );
    if (normalized.outcome !== 'changes') throw new Error(`update ${u.number}/${u.n} normalized to ${normalized.outcome}`);
    for (const change of normalized.changes) {
      if (change.op !== 'upsert') continue;
      const next = applyChange(items.get(change.item.ref), change);
      if (next) items.set(change.item.ref, next);
    }
  }
  return items;
};

describe('fault: 1,000 updates to 50 items in shuffled order', () => {
  let hub: TestHub | undefined;
  afterAll(() => hub?.close());

  it('ends in the state the updates give in order, each update acknowledged and none applied twice', async () => {
    const ledger = faultLedger(`reordering: ${ITEMS * UPDATES_PER_ITEM} updates to ${ITEMS} items, shuffled (seed ${SEED})`);
    hub = await startTestHub();
    const connection = await hub.createConnection('github');
    const updates = Array.from({ length: ITEMS }, (_, item) => Array.from({ length: UPDATES_PER_ITEM }, (_, n) => ({ number: 1 + item, n: n + 1 }))).flat();
    const unitOf = (u: { number: number; n: number }) => `${u.number}/${u.n}`;
    process.stdout.write(`reordering: seed ${SEED} (FAULT_SEED=${SEED} reproduces this order)\n`);

    // 16 at a time: concurrent deliveries race for the same items, as well as arriving out of order.
    const order = shuffled(updates, seededRandom(SEED));
    const t0 = Date.now();
    for (let i = 0; i < order.length; i += 16) {
      await Promise.all(
        order.slice(i, i + 16).map(async (u) => {
          ledger.sent();
          const answer = await postGithub(hub!.url, connection, 'issues', richUpdate(u.number, u.n));
          if (answer.status === 202) ledger.acked(unitOf(u));
        }),
      );
    }
    const t1 = Date.now();
    const dbg = setInterval(async () => {
      const { listPendingDeliveries } = await import('../../store/inbox.ts');
      const { listItemsWithPendingEvents } = await import('../../store/items.ts');
      process.stdout.write(`DBG proc ${hub!.hub.pipeline.processor.size} pub ${hub!.hub.pipeline.publisher.size} pendingDeliveries ${(await listPendingDeliveries(hub!.hub.db, 2000)).length} pendingEvents ${(await listItemsWithPendingEvents(hub!.hub.db)).length} t ${Date.now() - t1}\n`);
    }, 3000);
    await settled(hub, { timeoutMs: 60_000 }).finally(() => clearInterval(dbg));
    process.stdout.write(`TIMING send ${t1 - t0} settle ${Date.now() - t1}\n`);

    const expected = inOrderState(updates);
    const indexed = await allItems(hub);
    const events = hub.publishedEvents();
    const byRef = new Map<string, typeof events>();
    for (const e of events) byRef.set(e.subject, [...(byRef.get(e.subject) ?? []), e]);
    for (const u of updates) {
      const ref = issueRef(u.number);
      const item = indexed.get(ref);
      // An update counts as indexed when the item ends exactly where the in-order history ends.
      if (item && JSON.stringify(projection(item)) === JSON.stringify(projection(expected.get(ref)!))) ledger.indexed(unitOf(u));
      // Each item is created once; its creation is what every update of it was published under.
      for (const created of (byRef.get(ref) ?? []).filter((e) => e.type === 'work.item.created')) ledger.published(unitOf(u), created.id);
      // More writes than updates means an update was applied twice.
      if (item && item.version > UPDATES_PER_ITEM) ledger.appliedTwice(unitOf(u));
    }

    expect(ledger.counts()).toEqual({ sent: 1000, acked: 1000, indexed: 1000, published: 1000, lost: 0, duplicated: 0 });
    expect(indexed.size).toBe(ITEMS + ITEMS); // each issue, and the issue its last "Blocked by" names (pending edge)
    for (const [ref, item] of expected) expect(projection(indexed.get(ref)), ref).toEqual(projection(item));
    for (const item of expected.values()) expect(item.title).toMatch(/revision 20$/);
    // Event ids are deterministic: no id is published twice.
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  }, 120_000);
});
