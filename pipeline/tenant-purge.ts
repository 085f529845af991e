import { randomId } from '../core/ids.ts';
import { recordAudit } from '../store/audit.ts';
import { deleteConnection, listConnections } from '../store/connections.ts';
import { type OperationJob, createOperationJob, getOperationJob } from '../store/operation-jobs.ts';
import { deleteTenantRecord, getTenantPurge, markTenantPurging, purgeConnectionRows, purgeTenantPage } from '../store/tenant-purge.ts';
import { deleteToken, listTokens } from '../store/tokens.ts';
import { deleteSubscriptionRecord, listSubscriptions } from '../store/subscriptions.ts';
import { INLINE_LEASE_MS, type OperationDeps, type StepResult } from './erasure.ts';

/**
 * Phases of a purge. Two passes over the table: work in flight when the tenant was revoked (a
 * delivery being processed, a backfill page) may write behind the first pass; the second finds it.
 */
const PHASES = ['scan', 'rescan', 'connections', 'tenant', 'done'] as const;
const nextPhase = (phase: string): string => PHASES[PHASES.indexOf(phase as (typeof PHASES)[number]) + 1] ?? 'done';

/**
 * Revokes the tenant at once (its tokens stop authenticating, its webhooks answer 404, its webhook
 * subscriptions stop sending: their queues and attempts go with the rest of its rows), then starts
 * the job deleting the rest; returns the purge already started for the tenant if there is one.
 * The job belongs to the operator's tenant: the purge deletes every job of the purged one.
 */
export const startTenantPurge = async (
  deps: Pick<OperationDeps, 'db' | 'clock' | 'connections'>,
  operator: { tenantId: string; tokenId: string },
  tenantId: string,
): Promise<{ job: OperationJob; created: boolean } | undefined> => {
  const { db } = deps;
  const state = await getTenantPurge(db, tenantId);
  if (!state.exists) return undefined;
  if (state.purgeJobId) {
    const existing = await getOperationJob(db, state.purgeJobId);
    if (existing) return { job: existing, created: false };
  }
  const now = deps.clock();
  const jobId = state.purgeJobId ?? randomId('job');
  for (const token of await listTokens(db, tenantId)) await deleteToken(db, token.id);
  const connectionIds: string[] = [];
  for (const connection of await listConnections(db, tenantId)) {
    await deleteConnection(db, connection.id);
    deps.connections?.invalidate(connection.id);
    connectionIds.push(connection.id);
  }
  for (const { subscription } of await listSubscriptions(db, tenantId)) await deleteSubscriptionRecord(db, tenantId, subscription.id);
  await markTenantPurging(db, tenantId, now.toISOString(), jobId);
  const started = await createOperationJob(
    db,
    { id: jobId, tenantId: operator.tenantId, kind: 'tenant-purge', target: tenantId, phase: PHASES[0], params: { connectionIds }, createdBy: operator.tokenId },
    now,
    new Date(now.getTime() + INLINE_LEASE_MS),
  );
  if (!started.created) return started;
  await recordAudit(db, {
    tenantId: operator.tenantId,
    actor: operator.tokenId,
    action: 'tenant.deleted',
    target: tenantId,
    detail: { jobId, connections: connectionIds.length },
    at: now.toISOString(),
  });
  return started;
};

/** One bounded step of a purge: one Scan page deleted, or one of the single-shot phases. */
export const purgeStep = async (deps: OperationDeps, job: OperationJob): Promise<StepResult> => {
  const { db } = deps;
  const tenantId = job.target;
  const advance = (counts: Record<string, number>): StepResult => ({ phase: nextPhase(job.phase), cursor: null, counts });
  switch (job.phase) {
    case 'scan':
    case 'rescan': {
      const page = await purgeTenantPage(db, tenantId, job.cursor);
      const counts = { rowsScanned: page.scanned, rowsDeleted: page.deleted };
      return page.next ? { phase: job.phase, cursor: page.next, counts } : advance(counts);
    }
    case 'connections': {
      let deleted = 0;
      for (const connectionId of (job.params.connectionIds as string[] | undefined) ?? []) deleted += await purgeConnectionRows(db, connectionId);
      return advance({ rowsDeleted: deleted });
    }
    case 'tenant':
      await deleteTenantRecord(db, tenantId);
      return advance({ rowsDeleted: 1 });
    default:
      return { phase: 'done', cursor: null, counts: {} };
  }
};
