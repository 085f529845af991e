import type { Logger } from '../core/ports.ts';
import { WorkQueue } from './work-queue.ts';

export interface JobQueueOptions {
  name: string;
  concurrency: number;
  /** runs a job's steps until it is done (`true`) or hands over (`false`: retried later); stops early on `signal` */
  run: (jobId: string, signal: AbortSignal) => Promise<boolean>;
  /** the running jobs on the store's queue: found again after a restart, resumed from their checkpoints */
  discover: () => Promise<string[]>;
  pollMs: number;
  log: Logger;
}

/** Jobs running in this process (the local mode): started through `enqueue`, or discovered on the store. */
export const startJobQueue = (options: JobQueueOptions) => {
  const stopping = new AbortController();
  const queue = new WorkQueue<string>({
    name: options.name,
    concurrency: options.concurrency,
    handle: (jobId) => options.run(jobId, stopping.signal),
    discover: options.discover,
    keyOf: (jobId) => jobId,
    pollMs: options.pollMs,
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
