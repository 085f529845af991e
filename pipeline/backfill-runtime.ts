import { listRunningJobs } from '../store/jobs.ts';
import type { SyncDeps } from './backfill.ts';
import { runJob } from './run-job.ts';
import { startJobQueue } from './job-queue.ts';

export interface JobRunnerOptions extends SyncDeps {
  concurrency?: number;
  pollMs?: number;
}

/**
 * Jobs (backfills, replays) running in this process (the local mode): started through `enqueue`, and found
 * again on the `jobs` queue after a restart, to resume from their checkpoints.
 */
export const startJobRunner = (options: JobRunnerOptions) =>
  startJobQueue({
    name: 'jobs',
    concurrency: options.concurrency ?? 2,
    run: (jobId, signal) => runJob(options, jobId, signal),
    discover: () => listRunningJobs(options.db),
    pollMs: options.pollMs ?? 1000,
    log: options.log,
  });

export type JobRunner = ReturnType<typeof startJobRunner>;
