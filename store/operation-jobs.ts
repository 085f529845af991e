import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { JobConflictError, type JobStatus, putJobRow } from './jobs.ts';
import { keys } from './keys.ts';
import { listQueued } from './queue.ts';

/**
 * Long-running maintenance jobs (a person's erasure, a tenant's purge), in the same `JOB#{id}` rows
 * and `T#{t}#jobs` listing as backfills (so `GET /v1/jobs/{id}` shows them), but on their own queue
 * (`operations`), so a backfill runner never picks one up. Each holds its phase and the cursor where
 * the phase resumes; every write is conditional on `rev`, like a backfill's.
 */
export type OperationKind = 'erasure' | 'tenant-purge';

export interface OperationJob {
  id: string;
  /** whose job it is: the erased person's tenant, or the operator's tenant for a purge */
  tenantId: string;
  kind: OperationKind;
  status: JobStatus;
  /** what it works on: the pseudonym of the erased person, or the purged tenant's id */
  target: string;
  phase: string;
  /** where the phase resumes: a Query's or Scan's LastEvaluatedKey; null at the phase's start */
  cursor: Record<string, unknown> | null;
  counts: Record<string, number>;
  /** what the job needs until it finishes (person ids, connection ids); cleared when it ends */
  params: Record<string, unknown>;
  /** the background runner leaves the job alone until then (a request is running it inline, or its phase waits) */
  runAfter?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  error?: string;
  attempts: number;
  rev: number;
}

const rowOf = (job: OperationJob): Record<string, unknown> => ({
  ...keys.job(job.id),
  gsi1pk: keys.jobsOf(job.tenantId),
  gsi1sk: `${job.createdAt}#${job.id}`,
  job: JSON.stringify(job),
  kind: job.kind,
  rev: job.rev,
  tenantId: job.tenantId,
  ...(job.status === 'running' ? { qpk: keys.queue.operations, qsk: `${job.runAfter ?? job.createdAt}#${keys.job(job.id).pk}` } : {}),
});

const KINDS = new Set<string>(['erasure', 'tenant-purge']);

/** The job, if `jobId` names an erasure or a purge (backfills are read by store/jobs.ts). */
export const getOperationJob = async (db: Db, jobId: string): Promise<OperationJob | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.job(jobId), ConsistentRead: true }));
  return Item && KINDS.has(String(Item.kind)) ? (JSON.parse(String(Item.job)) as OperationJob) : undefined;
};

/** Writes `next` if the stored job is still at `next.rev - 1` (or absent, for rev 1). */
export const saveOperationJob = (db: Db, next: OperationJob): Promise<void> => putJobRow(db, rowOf(next), next);

/** What starting a job decides; the rest of a new job is the same for every kind. */
export type OperationStart = Pick<OperationJob, 'id' | 'tenantId' | 'kind' | 'target' | 'phase' | 'params' | 'createdBy'>;

/**
 * Creates a job (rev 1, running, at the start of `phase`), left to the request that starts it until
 * `runAfter`, or returns the one already stored under its id: asking twice starts it once.
 */
export const createOperationJob = async (db: Db, start: OperationStart, now: Date, runAfter: Date): Promise<{ job: OperationJob; created: boolean }> => {
  const at = now.toISOString();
  const job: OperationJob = { ...start, status: 'running', cursor: null, counts: {}, runAfter: runAfter.toISOString(), createdAt: at, updatedAt: at, attempts: 0, rev: 1 };
  try {
    await saveOperationJob(db, job);
    return { job, created: true };
  } catch (error) {
    if (!(error instanceof JobConflictError)) throw error;
    const existing = await getOperationJob(db, job.id);
    if (existing) return { job: existing, created: false };
    throw error;
  }
};

/** Ids of running erasures and purges (discovery only: each is re-read before it runs). */
export const listRunningOperationJobs = async (db: Db, now: Date, limit = 25): Promise<string[]> =>
  (await listQueued(db, 'operations', { before: now.toISOString(), limit })).map((row) => row.pk.slice('JOB#'.length));
