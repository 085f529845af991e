import { listRunningJobs } from '../store/jobs.ts';
import type { SyncDeps } from './backfill.ts';
import { runJob } from './run-job.ts';
import { WorkQueue } from './work-queue.ts';

export interface JobRunnerOptions extends SyncDeps {
  concurrency?: number;
  pollMs?: number;
}

/**
 * Jobs (backfills, replays) running in this process (the local mode): started through `enqueue`, and found
 * again on the `jobs` queue after a restart, to resume from their checkpoints.
 */
export const startJobRunner = (options: JobRunnerOptions) => {
  const stopping = new AbortController();
  const queue = new WorkQueue<string>({
    name: 'jobs',
    concurrency: options.concurrency ?? 2,
    handle: (jobId) => runJob(options, jobId, stopping.signal),
    discover: () => listRunningJobs(options.db),
    keyOf: (jobId) => jobId,
    pollMs: options.pollMs ?? 1000,
    log: options.log,
  });
  queue.start();
  return {
    enqueue: (jobId: string) => queue.enqueue(jobId),
    queue,
    stop: async () => {
      stopping.abort();
      await queue.stop();
    },
  };
};

export type JobRunner = ReturnType<typeof startJobRunner>;
