import type { Clock, EventPublisher, Logger } from '../core/ports.ts';
import { repairShard, shardOfContributionKey } from '../store/aggregates.ts';
import type { Db } from '../store/db.ts';
import { finishBlockedCount } from '../store/dependency-state.ts';
import { itemIdOfKey, listQueued } from '../store/queue.ts';
import { type WeeklyDigestReport, publishWeeklyDigests } from './weekly-digest.ts';

export interface ViewsSweepDeps {
  db: Db;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
}

export interface ViewsSweepReport {
  /** dependency states whose blocked counter update a crash interrupted, finished now */
  blockedCounts: { repaired: number; errors: number };
  /** summary counter shards a crash left half-updated, recomputed now */
  counterShards: { repaired: number; errors: number };
  digests: WeeklyDigestReport;
}

/**
 * The views' share of the scheduled sweep, run next to the alert sweep (local mode: same interval;
 * AWS: the sweep function): finish blocked-counter updates a crash interrupted, recompute the
 * counter shards a crash left half-updated, then publish last week's digests if they are not out
 * yet. Idempotent, and harmless when sweeps overlap.
 */
export const sweepViews = async (deps: ViewsSweepDeps, options: { graceMs?: number; limit?: number; deadline?: number } = {}): Promise<ViewsSweepReport> => {
  const blockedCounts = await repairBlockedCounts(deps, options);
  const counterShards = await repairCounterShards(deps, options);
  const digests = await publishWeeklyDigests(deps, options);
  deps.log.info('views sweep done', { blockedCounts, counterShards, digests });
  return { blockedCounts, counterShards, digests };
};

/**
 * Counter shards with a contribution or batch journal row still on the `aggregates` queue after
 * `graceMs`: their writer stopped before its ADD, or before it knew the ADD was applied
 * (store/aggregates.ts). Each is recomputed from its contribution rows. In AWS the straggler sweep
 * (pipeline/sweep.ts) does it first and this finds nothing; the local hub has only this sweep.
 */
const repairCounterShards = async (
  deps: Pick<ViewsSweepDeps, 'db' | 'clock' | 'log'>,
  options: { graceMs?: number; limit?: number; deadline?: number } = {},
): Promise<ViewsSweepReport['counterShards']> => {
  const now = deps.clock();
  const graceMs = options.graceMs ?? 60_000;
  const before = new Date(now.getTime() - graceMs).toISOString();
  const queued = await listQueued(deps.db, 'aggregates', { before, limit: options.limit ?? 500 });
  const shards = new Map(queued.flatMap(({ pk, tenantId }) => (shardOfContributionKey(pk) === undefined ? [] : [[pk, { tenantId, shard: shardOfContributionKey(pk)! }] as const])));
  const report = { repaired: 0, errors: 0 };
  for (const { tenantId, shard } of shards.values()) {
    if (options.deadline !== undefined && Date.now() > options.deadline) break;
    try {
      if ((await repairShard(deps.db, tenantId, shard, { now, graceMs })) === 'repaired') report.repaired++;
    } catch (error) {
      report.errors++;
      deps.log.warn('views sweep: counter shard repair failed, the next sweep retries it', { tenantId, shard, error: String(error) });
    }
  }
  return report;
};

/**
 * Dependency states still on the `aggregates` queue after `graceMs`: their writer stopped between
 * writing the state and moving the blocked counter (store/dependency-state.ts). The counter swap is
 * idempotent and versioned by the state's `rev`, so finishing it twice changes nothing.
 */
const repairBlockedCounts = async (
  deps: Pick<ViewsSweepDeps, 'db' | 'clock' | 'log'>,
  options: { graceMs?: number; limit?: number; deadline?: number } = {},
): Promise<ViewsSweepReport['blockedCounts']> => {
  const now = deps.clock();
  const before = new Date(now.getTime() - (options.graceMs ?? 60_000)).toISOString();
  const queued = (await listQueued(deps.db, 'aggregates', { before, limit: options.limit ?? 500 })).filter((r) => r.sk === 'DEPS');
  const report = { repaired: 0, errors: 0 };
  for (const { pk, tenantId } of queued) {
    if (options.deadline !== undefined && Date.now() > options.deadline) break;
    const itemId = itemIdOfKey(pk);
    if (!itemId) continue;
    try {
      if (await finishBlockedCount(deps.db, tenantId, itemId, now)) report.repaired++;
    } catch (error) {
      report.errors++;
      deps.log.warn('views sweep: blocked counter repair failed, the next sweep retries it', { tenantId, itemId, error: String(error) });
    }
  }
  return report;
};
