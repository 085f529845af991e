import type { UpsertChange } from '../core/changes.ts';
import { VersionConflictError } from '../core/errors.ts';
import { itemIdForRef } from '../core/ids.ts';
import { forEachBounded } from '../core/limit-concurrency.ts';
import { isProvisionalRef } from '../core/references.ts';
import type { WorkItem } from '../core/work-item.ts';
import type { WipSubject } from '../core/wip.ts';
import { evaluateChanged, loadAlertSettings } from '../pipeline/alerts.ts';
import { evaluateWipSubject } from '../pipeline/wip-alerts.ts';
import { recordContributions } from '../store/aggregates.ts';
import { type WriteRequest, batchWrite } from '../store/batch.ts';
import { type LoggedEvent, logRowWrites, logWrites, outboxMarkerWrites, unlogged } from '../store/event-log.ts';
import { derivedRowWrites, saveItem, withInboundRows } from '../store/items.ts';
import { recordPeopleOfBatch } from '../store/people.ts';
import { refAliasWrites } from '../store/references.ts';
import { mergeOnVerifiedEmail } from '../store/verified-email-merge.ts';
import { readWipPairs, wipPairsOf, wipRowWrites } from '../store/wip.ts';
import type { ProcessDeps } from './deps.ts';
import { applyOne } from './one-change.ts';
import type { BatchPlan, ItemPlan, Step } from './plan.ts';
import { referenceDirectoryFor, settleItemReferences } from './references.ts';
import { evaluateBatch } from './batch-alerts.ts';

/** Item writes sent at once: each is one conditional PutItem. */
const WRITE_CONCURRENCY = 16;

/** An item the batch holds a state for after its writes: the plan, and the state it replaced (undefined on a re-run: not known). */
interface Settled {
  plan: ItemPlan;
  before: WorkItem | undefined;
}

/** The last upsert of the item's own ref in its steps: what names its aliases. */
const lastUpsertOf = (plan: ItemPlan): UpsertChange | undefined =>
  plan.steps
    .map((s) => s.change)
    .filter((c): c is UpsertChange => c.op === 'upsert' && c.item.ref === plan.after.ref)
    .at(-1);

/**
 * Writes a planned batch (processing/plan.ts) for one tenant, in this order, every step idempotent
 * so that a crash anywhere is resumed by running the batch again:
 *
 * 1. each changed item once, with one conditional PutItem carrying its new events (and the events
 *    of earlier writes a crash kept from the log); an item whose write lost a race goes back to the
 *    one-change path, alone, while the rest of the batch goes on;
 * 2. the events' outbox markers, then one BatchWriteItem flush (25 rows per request, a few requests
 *    at once) of everything derived as a diff between before and after: the events' log rows, owner
 *    and label rows, reverse edges, work in progress rows, dependency states and alias rows;
 * 3. what cannot be batched, once per batch rather than once per delivery: each counter shard's
 *    summed change, the people seen, the alerts of each affected person or team (a backfill holds
 *    the last back: pipeline/wip-alerts.ts `WipBacklog`).
 *
 * Items linked with others are evaluated one by one after the flush (pipeline/alerts.ts), as are the
 * references of a new item that something was waiting for (processing/references.ts).
 * Resolves with the steps that must still go through the one-change path (lost races).
 */
export const writeBatch = async (deps: ProcessDeps, tenantId: string, plan: BatchPlan): Promise<Step[]> => {
  const { db } = deps;
  const now = deps.clock();
  const retry: Step[] = [];

  // 1. Item writes, each with what a crash kept from the log.
  const missing = new Set((await unlogged(db, plan.items.flatMap((p) => p.record.pending))).map((p) => p.cursor));
  const logged: LoggedEvent[] = [];
  const settled: Settled[] = [];
  await forEachBounded(plan.items, WRITE_CONCURRENCY, async (item) => {
    const carried = item.record.pending.filter((p) => missing.has(p.cursor));
    if (!item.changed) {
      logged.push(...carried);
      settled.push({ plan: item, before: undefined });
      return;
    }
    try {
      logged.push(...(await saveItem(db, item.record, item.after, item.events, carried)));
      settled.push({ plan: item, before: item.record.item });
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      retry.push(...item.steps);
    }
  });

  // 2. Derived rows, as a diff where the state before is known, in full on a re-run; the outbox
  // markers alone first, since the log rows must not land before them (store/event-log.ts logWrites).
  await batchWrite(db, outboxMarkerWrites(db, logged));
  const writes: WriteRequest[] = [...logRowWrites(db, logged)];
  const wipRows = await readWipPairs(db, tenantId, settled.flatMap((s) => wipPairsOf(s.plan.after, s.before)));
  const moved = new Map<string, WipSubject>();
  for (const { plan: item, before } of settled) {
    await deps.yieldEventLoop?.();
    writes.push(...derivedRowWrites(tenantId, item.after, before));
    const wip = wipRowWrites(tenantId, item.after, before, wipRows, now);
    writes.push(...wip.writes);
    for (const subject of wip.moved) moved.set(subject.key, subject);
  }
  const references = await planReferences(deps, tenantId, settled);
  writes.push(...references.writes);
  await batchWrite(db, writes, { inAnyOrder: true });

  // 3. Counters, people, references waited for, alerts.
  const items = settled.map((s) => s.plan.after);
  await recordContributions(db, tenantId, items, now);
  await recordPeopleOfBatch(db, tenantId, settled.map((s) => ({ item: s.plan.after, previous: s.before })), now);
  for (const { plan: item, before } of settled) await mergeOnVerifiedEmail(db, tenantId, item.after, before, now);
  const inbound = await withInboundRows(db, tenantId, [...new Set([...items.map((i) => i.id), ...references.aliasPartitions])]);
  await references.settle(inbound);

  const settings = await loadAlertSettings(db, tenantId);
  // Items nothing links to are evaluated in the batch; the others, and what they link to, one by one.
  const alone = settled.filter((s) => !inbound.has(s.plan.itemId));
  const evaluation = await evaluateBatch(db, tenantId, alone.map((s) => s.plan.after), settings, now);
  await batchWrite(db, [...logWrites(db, evaluation.logged), ...evaluation.writes]);
  const handedBack = new Set(evaluation.handBack.map((i) => i.id));
  const oneByOne = settled.filter((s) => inbound.has(s.plan.itemId) || handedBack.has(s.plan.itemId));
  // The items a batch-evaluated item links to, or linked to before: they may be blocked by it, or no longer.
  const around = alone
    .filter((s) => !handedBack.has(s.plan.itemId))
    .flatMap((s) => [...s.plan.after.links, ...(s.before?.links ?? [])].map((l) => itemIdForRef(l.target)));
  await evaluateChanged(deps, tenantId, oneByOne.map((s) => ({ itemId: s.plan.itemId, ...(s.before ? { before: s.before } : {}) })), settings, around);
  if (deps.wipBacklog) deps.wipBacklog.add(tenantId, moved.values());
  else for (const subject of moved.values()) await evaluateWipSubject(deps, tenantId, subject.key, settings, { name: subject.name });

  if (logged.length > 0 || evaluation.logged.length > 0) deps.onEvents?.(tenantId, '');
  return retry;
};

/**
 * References of the batch's items (processing/references.ts), batched: the aliases of new items
 * are written with the flush, then the inbound markers (store/items.ts) of their own and their
 * aliases' partitions say whether anything waits there. Nothing, the common case: the refs are
 * settled. Something (a link made before the item, a change kept for it), or links to provisional
 * refs: the item's references are settled one by one, as a single change's are.
 */
const planReferences = async (deps: ProcessDeps, tenantId: string, settled: readonly Settled[]) => {
  const directory = deps.references ?? referenceDirectoryFor(deps.db);
  const upserts = settled.flatMap(({ plan }) => {
    const upsert = lastUpsertOf(plan);
    return upsert ? [{ plan, upsert }] : [];
  });
  for (const { plan } of upserts) if (plan.after.source === 'jira') await directory.rememberJiraItem(tenantId, plan.after.ref);
  const unsettled = upserts.filter(
    ({ plan, upsert }) =>
      !directory.isSettled(tenantId, plan.after.ref, plan.after.ref) || (upsert.aliases ?? []).some((a) => a !== plan.after.ref && !directory.isSettled(tenantId, a, plan.after.ref)),
  );
  const wanted = new Map(
    unsettled.flatMap(({ plan, upsert }) =>
      (upsert.aliases ?? []).filter((a) => a !== plan.after.ref).map((alias) => [alias, { alias, ref: plan.after.ref, at: upsert.item.updatedAt }] as const),
    ),
  );
  const aliases = await refAliasWrites(deps.db, tenantId, [...wanted.values()]);
  const pointing = new Set(aliases.pointing.map((p) => p.alias));
  const partitionOf = itemIdForRef;
  return {
    writes: aliases.writes,
    aliasPartitions: [...pointing].map(partitionOf),
    /** settles what nothing waits for; hands the rest to the one-change path */
    settle: async (inbound: ReadonlySet<string>) => {
      const apply = (change: Parameters<typeof applyOne>[2], causationKey: string) => applyOne(deps, tenantId, change, causationKey);
      const referenceDeps = { db: deps.db, directory, apply, clock: deps.clock };
      for (const { plan, upsert } of unsettled) {
        const ref = plan.after.ref;
        const mine = (upsert.aliases ?? []).filter((a) => a !== ref && pointing.has(a));
        const waiting = inbound.has(plan.itemId) || mine.some((alias) => inbound.has(partitionOf(alias)));
        if (waiting) continue;
        directory.settle(tenantId, ref, ref);
        for (const alias of mine) directory.settle(tenantId, alias, ref);
      }
      for (const { plan } of settled) {
        const upsert = lastUpsertOf(plan);
        const stillUnsettled = upsert && !directory.isSettled(tenantId, plan.after.ref, plan.after.ref);
        const provisional = plan.after.links.some((l) => isProvisionalRef(l.target));
        if (!stillUnsettled && !provisional) continue;
        const step = plan.steps.at(-1)!;
        await settleItemReferences(referenceDeps, tenantId, upsert ?? step.change, plan.after, step.causationKey);
      }
    },
  };
};
