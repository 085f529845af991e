import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Source } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { listQueued } from './queue.ts';
import { deleteRecord, listTenantRecords } from './tenants.ts';

/**
 * Jobs (backfills, and replays of stored deliveries): one record per job, holding the checkpoint
 * (a backfill's connector cursor after the last page applied; a replay's delivery index position) and
 * the counts. A running job sits on the sparse `queue` index (`jobs`), so a
 * restarted process finds it and resumes from the checkpoint.
 */

export type JobStatus = 'running' | 'done' | 'failed';

export interface JobCounts {
  /** pages read from the tool and applied */
  pages: number;
  /** records read (items, tombstones) */
  records: number;
  /** records that were new to the inbox and went through the processor */
  applied: number;
  /** records already recorded by an earlier run (a page read again after a restart) */
  duplicates: number;
  /** records the processor could not index (see the inbox for each reason) */
  failed: number;
}

export interface JobRecord {
  id: string;
  tenantId: string;
  kind: 'backfill';
  connectionId: string;
  source: Source;
  status: JobStatus;
  /** items updated since this time are read, with every open item */
  since: string;
  /** where to resume: the connector's cursor after the last applied page; `null` before the first */
  cursor: unknown;
  counts: JobCounts;
  /** records still to read in the listing in progress, when the tool tells */
  remaining?: number;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** set while the tool's rate limit holds the job */
  waitingUntil?: string;
  /** the last error: why the job failed, or the transient error it is retrying after */
  error?: string;
  attempts: number;
  /** increases with every write; writes are conditional on it, so two runners cannot both advance a job */
  rev: number;
}

export const emptyCounts = (): JobCounts => ({ pages: 0, records: 0, applied: 0, duplicates: 0, failed: 0 });

export interface ReplayCounts {
  /** deliveries the replay covers, counted when it starts; `null` until then */
  total: number | null;
  /** deliveries run again so far, whatever their outcome */
  processed: number;
  /** of those, deliveries the current rules ignore */
  ignored: number;
  /** of those, deliveries the current normalizer rejects (each reason is on the delivery) */
  failed: number;
}

/**
 * A replay (`POST /v1/replay`): stored deliveries run again through the current normalizers and
 * mapping rules, oldest first. The cursor is the delivery index position of the last delivery run.
 */
export interface ReplayJobRecord {
  id: string;
  tenantId: string;
  kind: 'replay';
  status: JobStatus;
  connectionId?: string;
  /** deliveries received at or after this time */
  since?: string;
  /** deliveries received before this time (the moment the replay was asked for, by default) */
  until: string;
  cursor: string | null;
  counts: ReplayCounts;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  error?: string;
  attempts: number;
  rev: number;
}

/** Any job `GET /v1/jobs/{id}` can show; `kind` tells them apart. */
export type AnyJobRecord = JobRecord | ReplayJobRecord;

export class JobConflictError extends Error {
  constructor(jobId: string) {
    super(`Job ${jobId} was changed by another runner`);
    this.name = 'JobConflictError';
  }
}

const rowOf = (job: AnyJobRecord): Record<string, unknown> => ({
  ...keys.job(job.id),
  gsi1pk: keys.jobsOf(job.tenantId),
  gsi1sk: `${job.createdAt}#${job.id}`,
  job: JSON.stringify(job),
  rev: job.rev,
  tenantId: job.tenantId,
  ...(job.status === 'running' ? { qpk: keys.queue.jobs, qsk: `${job.createdAt}#${keys.job(job.id).pk}` } : {}),
});

/** A job by id; callers that may meet any kind ask for `AnyJobRecord` and check `kind`. */
export const getJob = async <J extends AnyJobRecord = JobRecord>(db: Db, jobId: string): Promise<J | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.job(jobId), ConsistentRead: true }));
  return Item ? (JSON.parse(String(Item.job)) as J) : undefined;
};

/**
 * Writes a job's row if the stored job is still at `rev - 1` (or absent, for rev 1): every kind of
 * job (backfill, replay, erasure, purge) advances through this one optimistic check.
 */
export const putJobRow = async (db: Db, row: Record<string, unknown>, job: { id: string; rev: number }): Promise<void> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: row,
        ConditionExpression: job.rev === 1 ? 'attribute_not_exists(pk)' : 'rev = :previous',
        ...(job.rev === 1 ? {} : { ExpressionAttributeValues: { ':previous': job.rev - 1 } }),
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new JobConflictError(job.id);
    throw error;
  }
};

export const saveJob = (db: Db, next: AnyJobRecord): Promise<void> => putJobRow(db, rowOf(next), next);

/** Ids of running jobs (discovery only: each is re-read before it runs). */
export const listRunningJobs = async (db: Db, limit = 25): Promise<string[]> =>
  (await listQueued(db, 'jobs', { limit })).map((row) => row.pk.slice('JOB#'.length));

export interface ReconcileState {
  /** when the last reconciliation started: the next one reads what changed since (with an overlap) */
  lastRunAt?: string;
  /** where the rotation through the connection's indexed items stopped (an item listing cursor) */
  verifyCursor?: string | null;
}

/** All reconciliation state rows sit in one gsi1 partition: the sweep lists them to find connections with read credentials. */
const RECONCILE_PARTITION = 'reconcile';

export const getReconcileState = async (db: Db, connectionId: string): Promise<ReconcileState> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.reconcileState(connectionId), ConsistentRead: true }));
  return Item ? (JSON.parse(String(Item.state)) as ReconcileState) : {};
};

/** Enrols a connection in reconciliation (idempotent), or records where the last run stopped. */
export const putReconcileState = async (db: Db, connectionId: string, state: ReconcileState): Promise<void> => {
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.reconcileState(connectionId), gsi1pk: RECONCILE_PARTITION, gsi1sk: connectionId, connectionId, state: JSON.stringify(state) },
    }),
  );
};

export const deleteReconcileState = (db: Db, connectionId: string): Promise<void> => deleteRecord(db, keys.reconcileState(connectionId));

/** Connections enrolled in reconciliation (discovery: each connection is re-read). */
export const listReconciledConnections = (db: Db): Promise<string[]> => listTenantRecords<string>(db, RECONCILE_PARTITION, 'connectionId');
