import * as z from 'zod';
import type { ConnectorRegistry } from '../connectors/index.ts';
import { type ItemChange, type Normalized, refOfChange } from '../core/changes.ts';
import { VersionConflictError } from '../core/errors.ts';
import { eventsForChange } from '../core/events.ts';
import { itemIdForRef } from '../core/ids.ts';
import { applyChange } from '../core/merge.ts';
import type { Clock, Logger } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { getConnection } from '../store/connections.ts';
import type { ConnectionCache } from './connection-cache.ts';
import { type DeliveryRecord, countAttempt, finishDelivery, getDelivery } from '../store/inbox.ts';
import { loadItem, saveItem, syncDerivedRows } from '../store/items.ts';
import { type LoggedEvent, unlogged, writeEventLog } from '../store/event-log.ts';
import { recordContribution } from '../store/aggregates.ts';
import { syncWipMembership } from '../store/wip.ts';
import { recordPeople } from '../store/people.ts';
import { mergeOnVerifiedEmail } from '../store/verified-email-merge.ts';
import { withMappedTeam } from '../core/teams.ts';
import { teamCacheFor } from './team-cache.ts';
import type { WorkItem } from '../core/work-item.ts';
import { type ReferenceDirectory, applyWithReferences, referenceDirectoryFor } from './references.ts';
import { evaluateAround } from './alerts.ts';
import { pseudonymizeNormalized } from './erasure-filter.ts';

export interface ProcessDeps {
  db: Db;
  connectors: ConnectorRegistry;
  clock: Clock;
  log: Logger;
  /** told which items got new events, so a local publisher can drain them at once */
  onEvents?: (tenantId: string, itemId: string, sk?: string) => void;
  /** the tenant's Jira projects and resolved aliases; one per table handle by default */
  references?: ReferenceDirectory;
  /** connections read through a short cache (the ack path's); read directly when absent */
  connections?: ConnectionCache;
}

export type ProcessOutcome = 'processed' | 'ignored' | 'failed' | 'skipped' | 'retry';

/** Transient store errors are retried this many times before the delivery is marked failed. */
const MAX_ATTEMPTS = 8;
const MAX_CONFLICT_RETRIES = 50;

/** Why a payload could not be normalized, precise enough for an operator to act on. */
const describeFailure = (error: unknown): string =>
  error instanceof z.ZodError
    ? error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    : error instanceof Error
      ? error.message
      : String(error);

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

/** What normalizing a stored delivery gave: changes, a reason to ignore it, or why it cannot be processed. */
export type Renormalized = Normalized | { outcome: 'failed'; reason: string };

/**
 * Normalizes a stored delivery with the current connector, the connection's current settings and
 * the tenant's Jira knowledge: what the processor does first, and what a replay does again after
 * rules changed. A normalizer that throws gives `failed` with the reason (for a zod error, the path
 * of each bad field); a store error while loading the context is thrown, to be retried.
 */
export const normalizeStored = async (deps: ProcessDeps, delivery: DeliveryRecord & { body: Uint8Array }): Promise<Renormalized> => {
  const connector = deps.connectors.get(delivery.source);
  if (!connector) return { outcome: 'failed', reason: `No connector for source ${delivery.source}` };
  const references = deps.references ?? referenceDirectoryFor(deps.db);
  const connection = await (deps.connections ? deps.connections.get(delivery.connectionId) : getConnection(deps.db, delivery.connectionId));
  const jira = await references.jiraContext(delivery.tenantId);
  let normalized: Normalized;
  try {
    normalized = await connector.normalize(delivery, {
      connection: { id: delivery.connectionId, settings: connection?.settings ?? {} },
      jiraProjects: jira.jiraProjects,
      jiraSites: jira.jiraSites,
    });
  } catch (error) {
    return { outcome: 'failed', reason: describeFailure(error) };
  }
  // Erased people stay erased, in new deliveries and replays alike (a store error here is retried).
  return pseudonymizeNormalized(deps.db, delivery, normalized);
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
 * Processes one recorded delivery, idempotently: normalize, apply every change, mark it done.
 * A crash anywhere is resumed by running it again. A payload that cannot be normalized fails
 * with its reason and never blocks the deliveries behind it.
 */
export const processDelivery = async (deps: ProcessDeps, deliveryPk: string): Promise<ProcessOutcome> => {
  const delivery = await getDelivery(deps.db, deliveryPk);
  if (!delivery || delivery.status !== 'pending') return 'skipped';
  const context = { tenantId: delivery.tenantId, source: delivery.source, deliveryId: delivery.deliveryId };
  const at = () => deps.clock().toISOString();
  /** A store failure is transient: retried, and only marked failed after MAX_ATTEMPTS. */
  const retryLater = async (error: unknown): Promise<ProcessOutcome> => {
    const reason = describeFailure(error);
    const attempts = await countAttempt(deps.db, deliveryPk, reason);
    deps.log.warn('delivery will be retried', { ...context, attempts, reason });
    if (attempts < MAX_ATTEMPTS) return 'retry';
    // False: retried or finished by another run meanwhile, which decides its status.
    return (await finishDelivery(deps.db, delivery, { status: 'failed', reason, at: at() })) ? 'failed' : 'skipped';
  };
  let normalized: Renormalized;
  try {
    normalized = await normalizeStored(deps, delivery);
  } catch (error) {
    return retryLater(error);
  }
  if (normalized.outcome === 'failed') {
    deps.log.warn('delivery failed', { ...context, reason: normalized.reason });
    return (await finishDelivery(deps.db, delivery, { status: 'failed', reason: normalized.reason, at: at() })) ? 'failed' : 'skipped';
  }
  if (normalized.outcome === 'ignored') {
    return (await finishDelivery(deps.db, delivery, { status: 'ignored', reason: normalized.reason, at: at() })) ? 'ignored' : 'skipped';
  }
  try {
    await applyDeliveryChanges(deps, delivery.tenantId, normalized.changes, (index) => `${deliveryPk}#${index}`);
    return (await finishDelivery(deps.db, delivery, { status: 'processed', at: at() })) ? 'processed' : 'skipped';
  } catch (error) {
    return retryLater(error);
  }
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
