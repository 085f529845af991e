import type { ConnectorRegistry } from '../connectors/index.ts';
import type { Clock, EventPublisher, Logger } from '../core/ports.ts';
import { publishOutboxRound } from '../bus/publish-outbox.ts';
import type { Db } from '../store/db.ts';
import { listQueued } from '../store/queue.ts';
import { type RepairOutcome, repairShard, shardOfContributionKey } from '../store/aggregates.ts';
import { processDelivery } from '../processing/batch.ts';
import type { ProcessOutcome } from '../processing/deps.ts';
import { type ReconcileOptions, type ReconcileReport, reconcileConnections } from './reconcile.ts';
import { runJob } from './run-job.ts';
import { listRunningJobs } from '../store/jobs.ts';
import { schemaIsCurrent } from '../store/schema-state.ts';
import { type UpgradeProgress, upgradeSchema } from '../store/schema-upgrade.ts';
import { listRunningOperationJobs } from '../store/operation-jobs.ts';
import { runOperationJob } from './operation-jobs.ts';

export interface SweepDeps {
  db: Db;
  connectors: ConnectorRegistry;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
}

export interface SweepOptions {
  /** records younger than this are left to the stream-triggered functions */
  graceMs?: number;
  /** records taken from each queue per run */
  limit?: number;
  concurrency?: number;
  /** epoch ms after which no new record is started (the function's own timeout, minus a margin) */
  deadline?: number;
  /** reconciliation with the tools (connections with read credentials) and backfill jobs; `false` skips both */
  reconcile?: ReconcileOptions | false;
}

export interface SweepReport {
  deliveries: Partial<Record<ProcessOutcome | 'error', number>>;
  outbox: { drained: number; pending: number; error: number };
  /** summary counter shards recomputed because an update to them did not finish */
  aggregates: Partial<Record<RepairOutcome | 'error', number>>;
  /** reconciliation with the tools, when it ran */
  reconcile?: ReconcileReport;
  /** backfill jobs advanced (in AWS the sweep is their runner; each resumes from its checkpoint) */
  jobs?: { advanced: number; finished: number };
  /** the in-place schema upgrade's progress, when the table was still at the previous version */
  upgrade?: UpgradeProgress;
  /** true when the deadline stopped the sweep before it went through everything it found */
  truncated: boolean;
}

const forEachBounded = async <T>(values: readonly T[], concurrency: number, stop: () => boolean, work: (value: T) => Promise<void>) => {
  let next = 0;
  const worker = async () => {
    while (next < values.length && !stop()) await work(values[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, values.length) }, worker));
  return next < values.length;
};

/**
 * The scheduled catch-up (in AWS; the local mode's loops discover the same records themselves):
 * deliveries still pending and items still holding unpublished events after `graceMs` — the
 * stream's retries ran out, or a record was written while a function was failing — go through
 * the same idempotent steps again. Running it twice, or alongside the stream, is harmless.
 */
export const sweepStragglers = async (deps: SweepDeps, options: SweepOptions = {}): Promise<SweepReport> => {
  const { db, log } = deps;
  const graceMs = options.graceMs ?? 60_000;
  const limit = options.limit ?? 500;
  const concurrency = options.concurrency ?? 4;
  const stop = () => options.deadline !== undefined && Date.now() > options.deadline;
  const before = new Date(deps.clock().getTime() - graceMs).toISOString();
  const report: SweepReport = { deliveries: {}, outbox: { drained: 0, pending: 0, error: 0 }, aggregates: {}, truncated: false };

  // A table still at the previous schema version (after a deploy) is upgraded in place, page by page.
  if (!(await schemaIsCurrent(db))) {
    report.upgrade = await upgradeSchema(db, options.deadline === undefined ? {} : { deadline: options.deadline });
    log.info('sweep: schema upgrade', { ...report.upgrade });
  }

  const deliveries = await listQueued(db, 'inbox', { before, limit });
  const deliveriesLeft = await forEachBounded(deliveries, concurrency, stop, async ({ pk }) => {
    let outcome: ProcessOutcome | 'error';
    try {
      outcome = await processDelivery(deps, pk);
    } catch (error) {
      log.warn('sweep: delivery failed, the next sweep retries it', { deliveryPk: pk, error: String(error) });
      outcome = 'error';
    }
    report.deliveries[outcome] = (report.deliveries[outcome] ?? 0) + 1;
  });

  // The outbox, in rounds of logged events and records holding their own (bus/publish-outbox.ts).
  const outboxSkipped = stop();
  let itemsLeft = false;
  while (!outboxSkipped) {
    if (stop()) {
      itemsLeft = true;
      break;
    }
    try {
      const round = await publishOutboxRound(db, deps.publisher, { limit, before });
      report.outbox.drained += round.published;
      report.outbox.pending += round.failed;
      if (!round.full || round.failed > 0 || round.published === 0) break;
    } catch (error) {
      log.warn('sweep: publishing the outbox failed, the next sweep retries it', { error: String(error) });
      report.outbox.error++;
      break;
    }
  }

  // Aggregate repair: a contribution row still queued after the grace period means its writer
  // stopped between swapping the row and adding its delta; recompute that shard exactly.
  const aggregatesSkipped = stop();
  const stuck = aggregatesSkipped ? [] : await listQueued(db, 'aggregates', { before, limit });
  const shards = [...new Map(stuck.map(({ pk, tenantId }) => [pk, { tenantId, shard: shardOfContributionKey(pk) }])).values()];
  const shardsLeft = await forEachBounded(shards, concurrency, stop, async ({ tenantId, shard }) => {
    if (shard === undefined) return;
    let outcome: RepairOutcome | 'error';
    try {
      outcome = await repairShard(db, tenantId, shard, { now: deps.clock(), graceMs });
    } catch (error) {
      log.warn('sweep: aggregate repair failed, the next sweep retries it', { tenantId, shard, error: String(error) });
      outcome = 'error';
    }
    report.aggregates[outcome] = (report.aggregates[outcome] ?? 0) + 1;
  });
  // Jobs (backfills, replays): advanced page by page until the deadline; the next sweep resumes from the checkpoint.
  if (options.reconcile !== false && !stop()) {
    const signal = options.deadline === undefined ? undefined : AbortSignal.timeout(Math.max(0, options.deadline - Date.now()));
    report.jobs = { advanced: 0, finished: 0 };
    for (const jobId of await listRunningJobs(db)) {
      if (stop()) break;
      report.jobs.advanced++;
      if (await runJob(deps, jobId, signal).catch(() => false)) report.jobs.finished++;
    }
    // Erasures and tenant purges, step by step from their checkpoints (pipeline/operation-jobs.ts).
    for (const jobId of await listRunningOperationJobs(db, deps.clock())) {
      if (stop()) break;
      report.jobs.advanced++;
      if (await runOperationJob(deps, jobId, signal ? { signal } : {}).catch(() => false)) report.jobs.finished++;
    }
  }
  // Reconciliation: read what changed in the tools since the last sweep, heal missed webhooks and tombstone what is gone.
  if (options.reconcile !== false && !stop()) {
    report.reconcile = await reconcileConnections(deps, { ...options.reconcile, ...(options.deadline === undefined ? {} : { deadline: options.deadline }) });
  }
  report.truncated = report.upgrade?.done === false || deliveriesLeft || itemsLeft || outboxSkipped || aggregatesSkipped || shardsLeft;
  log.info('sweep done', { ...report });
  return report;
};
