import { type ItemChange, refOfChange } from '../core/changes.ts';
import { VersionConflictError } from '../core/errors.ts';
import { eventsForChange } from '../core/events.ts';
import { itemIdForRef } from '../core/ids.ts';
import { applyChange } from '../core/merge.ts';
import { loadItem, saveItem, syncDerivedRows } from '../store/items.ts';
import { type LoggedEvent, unlogged, writeEventLog } from '../store/event-log.ts';
import { recordContribution } from '../store/aggregates.ts';
import { syncWipMembership } from '../store/wip.ts';
import { recordPeople } from '../store/people.ts';
import { mergeOnVerifiedEmail } from '../store/verified-email-merge.ts';
import { withMappedTeam } from '../core/teams.ts';
import { teamCacheFor } from '../pipeline/team-cache.ts';
import type { WorkItem } from '../core/work-item.ts';
import { applyWithReferences, referenceDirectoryFor } from './references.ts';
import { evaluateAround } from '../pipeline/alerts.ts';
import type { ProcessDeps } from './deps.ts';

const MAX_CONFLICT_RETRIES = 50;

/*
 * The path of one change at a time: what references need (a change kept until its item arrives,
 * aliases re-pointed), what a replay or an API call applies, and what a batch hands over for an item
 * that is not simple (processing/batch.ts). Every step is its own request, conditional where it
 * must be; a batch does the same with a few batched requests.
 */

/**
 * Applies one change: read, merge (pure), write with the events it causes, all conditional on
 * the record being unchanged since the read. Lost races re-read and retry. Re-running a change
 * that was already applied changes nothing and emits nothing. Resolves with the item's state after.
 */
export const applyOne = async (
  deps: Pick<ProcessDeps, 'db' | 'clock' | 'log' | 'onEvents'>,
  tenantId: string,
  change: ItemChange,
  causationKey: string,
): Promise<WorkItem | undefined> => {
  const itemId = itemIdForRef(refOfChange(change));
  // The tenant's team map decides the team (PUT /v1/teams); set on the observation, so the merge keeps it.
  change = withMappedTeam(change, await teamCacheFor(deps.db).get(tenantId));
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const record = await loadItem(deps.db, tenantId, itemId);
    // Events of earlier writes that a crash kept from the log: carried into this write, or logged now.
    const carried = await unlogged(deps.db, record.pending);
    const next = applyChange(record.item, change);
    if (!next) {
      // Already applied (a re-run after a crash) or stale: make sure derived rows and the log match the state.
      if (!record.item) return undefined;
      await writeEventLog(deps.db, carried);
      const wipMoved = await syncWipMembership(deps.db, tenantId, record.item, undefined, deps.clock());
      await syncDerivedRows(deps.db, tenantId, record.item, undefined);
      await recordContribution(deps.db, tenantId, record.item, deps.clock());
      await recordPeople(deps.db, tenantId, record.item, undefined, deps.clock());
      await mergeOnVerifiedEmail(deps.db, tenantId, record.item, undefined, deps.clock());
      if (carried.length > 0) deps.onEvents?.(tenantId, itemId);
      // Also on a re-run: a crash may have come before the dependency state and alerts were written.
      await evaluateAround(deps, tenantId, itemId, { wipMoved });
      return record.item;
    }
    const events = eventsForChange(record.item, next, { tenantId, causationKey, time: deps.clock().toISOString() });
    let logged: LoggedEvent[];
    try {
      logged = await saveItem(deps.db, record, next, events, carried);
    } catch (error) {
      if (error instanceof VersionConflictError) continue;
      throw error;
    }
    await writeEventLog(deps.db, logged);
    // First, since only the alert sweep puts right a subject's row that a failure here left behind.
    const wipMoved = await syncWipMembership(deps.db, tenantId, next, record.item, deps.clock());
    await syncDerivedRows(deps.db, tenantId, next, record.item);
    await recordContribution(deps.db, tenantId, next, deps.clock());
    await recordPeople(deps.db, tenantId, next, record.item, deps.clock());
    await mergeOnVerifiedEmail(deps.db, tenantId, next, record.item, deps.clock());
    if (logged.length > 0) deps.onEvents?.(tenantId, itemId);
    // After the item and its reverse edges are written: its blocked flag, its dependents', their alerts.
    await evaluateAround(deps, tenantId, itemId, { before: record.item, wipMoved });
    return next;
  }
  throw new Error(`Gave up on ${refOfChange(change)} after ${MAX_CONFLICT_RETRIES} write conflicts`);
};

/** Applies a delivery's changes in order, each under its own deterministic causation key. */
export const applyDeliveryChanges = async (
  deps: ProcessDeps,
  tenantId: string,
  changes: readonly ItemChange[],
  causationKeyOf: (index: number) => string,
): Promise<void> => {
  const references = deps.references ?? referenceDirectoryFor(deps.db);
  const apply = (change: ItemChange, causationKey: string) => applyOne(deps, tenantId, change, causationKey);
  const referenceDeps = { db: deps.db, directory: references, apply, clock: deps.clock };
  for (const [index, change] of changes.entries()) await applyWithReferences(referenceDeps, tenantId, change, causationKeyOf(index));
};

/**
 * Applies changes that no delivery carries (reconciliation's `access_lost` tombstones) through the
 * same steps as a delivery's: references, merge, events. Causation keys must be deterministic.
 */
export const applyChanges = async (
  deps: ProcessDeps,
  tenantId: string,
  changes: readonly { causationKey: string; change: ItemChange }[],
): Promise<void> => {
  const references = deps.references ?? referenceDirectoryFor(deps.db);
  const apply = (change: ItemChange, causationKey: string) => applyOne(deps, tenantId, change, causationKey);
  const referenceDeps = { db: deps.db, directory: references, apply, clock: deps.clock };
  for (const { causationKey, change } of changes) await applyWithReferences(referenceDeps, tenantId, change, causationKey);
};
