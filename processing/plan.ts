import { type ItemChange, refOfChange } from '../core/changes.ts';
import { type EventEnvelope, eventsForChange } from '../core/events.ts';
import { itemIdForRef } from '../core/ids.ts';
import { applyChange } from '../core/merge.ts';
import { isProvisionalRef } from '../core/references.ts';
import { withMappedTeam } from '../core/teams.ts';
import type { WorkItem } from '../core/work-item.ts';
import { teamCacheFor } from '../pipeline/team-cache.ts';
import { type ItemRecord, loadItems } from '../store/items.ts';
import type { ProcessDeps } from './deps.ts';

/** One change of a delivery, in the order the batch received it, under its deterministic causation key. */
export interface Step {
  /** position in the batch: the order changes of one item are applied in */
  index: number;
  deliveryPk: string;
  change: ItemChange;
  causationKey: string;
}

/** What the batch does to one item: its record as read, the state after all its changes, the events they cause. */
export interface ItemPlan {
  itemId: string;
  record: ItemRecord;
  /** the state after the batch's changes; the record's own when none changed it (a duplicate, a stale update, a re-run) */
  after: WorkItem;
  changed: boolean;
  events: EventEnvelope[];
  steps: Step[];
}

export interface BatchPlan {
  items: ItemPlan[];
  /**
   * Changes that go one at a time through the reference path (processing/one-change.ts), in batch
   * order: those naming a provisional ref, and the changes of an item that is neither indexed nor
   * created earlier in the batch (they are kept until it arrives).
   */
  oneByOne: Step[];
}

/** A change the batch cannot apply alone: it names a ref that must be resolved first. */
const namesProvisionalRef = (change: ItemChange): boolean => {
  if (change.op === 'upsert') return false;
  if (change.op === 'retarget') return true;
  const targets = change.op === 'link' ? [...change.add, ...change.remove].map((l) => l.target) : [];
  return [change.ref, ...targets].some(isProvisionalRef);
};

/**
 * Plans a tenant's part of a batch: reads every item its changes touch at once (one strongly
 * consistent BatchGetItem per 100), then applies the changes of each item in order with today's
 * rules (core/merge.ts: newer update wins, stale and duplicate ones change nothing), collecting the
 * events each change causes under its own causation key, exactly as one-by-one processing would.
 */
export const planBatch = async (deps: Pick<ProcessDeps, 'db' | 'clock' | 'yieldEventLoop'>, tenantId: string, steps: readonly Step[]): Promise<BatchPlan> => {
  // The tenant's team map decides the team (PUT /v1/teams); set on the observation, so the merge keeps it.
  const teams = await teamCacheFor(deps.db).get(tenantId);
  const mapped = steps.map((step) => ({ ...step, change: withMappedTeam(step.change, teams) }));
  const itemOf = (step: Step) => itemIdForRef(refOfChange(step.change));

  const alone = new Set(mapped.filter((s) => namesProvisionalRef(s.change)).map(itemOf));
  const records = await loadItems(
    deps.db,
    tenantId,
    [...new Set(mapped.map(itemOf))].filter((id) => !alone.has(id)),
  );

  const time = deps.clock().toISOString();
  const plans = new Map<string, ItemPlan>();
  for (const step of mapped) {
    await deps.yieldEventLoop?.();
    const itemId = itemOf(step);
    if (alone.has(itemId)) continue;
    const record = records.get(itemId)!;
    const plan = plans.get(itemId);
    const state = plan?.after ?? record.item;
    if (!state && step.change.op !== 'upsert') {
      // Amends an item the index does not hold yet: the reference path keeps it until the item arrives.
      alone.add(itemId);
      continue;
    }
    const next = applyChange(state, step.change);
    const events = next ? eventsForChange(state, next, { tenantId, causationKey: step.causationKey, time }) : [];
    const after = next ?? state;
    if (!after) continue;
    if (plan) {
      plan.after = after;
      plan.changed ||= next !== undefined;
      plan.events.push(...events);
      plan.steps.push(step);
    } else {
      plans.set(itemId, { itemId, record, after, changed: next !== undefined, events, steps: [step] });
    }
  }
  return {
    items: [...plans.values()].filter((p) => !alone.has(p.itemId)),
    oneByOne: mapped.filter((s) => alone.has(itemOf(s))),
  };
};
