import { type AnyJobRecord, getJob } from '../store/jobs.ts';
import { type SyncDeps, runBackfillJob } from './backfill.ts';
import { runReplayJob } from './replay.ts';

/**
 * Runs any running job from its checkpoint, by kind: a backfill reads the tool, a replay re-runs
 * stored deliveries. Resolves `false` to be retried (the job is not finished).
 */
export const runJob = async (deps: SyncDeps, jobId: string, signal?: AbortSignal): Promise<boolean> => {
  const job = await getJob<AnyJobRecord>(deps.db, jobId);
  if (!job || job.status !== 'running') return true;
  if (job.kind === 'replay') return runReplayJob(deps, jobId, signal);
  if (job.kind === 'backfill') return runBackfillJob(deps, jobId, signal);
  return true; // another runner's kind (erasures and purges: pipeline/operation-jobs.ts)
};
