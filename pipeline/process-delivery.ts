import { z } from 'zod';
import type { ConnectorRegistry } from '../connectors/index.ts';
import { type ItemChange, refOfChange } from '../core/changes.ts';
import { VersionConflictError } from '../core/errors.ts';
import { eventsForChange } from '../core/events.ts';
import { itemIdForRef } from '../core/ids.ts';
import { applyChange } from '../core/merge.ts';
import type { Clock, Logger } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { getConnection } from '../store/connections.ts';
import { countAttempt, finishDelivery, getDelivery } from '../store/inbox.ts';
import { loadItem, saveItem, syncDerivedRows } from '../store/items.ts';

export interface ProcessDeps {
  db: Db;
  connectors: ConnectorRegistry;
  clock: Clock;
  log: Logger;
  /** told which items got new events, so a local publisher can drain them at once */
  onEvents?: (tenantId: string, itemId: string) => void;
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
 * that was already applied changes nothing and emits nothing.
 */
const applyOne = async (deps: ProcessDeps, tenantId: string, change: ItemChange, causationKey: string): Promise<void> => {
  const itemId = itemIdForRef(refOfChange(change));
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const record = await loadItem(deps.db, tenantId, itemId);
    const next = applyChange(record.item, change);
    if (!next) {
      // Already applied (a re-run after a crash) or stale: make sure derived rows match the state.
      if (record.item) await syncDerivedRows(deps.db, tenantId, record.item, undefined);
      if (record.pending.length > 0) deps.onEvents?.(tenantId, itemId);
      return;
    }
    const events = eventsForChange(record.item, next, { tenantId, causationKey, time: deps.clock().toISOString() });
    try {
      await saveItem(deps.db, record, next, events);
    } catch (error) {
      if (error instanceof VersionConflictError) continue;
      throw error;
    }
    await syncDerivedRows(deps.db, tenantId, next, record.item);
    if (events.length > 0 || record.pending.length > 0) deps.onEvents?.(tenantId, itemId);
    return;
  }
  throw new Error(`Gave up on ${refOfChange(change)} after ${MAX_CONFLICT_RETRIES} write conflicts`);
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
  const connector = deps.connectors.get(delivery.source);
  const at = () => deps.clock().toISOString();
  if (!connector) {
    await finishDelivery(deps.db, deliveryPk, { status: 'failed', reason: `No connector for source ${delivery.source}`, at: at() });
    return 'failed';
  }
  let normalized;
  try {
    const connection = await getConnection(deps.db, delivery.connectionId);
    normalized = connector.normalize(delivery, {
      connection: { id: delivery.connectionId, settings: connection?.settings ?? {} },
      // Filled from the tenant's Jira connections once the Jira connector lands; empty means "no site known".
      jiraProjects: {},
    });
  } catch (error) {
    const reason = describeFailure(error);
    deps.log.warn('delivery failed', { ...context, reason });
    await finishDelivery(deps.db, deliveryPk, { status: 'failed', reason, at: at() });
    return 'failed';
  }
  if (normalized.outcome === 'ignored') {
    await finishDelivery(deps.db, deliveryPk, { status: 'ignored', reason: normalized.reason, at: at() });
    return 'ignored';
  }
  try {
    for (const [index, change] of normalized.changes.entries()) {
      await applyOne(deps, delivery.tenantId, change, `${deliveryPk}#${index}`);
    }
    await finishDelivery(deps.db, deliveryPk, { status: 'processed', at: at() });
    return 'processed';
  } catch (error) {
    const reason = describeFailure(error);
    const attempts = await countAttempt(deps.db, deliveryPk, reason);
    deps.log.warn('delivery will be retried', { ...context, attempts, reason });
    if (attempts < MAX_ATTEMPTS) return 'retry';
    await finishDelivery(deps.db, deliveryPk, { status: 'failed', reason, at: at() });
    return 'failed';
  }
};
