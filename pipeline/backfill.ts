import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { type RequestLimits, SourceAccessError, type SyncPage } from '../core/connector.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import { randomId, sha256Hex } from '../core/ids.ts';
import type { Source } from '../core/work-item.ts';
import { type ConnectionRecord, getConnection } from '../store/connections.ts';
import { type NewDelivery, recordDeliveries, recordDelivery } from '../store/inbox.ts';
import {
  type JobCounts,
  JobConflictError,
  type JobRecord,
  emptyCounts,
  getJob,
  putReconcileState,
  saveJob,
} from '../store/jobs.ts';
import { claimJobHolder, getJobHolder, releaseJobHolder } from '../store/job-holders.ts';
import { keys } from '../store/keys.ts';
import { processBatch } from '../processing/batch.ts';
import { deliveryClaimsFor } from '../processing/claims.ts';
import type { ProcessDeps } from '../processing/deps.ts';
import { applyChanges } from '../processing/one-change.ts';
import { loadAlertSettings } from './alerts.ts';
import { WipBacklog } from './wip-alerts.ts';

/** What a backfill or reconciliation run needs besides the processor's dependencies. */
export interface SyncDeps extends ProcessDeps {
  /** time and pacing of requests to the tools; real timers by default (tests inject their own) */
  limits?: Partial<RequestLimits>;
}

/** Without `since`, a backfill reads open items and those updated in the last 90 days. */
export const DEFAULT_BACKFILL_DAYS = 90;
/** A job failing this many times in a row (the tool is down, the store throttles) is marked failed. */
const MAX_ATTEMPTS = 10;

export const limitsOf = (deps: SyncDeps): RequestLimits => ({
  maxRequestsPerSecond: deps.limits?.maxRequestsPerSecond ?? 0,
  sleep: deps.limits?.sleep ?? ((ms) => sleep(ms)),
  now: deps.limits?.now ?? (() => Date.now()),
  ...(deps.limits?.fetch ? { fetch: deps.limits.fetch } : {}),
  ...(deps.limits?.onWait ? { onWait: deps.limits.onWait } : {}),
});

const addCounts = (a: JobCounts, b: Partial<JobCounts>): JobCounts => ({
  pages: a.pages + (b.pages ?? 0),
  records: a.records + (b.records ?? 0),
  applied: a.applied + (b.applied ?? 0),
  duplicates: a.duplicates + (b.duplicates ?? 0),
  failed: a.failed + (b.failed ?? 0),
});

/**
 * How a page's deliveries are recorded in the inbox. `conditional`: one conditional put each, for a
 * caller that may race another writer of the same ids (reconciliation holds no lease). `exclusive`:
 * one read and batched writes for the whole page (store/inbox.ts `recordDeliveries`), for a backfill
 * job, which alone reads its connection's pages under its lease.
 */
export type PageRecording = 'conditional' | 'exclusive';

/** Deliveries of one page recorded at once by conditional puts. */
const PAGE_CONCURRENCY = 4;

const forEachBounded = async <T>(values: readonly T[], concurrency: number, work: (value: T, index: number) => Promise<void>) => {
  let next = 0;
  const worker = async () => {
    while (next < values.length) {
      const index = next++;
      await work(values[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, values.length) }, worker));
};

const recordPage = async (deps: SyncDeps, deliveries: readonly NewDelivery[], recording: PageRecording) => {
  if (recording === 'exclusive') return recordDeliveries(deps.db, deliveries);
  const recorded: Awaited<ReturnType<typeof recordDelivery>>[] = new Array(deliveries.length);
  await forEachBounded(deliveries, PAGE_CONCURRENCY, async (delivery, index) => {
    recorded[index] = await recordDelivery(deps.db, delivery);
  });
  return recorded;
};

/**
 * Records a page's deliveries, in page order (the batch applies the changes of one item in the
 * order it is given them), then processes them as one batch, even those recorded before: a run
 * interrupted between the two steps left them pending. The local processor leaves them to this run
 * meanwhile (processing/claims.ts).
 */
const recordAndProcess = async (deps: SyncDeps, deliveries: readonly NewDelivery[], recording: PageRecording) => {
  const release = deliveryClaimsFor(deps.db).hold(deliveries.map((d) => keys.delivery(d.tenantId, d.source, d.deliveryId).pk));
  try {
    const recorded = await recordPage(deps, deliveries, recording);
    return { recorded, outcomes: await processBatch(deps, recorded.map((r) => r.pk)) };
  } finally {
    release();
  }
};

/**
 * Applies one page through the webhook path: each record is recorded in the inbox under its
 * deterministic delivery id (a page read again finds its records there: `duplicate`), then the
 * page is processed as one batch by the same processor as webhooks (processing/batch.ts). Changes
 * without a delivery (access lost) go through the same merge with their deterministic causation keys.
 */
export const applySyncPage = async (
  deps: SyncDeps,
  connection: Pick<ConnectionRecord, 'id' | 'tenantId' | 'source'>,
  page: SyncPage,
  origin: string,
  recording: PageRecording = 'conditional',
): Promise<Partial<JobCounts>> => {
  const counts = { records: page.deliveries.length + (page.changes?.length ?? 0), applied: 0, duplicates: 0, failed: 0 };
  const receivedAt = deps.clock().toISOString();
  const deliveries = page.deliveries.map((delivery): NewDelivery => {
    const body = Buffer.from(JSON.stringify(delivery.payload));
    return {
      tenantId: connection.tenantId,
      connectionId: connection.id,
      source: connection.source,
      deliveryId: delivery.deliveryId,
      event: delivery.event,
      headers: { 'x-tributary-origin': origin },
      body,
      bodySha256: sha256Hex(body),
      bodyBytes: body.byteLength,
      receivedAt,
    };
  });
  const { recorded, outcomes } = await recordAndProcess(deps, deliveries, recording);
  for (const [index, { pk, status }] of recorded.entries()) {
    const outcome = outcomes.get(pk);
    if (outcome === 'retry') throw new Error(`Delivery ${deliveries[index]!.deliveryId} could not be processed yet; the page will be read again`);
    if (outcome === 'failed') counts.failed++;
    else if (status === 'duplicate') counts.duplicates++;
    else counts.applied++;
  }
  if (page.changes?.length) {
    await applyChanges(deps, connection.tenantId, page.changes);
    counts.applied += page.changes.length;
  }
  return counts;
};

export const BackfillBody = z.object({
  since: z.iso
    .datetime({ offset: true })
    .or(z.iso.date())
    .optional()
    .describe(`items updated since then are read, with every open item; default ${DEFAULT_BACKFILL_DAYS} days ago`),
});

/**
 * Starts a backfill of a connection, or returns the one already running for it: at most one job
 * per connection runs at a time, so repeating the request is harmless.
 */
export const startBackfill = async (
  deps: Pick<SyncDeps, 'db' | 'connectors' | 'clock'>,
  tenantId: string,
  connectionId: string,
  body: z.infer<typeof BackfillBody>,
): Promise<{ job: JobRecord; created: boolean }> => {
  const connection = await getConnection(deps.db, connectionId);
  if (!connection || connection.tenantId !== tenantId) throw new NotFoundError(`Connection ${connectionId}`);
  const capability = deps.connectors.get(connection.source)?.backfill;
  if (!capability) {
    throw new ValidationError([{ path: 'source', message: `${connection.source} connections cannot be backfilled` }], 'The connection');
  }
  if (!capability.canRead(connection.settings)) {
    throw new ValidationError(
      [{ path: 'credentials', message: 'this connection has no read credentials: create it again with `credentials` (see docs/backfill.md)' }],
      'The connection',
    );
  }
  const now = deps.clock();
  const holder = await getJobHolder(deps.db, keys.activeBackfill(connectionId));
  const running = holder ? await getJob(deps.db, holder) : undefined;
  if (running?.status === 'running') return { job: running, created: false };

  const since = body.since ? new Date(body.since).toISOString() : new Date(now.getTime() - DEFAULT_BACKFILL_DAYS * 86_400_000).toISOString();
  const job: JobRecord = {
    id: randomId('job'),
    tenantId,
    kind: 'backfill',
    connectionId,
    source: connection.source as Source,
    status: 'running',
    since,
    cursor: null,
    counts: emptyCounts(),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    attempts: 0,
    rev: 1,
  };
  if (!(await claimJobHolder(deps.db, keys.activeBackfill(connectionId), job.id, holder))) {
    // Another request started one a moment ago: answer with that one.
    const winner = await getJobHolder(deps.db, keys.activeBackfill(connectionId));
    const other = winner ? await getJob(deps.db, winner) : undefined;
    if (other) return { job: other, created: false };
    throw new JobConflictError(job.id);
  }
  await saveJob(deps.db, job);
  // A connection that can be backfilled is also reconciled by the sweep from now on.
  await putReconcileState(deps.db, connectionId, { lastRunAt: now.toISOString() });
  return { job, created: true };
};

/**
 * Runs a job from its checkpoint until it is done, fails for good, or `signal` stops it. Each page
 * is applied, then the cursor after it is saved (conditional on the job's revision): a crash
 * re-reads at most one page, whose records the inbox recognizes. Resolves `false` to be retried.
 */
export const runBackfillJob = async (deps: SyncDeps, jobId: string, signal?: AbortSignal): Promise<boolean> => {
  let job = await getJob(deps.db, jobId);
  if (!job || job.status !== 'running') return true;
  const now = () => deps.clock().toISOString();
  let writes = Promise.resolve();
  const save = (patch: Partial<JobRecord>): Promise<void> => {
    writes = writes.then(async () => {
      const next: JobRecord = { ...job!, ...patch, updatedAt: now(), rev: job!.rev + 1 };
      await saveJob(deps.db, next);
      job = next;
    });
    return writes;
  };
  // Work-in-progress alerts of the people and teams the pages moved: evaluated every 30 s and at the end, not after every page.
  const wipBacklog = new WipBacklog(deps);
  const evaluateHeldBack = () => wipBacklog.evaluate((tenantId) => loadAlertSettings(deps.db, tenantId));
  const finish = async (status: 'done' | 'failed', patch: Partial<JobRecord> = {}) => {
    await save({ status, finishedAt: now(), waitingUntil: undefined, ...patch });
    await releaseJobHolder(deps.db, keys.activeBackfill(job!.connectionId), job!.id);
  };

  try {
    const connection = await getConnection(deps.db, job.connectionId);
    const capability = deps.connectors.get(job.source)?.backfill;
    if (!connection || connection.tenantId !== job.tenantId) {
      await finish('failed', { error: 'The connection was deleted.' });
      return true;
    }
    if (!capability) {
      await finish('failed', { error: `This hub cannot backfill ${job.source}.` });
      return true;
    }
    const base = limitsOf(deps);
    const limits: RequestLimits = {
      ...base,
      onWait: (ms, reason) => {
        base.onWait?.(ms, reason);
        deps.log.info('backfill waits for the rate limit', { tenantId: job!.tenantId, jobId, ms, reason });
        void save({ waitingUntil: new Date(base.now() + ms).toISOString() }).catch(() => {});
      },
    };
    const pages = capability.pages({
      connection: { id: connection.id, settings: connection.settings },
      since: job.since,
      ...(job.cursor === null ? {} : { cursor: job.cursor }),
      limits,
    });
    for await (const page of pages) {
      // Stopping (the process shuts down): leave the page unapplied; the next run reads it again.
      if (signal?.aborted) return false;
      // The job's lease makes it the one writer of its pages' delivery ids.
      const counts = await applySyncPage({ ...deps, wipBacklog }, connection, page, `backfill:${job.id}`, 'exclusive');
      if (wipBacklog.due) await evaluateHeldBack();
      const patch: Partial<JobRecord> = {
        cursor: page.cursor,
        counts: addCounts(job.counts, { ...counts, pages: 1 }),
        remaining: page.remaining,
        waitingUntil: undefined,
        attempts: 0,
        error: undefined,
      };
      if (page.cursor === null) {
        await evaluateHeldBack();
        await finish('done', { ...patch, remaining: 0 });
        deps.log.info('backfill done', { tenantId: job.tenantId, jobId, ...job.counts });
        return true;
      }
      await save(patch);
    }
    await evaluateHeldBack();
    await finish('done', { remaining: 0 });
    return true;
  } catch (error) {
    await writes.catch(() => {});
    if (error instanceof JobConflictError) return true; // another runner advanced it: that one carries on
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof SourceAccessError || error instanceof z.ZodError) {
      deps.log.warn('backfill failed', { tenantId: job.tenantId, jobId, reason });
      await finish('failed', { error: reason }).catch(() => {});
      return true;
    }
    const attempts = job.attempts + 1;
    deps.log.warn('backfill will be retried', { tenantId: job.tenantId, jobId, attempts, reason });
    try {
      if (attempts >= MAX_ATTEMPTS) await finish('failed', { error: reason, attempts });
      else await save({ error: reason, attempts });
    } catch {
      // The next run re-reads the job.
    }
    return attempts >= MAX_ATTEMPTS;
  } finally {
    // Stopped or failed after some pages: their subjects are evaluated now, or else by the sweep.
    await evaluateHeldBack().catch((error: unknown) => deps.log.warn('backfill: work-in-progress alerts left to the sweep', { jobId, error: String(error) }));
  }
};

/** A job as `GET /v1/jobs/{id}` shows it: counts, rate, ETA. */
export const jobView = (job: JobRecord, now: Date) => {
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now.getTime();
  const seconds = Math.max((end - Date.parse(job.createdAt)) / 1000, 0.001);
  const rate = job.counts.records / seconds;
  const etaSeconds =
    job.status !== 'running' ? 0 : job.remaining !== undefined && rate > 0 ? Math.ceil(job.remaining / rate) : null;
  return {
    id: job.id,
    kind: job.kind,
    connectionId: job.connectionId,
    source: job.source,
    status: job.status,
    since: job.since,
    counts: job.counts,
    remaining: job.remaining ?? null,
    ratePerSecond: Math.round(rate * 100) / 100,
    etaSeconds,
    waitingUntil: job.waitingUntil ?? null,
    error: job.error ?? null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt ?? null,
  };
};
