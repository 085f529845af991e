import * as z from 'zod';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import { randomId } from '../core/ids.ts';
import { DEFAULT_RETENTION, deliveryExpiry } from '../core/retention.ts';
import { getConnection } from '../store/connections.ts';
import type { DeliveryStatus } from '../store/delivery-index.ts';
import { type DeliveryFilter, type DeliveryRow, countDeliveries, queryDeliveries, settleReplayedDelivery } from '../store/deliveries.ts';
import { loadDeliveries } from '../store/inbox.ts';
import { claimJobHolder, getJobHolder } from '../store/job-holders.ts';
import { keys } from '../store/keys.ts';
import { type AnyJobRecord, JobConflictError, type ReplayJobRecord, getJob, saveJob } from '../store/jobs.ts';
import type { ProcessDeps } from '../processing/deps.ts';
import { normalizeStored } from '../processing/normalize.ts';
import { applyDeliveryChanges } from '../processing/one-change.ts';

/*
 * Replay runs stored deliveries again through the current normalizers and mapping rules (a
 * connection's settings changed, a connector was fixed), oldest first, through the same merge as
 * the processor. The merge makes it safe and quiet:
 * - an older observation than the item holds only adds history, so order within the window is kept;
 * - the newest observation of an item is applied in full again (a tie is not stale), so the item
 *   becomes what the current rules make of it;
 * - a state equal to the stored one writes nothing and publishes nothing.
 * Events it does cause get ids from causation keys naming the replay job, so consumers do not drop
 * them as duplicates of the events the first processing published; a replay resumed after a crash
 * gives the same ids again, and those consumers do dedupe.
 *
 * What the index only ever accumulates (when work started, links a tool mentioned once, activity)
 * is kept, as fresh deliveries would keep it too. For a clean slate, `npm run tributary -- rebuild`.
 */

/** Statuses a replay runs again; pending deliveries are the processor's and run with the current rules anyway. */
const REPLAYED: readonly DeliveryStatus[] = ['processed', 'ignored', 'failed'];
/** Deliveries read (and the checkpoint saved) per batch. */
const BATCH = 50;
/** A job failing this many times in a row (the store throttles for long) is marked failed. */
const MAX_ATTEMPTS = 10;

const Time = z.iso.datetime({ offset: true }).or(z.iso.date());

/** `since` before `until` (default: now) is checked by startReplay, which knows what now is. */
export const ReplayBody = z.object({
  connectionId: z.string().min(1).optional().describe('only the deliveries of this connection; every connection of the tenant when absent'),
  since: Time.optional().describe('deliveries received at or after this time'),
  until: Time.optional().describe('deliveries received before this time; default: now'),
});
export type ReplayBody = z.infer<typeof ReplayBody>;

const filterOf = (job: ReplayJobRecord): DeliveryFilter => ({
  tenantId: job.tenantId,
  statuses: REPLAYED,
  ...(job.connectionId ? { connectionId: job.connectionId } : {}),
  ...(job.since ? { since: job.since } : {}),
  until: job.until,
});

/**
 * Creates a replay job, or returns the one already running for the same connection and window (as
 * asked: without `until`, any running replay asked without one): repeating the request, or a second
 * operator asking the same, runs each delivery once. A runner (the local job runner, or the
 * scheduled sweep in AWS) runs it.
 */
export const startReplay = async (
  deps: Pick<ProcessDeps, 'db' | 'clock'>,
  tenantId: string,
  body: ReplayBody,
): Promise<{ job: ReplayJobRecord; created: boolean }> => {
  if (body.connectionId) {
    const connection = await getConnection(deps.db, body.connectionId);
    if (!connection || connection.tenantId !== tenantId) throw new NotFoundError(`Connection ${body.connectionId}`);
  }
  const now = deps.clock().toISOString();
  const until = body.until ? new Date(body.until).toISOString() : now;
  const since = body.since ? new Date(body.since).toISOString() : undefined;
  if (since && since >= until) throw new ValidationError([{ path: 'since', message: 'must be before `until` (default: now)' }], 'The request body');
  const scope = `${body.connectionId ?? '*'}#${since ?? '*'}#${body.until ? until : 'now'}`;
  const holder = await getJobHolder(deps.db, keys.activeReplay(tenantId, scope));
  const running = holder ? await getJob<AnyJobRecord>(deps.db, holder) : undefined;
  if (running?.kind === 'replay' && running.status === 'running') return { job: running, created: false };
  const job: ReplayJobRecord = {
    id: randomId('job'),
    tenantId,
    kind: 'replay',
    status: 'running',
    ...(body.connectionId ? { connectionId: body.connectionId } : {}),
    ...(since ? { since } : {}),
    until,
    cursor: null,
    counts: { total: null, processed: 0, ignored: 0, failed: 0 },
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    rev: 1,
  };
  // The row is never released: a replay that no longer runs is replaced by the next one of its scope.
  if (!(await claimJobHolder(deps.db, keys.activeReplay(tenantId, scope), job.id, holder, { tenantId }))) {
    // Another request started the same replay a moment ago: answer with that one.
    const winner = await getJobHolder(deps.db, keys.activeReplay(tenantId, scope));
    const other = winner ? await getJob<AnyJobRecord>(deps.db, winner) : undefined;
    if (other?.kind === 'replay') return { job: other, created: false };
    throw new JobConflictError(job.id);
  }
  await saveJob(deps.db, job);
  return { job, created: true };
};

type ReplayOutcome = 'processed' | 'ignored' | 'failed' | 'skipped';

/**
 * Runs one stored delivery again. Its status follows the outcome (a failed delivery that now
 * processes becomes processed, one the current normalizer rejects becomes failed with the reason);
 * the record is written only when that changes. Store errors are thrown, to retry the batch.
 */
export const replayDelivery = async (deps: ProcessDeps, row: DeliveryRow, jobId: string): Promise<ReplayOutcome> => {
  // As the processor reads it: a body this version cannot read fails this delivery alone.
  const [delivery] = await loadDeliveries(deps.db, [row.pk]);
  // Gone (retention), or back on the queue (retried): nothing for the replay to do.
  if (!delivery || delivery.status === 'pending') return 'skipped';
  const normalized = await normalizeStored(deps, delivery);
  const settle = async (status: Exclude<DeliveryStatus, 'pending'>, reason?: string) => {
    if (delivery.status === status && (delivery.reason ?? undefined) === reason) return;
    const at = deps.clock().toISOString();
    await settleReplayedDelivery(deps.db, delivery, { status, ...(reason ? { reason } : {}), at, expiresAt: deliveryExpiry(deps.db.retention ?? DEFAULT_RETENTION, status, at) });
  };
  if (normalized.outcome === 'failed') {
    await settle('failed', normalized.reason);
    return 'failed';
  }
  if (normalized.outcome === 'ignored') {
    await settle('ignored', normalized.reason);
    return 'ignored';
  }
  await applyDeliveryChanges(deps, delivery.tenantId, normalized.changes, (index) => `${delivery.pk}#${index}#replay:${jobId}`);
  await settle('processed');
  return 'processed';
};

/**
 * Runs a replay from its checkpoint until it is done, fails for good, or `signal` stops it. Each
 * batch is run, then the position after it is saved (conditional on the job's revision): a crash
 * runs at most one batch again, which changes nothing the first run did. Resolves `false` to be retried.
 */
export const runReplayJob = async (deps: ProcessDeps, jobId: string, signal?: AbortSignal, options: { batchSize?: number } = {}): Promise<boolean> => {
  let job = await getJob<ReplayJobRecord>(deps.db, jobId);
  if (!job || job.kind !== 'replay' || job.status !== 'running') return true;
  const save = async (patch: Partial<ReplayJobRecord>) => {
    const next: ReplayJobRecord = { ...job!, ...patch, updatedAt: deps.clock().toISOString(), rev: job!.rev + 1 };
    await saveJob(deps.db, next);
    job = next;
  };
  const filter = filterOf(job);
  try {
    if (job.counts.total === null) await save({ counts: { ...job.counts, total: await countDeliveries(deps.db, filter) } });
    for (;;) {
      if (signal?.aborted) return false;
      const { rows, more, next } = await queryDeliveries(deps.db, filter, { order: 'oldest', limit: options.batchSize ?? BATCH, ...(job.cursor ? { after: job.cursor } : {}) });
      const counts = { ...job.counts };
      for (const row of rows) {
        // Stopping (the process shuts down): the batch is run again from the checkpoint, harmlessly.
        if (signal?.aborted) return false;
        const outcome = await replayDelivery(deps, row, job.id);
        counts.processed++;
        if (outcome === 'ignored') counts.ignored++;
        if (outcome === 'failed') counts.failed++;
      }
      const cursor = next ?? rows.at(-1)?.sortKey ?? job.cursor;
      if (!more) {
        // `processed` can end below `total`: a delivery retried or expired meanwhile is not run again.
        await save({ status: 'done', cursor, counts, finishedAt: deps.clock().toISOString(), attempts: 0 });
        deps.log.info('replay done', { tenantId: job.tenantId, jobId, ...job.counts });
        return true;
      }
      await save({ cursor, counts, attempts: 0 });
    }
  } catch (error) {
    if (error instanceof JobConflictError) return true; // another runner advanced it: that one carries on
    const reason = error instanceof Error ? error.message : String(error);
    const attempts = job.attempts + 1;
    deps.log.warn('replay will be retried', { tenantId: job.tenantId, jobId, attempts, reason });
    try {
      if (attempts >= MAX_ATTEMPTS) await save({ status: 'failed', error: reason, attempts, finishedAt: deps.clock().toISOString() });
      else await save({ error: reason, attempts });
    } catch {
      // The next run re-reads the job.
    }
    return attempts >= MAX_ATTEMPTS;
  }
};

/** A replay as `GET /v1/jobs/{id}` shows it: where it is, and how fast it goes. */
export const replayJobView = (job: ReplayJobRecord, now: Date) => {
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now.getTime();
  const seconds = Math.max((end - Date.parse(job.createdAt)) / 1000, 0.001);
  const rate = job.counts.processed / seconds;
  const remaining = job.counts.total === null ? null : Math.max(job.counts.total - job.counts.processed, 0);
  return {
    id: job.id,
    kind: job.kind,
    connectionId: job.connectionId ?? null,
    status: job.status,
    since: job.since ?? null,
    until: job.until,
    counts: job.counts,
    remaining: job.status === 'running' ? remaining : 0,
    ratePerSecond: Math.round(rate * 100) / 100,
    etaSeconds: job.status !== 'running' ? 0 : remaining !== null && rate > 0 ? Math.ceil(remaining / rate) : null,
    error: job.error ?? null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt ?? null,
  };
};
