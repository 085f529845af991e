import { setTimeout as sleep } from 'node:timers/promises';
import { JobConflictError } from '../store/jobs.ts';
import { type OperationJob, getOperationJob, listRunningOperationJobs, saveOperationJob } from '../store/operation-jobs.ts';
import { type OperationDeps, type StepResult, erasureStep } from './erasure.ts';
import { purgeStep } from './tenant-purge.ts';
import { startJobQueue } from './job-queue.ts';

/** A job failing this many steps in a row (the store throttles for long) is marked failed; DELETE again resumes it. */
const MAX_ATTEMPTS = 10;
/**
 * How long an HTTP request runs a job before it answers 202 and leaves the rest to the runner: a
 * time budget, not a step count, since a step's cost varies (a page of items, a chunk of the log).
 * The step under way when the budget runs out completes first.
 */
export const INLINE_BUDGET_MS = 5_000;

const STEPS: Record<OperationJob['kind'], (deps: OperationDeps, job: OperationJob) => Promise<StepResult>> = {
  erasure: erasureStep,
  'tenant-purge': purgeStep,
};

const addCounts = (a: Record<string, number>, b: Record<string, number>) => {
  const out = { ...a };
  for (const [key, n] of Object.entries(b)) out[key] = (out[key] ?? 0) + n;
  return out;
};

/**
 * Runs an erasure or a purge from its checkpoint, one bounded step at a time, saving the phase and
 * cursor after each (conditional on the job's `rev`, so two runners never both advance it). Stops
 * after `maxSteps`, once `deadline` (a `monotonic()` time, `performance.now()` by default: an inline run) has passed, or when
 * `signal` aborts; resolves true when nothing is left to do.
 */
export const runOperationJob = async (
  deps: OperationDeps,
  jobId: string,
  options: { maxSteps?: number; deadline?: number; monotonic?: () => number; signal?: AbortSignal; inline?: boolean } = {},
): Promise<boolean> => {
  const stored = await getOperationJob(deps.db, jobId);
  if (!stored || stored.status !== 'running') return true;
  // A request is running it (its lease), or its phase waits: the runner finds it again once it is due.
  if (!options.inline && stored.runAfter && stored.runAfter > deps.clock().toISOString()) return true;
  let job: OperationJob = stored;
  const now = () => deps.clock().toISOString();
  const save = async (patch: Partial<OperationJob>) => {
    const next: OperationJob = { ...job, ...patch, updatedAt: now(), rev: job.rev + 1 };
    await saveOperationJob(deps.db, next);
    job = next;
  };
  const monotonic = options.monotonic ?? (() => performance.now());
  for (let steps = 0; ; steps++) {
    const overdue = options.deadline !== undefined && monotonic() >= options.deadline;
    if ((options.maxSteps !== undefined && steps >= options.maxSteps) || overdue || options.signal?.aborted) {
      // Handing over: the runner may take it from now on.
      if (options.inline) await save({ runAfter: undefined }).catch(() => undefined);
      return false;
    }
    try {
      const result = await STEPS[job.kind](deps, job);
      if (result.waitMs !== undefined) {
        // Nothing to do yet: an inline run waits if its budget allows, else the job is found again once it is due.
        const waiting = { cursor: result.cursor, counts: addCounts(job.counts, result.counts), attempts: 0, error: undefined };
        if (options.inline && options.deadline !== undefined && monotonic() + result.waitMs < options.deadline) {
          job = { ...job, ...waiting };
          await sleep(result.waitMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
          continue;
        }
        await save({ ...waiting, runAfter: new Date(deps.clock().getTime() + result.waitMs).toISOString() });
        return false;
      }
      const done = result.phase === 'done';
      await save({
        phase: result.phase,
        cursor: result.cursor,
        counts: addCounts(job.counts, result.counts),
        attempts: 0,
        error: undefined,
        ...(done ? { status: 'done', finishedAt: now(), params: {}, runAfter: undefined } : {}),
      });
      if (done) {
        deps.log.info('operation job done', { tenantId: job.tenantId, jobId, kind: job.kind, ...job.counts });
        return true;
      }
    } catch (error) {
      if (error instanceof JobConflictError) return true; // another runner advanced it: that one carries on
      const reason = error instanceof Error ? error.message : String(error);
      const attempts = job.attempts + 1;
      deps.log.warn('operation job step failed', { tenantId: job.tenantId, jobId, kind: job.kind, phase: job.phase, attempts, reason });
      await save({
        error: reason,
        attempts,
        ...(attempts >= MAX_ATTEMPTS ? { status: 'failed', finishedAt: now() } : {}),
        ...(options.inline ? { runAfter: undefined } : {}),
      }).catch(() => undefined);
      return attempts >= MAX_ATTEMPTS;
    }
  }
};

/**
 * Runs a job inline in a request for `budgetMs` (0 when the client prefers an asynchronous answer:
 * no step at all), then hands it over to the runner (`onHandOver`). A failed job asked for again is
 * resumed from its checkpoint.
 */
export const runInline = async (
  deps: OperationDeps,
  job: OperationJob,
  onHandOver?: (jobId: string) => void,
  budgetMs = INLINE_BUDGET_MS,
): Promise<OperationJob> => {
  if (job.status === 'failed') {
    const resumed: OperationJob = { ...job, status: 'running', attempts: 0, error: undefined, finishedAt: undefined, updatedAt: deps.clock().toISOString(), rev: job.rev + 1 };
    await saveOperationJob(deps.db, resumed);
    job = resumed;
  }
  const budget = budgetMs > 0 ? { deadline: performance.now() + budgetMs } : { maxSteps: 0 };
  if (job.status === 'running' && !(await runOperationJob(deps, job.id, { ...budget, inline: true }))) onHandOver?.(job.id);
  return (await getOperationJob(deps.db, job.id)) ?? job;
};

/** Erasures and purges running in this process (local mode), found again on the `operations` queue after a restart. */
export const startOperationRunner = (deps: OperationDeps & { pollMs?: number }) =>
  startJobQueue({
    name: 'operations',
    concurrency: 1,
    run: (jobId, signal) => runOperationJob(deps, jobId, { signal }),
    discover: () => listRunningOperationJobs(deps.db, deps.clock()),
    pollMs: deps.pollMs ?? 1000,
    log: deps.log,
  });

export type OperationRunner = ReturnType<typeof startOperationRunner>;
