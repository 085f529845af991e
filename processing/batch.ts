import { refOfChange } from '../core/changes.ts';
import { DEFAULT_RETENTION, deliveryExpiry } from '../core/retention.ts';
import { getDeliveryMeta } from '../store/deliveries.ts';
import {
  type DeliveryStatus,
  type LoadedDelivery,
  countAttempt,
  finishDeliveries,
  finishDelivery,
  loadDeliveries,
  stampBodyParts,
} from '../store/inbox.ts';
import type { ProcessDeps, ProcessOutcome } from './deps.ts';
import { type Renormalized, describeFailure, normalizeDeliveries } from './normalize.ts';
import { applyChanges } from './one-change.ts';
import { type Step, planBatch } from './plan.ts';
import { writeBatch } from './write.ts';

/*
 * processing/ is the path of a delivery after its acknowledgement, in three files read in order:
 *
 * - batch.ts (this file) takes a batch of pending deliveries (the local loop's next ~100, one
 *   Lambda stream batch, one backfill page), normalizes them, hands each tenant's changes on, and
 *   marks the deliveries done together;
 * - plan.ts reads every item the changes touch at once and applies them in memory, in order;
 * - write.ts writes each changed item once and everything derived in batched requests.
 *
 * one-change.ts and references.ts are the one-change-at-a-time path the batch hands over to where
 * references must be resolved (a link made before its target, a change kept until its item
 * arrives) or an item write lost a race; replays and API calls use it too.
 */

/** Transient store errors are retried this many times before the delivery is marked failed. */
const MAX_ATTEMPTS = 8;

type Finish = { delivery: LoadedDelivery; outcome: { status: Exclude<DeliveryStatus, 'pending'>; reason?: string; at: string } };

/**
 * Processes a batch of recorded deliveries, idempotently: normalize each, apply their changes item
 * by item (processing/plan.ts, processing/write.ts), mark them done. A crash anywhere is resumed by
 * running the batch again. A delivery that cannot be mapped fails alone, with its reason; a store
 * failure sends back to the queue only the deliveries it touched, counting an attempt.
 * Resolves with each delivery's outcome.
 */
export const processBatch = async (deps: ProcessDeps, deliveryPks: readonly string[]): Promise<Map<string, ProcessOutcome>> => {
  const outcomes = new Map<string, ProcessOutcome>(deliveryPks.map((pk) => [pk, 'skipped']));
  const pending = (await loadDeliveries(deps.db, [...new Set(deliveryPks)])).filter((d) => d.status === 'pending');
  if (pending.length === 0) return outcomes;
  deps.metrics?.batchSize.observe({}, pending.length);
  const at = deps.clock().toISOString();
  const finished: Finish[] = [];
  const failedTransiently = new Map<LoadedDelivery, unknown>();

  let normalized: (Renormalized & { bodyRewritten?: true })[];
  try {
    normalized = await normalizeDeliveries(deps, pending);
  } catch (error) {
    normalized = [];
    for (const delivery of pending) failedTransiently.set(delivery, error);
  }

  const groupsByTenant = new Map<string, DeliveryChanges[]>();
  normalized.forEach((n, i) => {
    const delivery = pending[i]!;
    const context = { tenantId: delivery.tenantId, source: delivery.source, deliveryId: delivery.deliveryId };
    if (n.outcome === 'failed') {
      deps.log.warn('delivery failed', { ...context, reason: n.reason });
      finished.push({ delivery, outcome: { status: 'failed', reason: n.reason, at } });
      return;
    }
    if (n.outcome === 'ignored') {
      finished.push({ delivery, outcome: { status: 'ignored', reason: n.reason, at } });
      return;
    }
    const steps = n.changes.map((change, index) => {
      // A change ordered by a fallback time (its first-choice field absent or unreadable) or by one without a zone.
      const orderedBy = 'orderedBy' in change ? change.orderedBy : undefined;
      if (orderedBy && (orderedBy.skipped || !orderedBy.zoned)) deps.log.info('change ordered by a fallback time', { ...context, ref: refOfChange(change), orderedBy });
      return { index: i * 10_000 + index, deliveryPk: delivery.pk, change, causationKey: `${delivery.pk}#${index}` };
    });
    groupsByTenant.set(delivery.tenantId, [...(groupsByTenant.get(delivery.tenantId) ?? []), { delivery, steps }]);
  });

  for (const [tenantId, group] of groupsByTenant) {
    const result = await applyDeliveries(deps, tenantId, group);
    for (const delivery of result.processed) finished.push({ delivery, outcome: { status: 'processed', at } });
    for (const [delivery, error] of result.failed) failedTransiently.set(delivery, error);
  }

  // Together, from the records as read. One whose stored body normalizing rewrote (it named an erased
  // person) is finished alone, as it is now: its new hash names its new parts, which get its expiry.
  const rewritten = new Set(pending.filter((_, i) => normalized[i]?.bodyRewritten).map((d) => d.pk));
  await finishDeliveries(deps.db, finished.filter((f) => !rewritten.has(f.delivery.pk)));
  for (const { delivery, outcome } of finished) {
    outcomes.set(delivery.pk, outcome.status);
    if (rewritten.has(delivery.pk)) {
      const current = await getDeliveryMeta(deps.db, delivery.pk);
      if (current) await finishDelivery(deps.db, { ...delivery, bodySha256: current.bodySha256, bodyParts: current.bodyParts }, outcome);
    } else if (delivery.bodyParts) {
      await stampBodyParts(deps.db, delivery.pk, delivery.bodySha256, delivery.bodyParts, deliveryExpiry(deps.db.retention ?? DEFAULT_RETENTION, outcome.status, outcome.at));
    }
  }
  for (const [delivery, error] of failedTransiently) outcomes.set(delivery.pk, await retryLater(deps, delivery, error));
  return outcomes;
};

interface DeliveryChanges {
  delivery: LoadedDelivery;
  steps: Step[];
}

/**
 * Applies the changes of a tenant's deliveries as one batch (plan, write, then the one-change path
 * for what the batch handed over). When the store fails the batch, it is split in two and each half
 * applied in turn (in order), down to single deliveries: a failure stays with the deliveries it
 * touched, and only those count an attempt.
 */
const applyDeliveries = async (
  deps: ProcessDeps,
  tenantId: string,
  group: readonly DeliveryChanges[],
): Promise<{ processed: LoadedDelivery[]; failed: Map<LoadedDelivery, unknown> }> => {
  const failed = new Map<LoadedDelivery, unknown>();
  try {
    const plan = await planBatch(deps, tenantId, group.flatMap((g) => g.steps));
    const lostRaces = await writeBatch(deps, tenantId, plan);
    // One change at a time, in batch order; a store failure there sends back only its delivery.
    for (const step of [...plan.oneByOne, ...lostRaces].sort((a, b) => a.index - b.index)) {
      const delivery = group.find((g) => g.delivery.pk === step.deliveryPk)!.delivery;
      if (failed.has(delivery)) continue;
      try {
        await applyChanges(deps, tenantId, [step]);
      } catch (error) {
        failed.set(delivery, error);
      }
    }
    return { processed: group.map((g) => g.delivery).filter((d) => !failed.has(d)), failed };
  } catch (error) {
    if (group.length === 1) return { processed: [], failed: new Map([[group[0]!.delivery, error]]) };
    const half = Math.ceil(group.length / 2);
    const first = await applyDeliveries(deps, tenantId, group.slice(0, half));
    const second = await applyDeliveries(deps, tenantId, group.slice(half));
    return { processed: [...first.processed, ...second.processed], failed: new Map([...first.failed, ...second.failed]) };
  }
};

/**
 * A request the store refuses as invalid (DynamoDB's `ValidationException`: an item over its 400 KB,
 * a value it cannot hold) is refused the same way on every attempt.
 */
const refusedAsInvalid = (error: unknown): boolean => error instanceof Error && error.name === 'ValidationException';

/**
 * A store failure is transient: the delivery stays pending, and is marked failed only after
 * MAX_ATTEMPTS. One the store refuses as invalid is marked failed at once, with the store's reason,
 * to be retried (POST /v1/deliveries/{id}/retry) once what caused it is fixed.
 */
const retryLater = async (deps: ProcessDeps, delivery: LoadedDelivery, error: unknown): Promise<ProcessOutcome> => {
  const context = { tenantId: delivery.tenantId, source: delivery.source, deliveryId: delivery.deliveryId };
  let reason = describeFailure(error);
  if (refusedAsInvalid(error)) {
    reason = `The store refused this delivery's writes: ${reason}`;
    deps.log.warn('delivery failed', { ...context, reason });
  } else {
    const attempts = await countAttempt(deps.db, delivery.pk, reason);
    deps.log.warn('delivery will be retried', { ...context, attempts, reason });
    if (attempts < MAX_ATTEMPTS) return 'retry';
  }
  // False: retried or finished by another run meanwhile, which decides its status.
  return (await finishDelivery(deps.db, delivery, { status: 'failed', reason, at: deps.clock().toISOString() })) ? 'failed' : 'skipped';
};

/** {@link processBatch} for one delivery. */
export const processDelivery = async (deps: ProcessDeps, deliveryPk: string): Promise<ProcessOutcome> =>
  (await processBatch(deps, [deliveryPk])).get(deliveryPk)!;
