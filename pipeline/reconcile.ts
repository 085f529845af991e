import { getConnection } from '../store/connections.ts';
import { InvalidCursorError } from '../store/cursor.ts';
import { listItems } from '../store/item-queries.ts';
import { deleteReconcileState, getReconcileState, listReconciledConnections, putReconcileState } from '../store/jobs.ts';
import { type SyncDeps, applySyncPage, limitsOf } from './backfill.ts';

export interface ReconcileOptions {
  /** on a connection's first reconciliation, read what changed in this window (default 1 hour) */
  windowMs?: number;
  /** later runs read from the previous run's start minus this overlap (default 5 minutes: clock skew, slow listings) */
  overlapMs?: number;
  /** indexed items checked for deletion / access per connection and run, in rotation (default 50) */
  verifyLimit?: number;
  /** epoch ms after which no further connection is started */
  deadline?: number;
}

export interface ReconcileReport {
  connections: number;
  /** records read from the tools */
  records: number;
  /** records that changed the index path (new deliveries, tombstones) */
  applied: number;
  failed: number;
  /** connections whose reconciliation failed this time (logged; the next sweep retries) */
  errors: number;
}

/**
 * Heals the index from the tools (the sweep's reconciliation): for every connection with read
 * credentials, items changed since the last run are read again and applied through the webhook
 * path (deliveries a webhook already brought are recognized by their deterministic ids and change
 * nothing), and a rotating slice of indexed items is checked for deletion, transfer or lost access.
 */
export const reconcileConnections = async (deps: SyncDeps, options: ReconcileOptions = {}): Promise<ReconcileReport> => {
  const report: ReconcileReport = { connections: 0, records: 0, applied: 0, failed: 0, errors: 0 };
  const windowMs = options.windowMs ?? 3_600_000;
  const overlapMs = options.overlapMs ?? 300_000;
  const verifyLimit = options.verifyLimit ?? 50;
  for (const connectionId of await listReconciledConnections(deps.db)) {
    if (options.deadline !== undefined && Date.now() > options.deadline) break;
    const connection = await getConnection(deps.db, connectionId);
    if (!connection) {
      await deleteReconcileState(deps.db, connectionId);
      continue;
    }
    const capability = deps.connectors.get(connection.source)?.backfill;
    if (!capability?.reconcile || !capability.canRead(connection.settings)) continue;
    const context = { tenantId: connection.tenantId, connectionId };
    try {
      const state = await getReconcileState(deps.db, connectionId);
      const startedAt = deps.clock();
      const since = new Date(state.lastRunAt ? Date.parse(state.lastRunAt) - overlapMs : startedAt.getTime() - windowMs).toISOString();
      const filter = { source: connection.source };
      // A cursor the index no longer accepts (its schema changed) restarts the rotation.
      const slice = await listItems(deps.db, connection.tenantId, filter, { limit: verifyLimit, ...(state.verifyCursor ? { cursor: state.verifyCursor } : {}) }).catch(
        (error: unknown) => {
          if (error instanceof InvalidCursorError) return listItems(deps.db, connection.tenantId, filter, { limit: verifyLimit });
          throw error;
        },
      );
      const pages = capability.reconcile({
        connection: { id: connection.id, settings: connection.settings },
        since,
        verify: slice.items.map((item) => item.ref),
        limits: limitsOf(deps),
        now: startedAt.toISOString(),
      });
      for await (const page of pages) {
        const counts = await applySyncPage(deps, connection, page, 'reconcile');
        report.records += counts.records ?? 0;
        report.applied += counts.applied ?? 0;
        report.failed += counts.failed ?? 0;
      }
      await putReconcileState(deps.db, connectionId, { lastRunAt: startedAt.toISOString(), verifyCursor: slice.nextCursor });
      report.connections++;
    } catch (error) {
      report.errors++;
      deps.log.warn('reconciliation failed, the next sweep retries it', { ...context, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
};
