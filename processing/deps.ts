import type { ConnectorRegistry } from '../connectors/index.ts';
import type { Clock, Logger } from '../core/ports.ts';
import type { ConnectionCache } from '../pipeline/connection-cache.ts';
import type { HubMetrics } from '../pipeline/hub-metrics.ts';
import type { WipBacklog } from '../pipeline/wip-alerts.ts';
import type { Db } from '../store/db.ts';
import type { ReferenceDirectory } from './references.ts';

/** What processing needs; every entry point (local loop, Lambda, sweep, backfill, replay) passes its own. */
export interface ProcessDeps {
  db: Db;
  connectors: ConnectorRegistry;
  clock: Clock;
  log: Logger;
  /** told when events were logged, so a local publisher can take them at once */
  onEvents?: (tenantId: string, itemId: string, sk?: string) => void;
  /** the tenant's Jira projects and resolved aliases; one per table handle by default */
  references?: ReferenceDirectory;
  /** connections read through a short cache (the ack path's); read directly when absent */
  connections?: ConnectionCache;
  /** counts batch sizes (`tributary_processing_batch_size`) */
  metrics?: HubMetrics;
  /**
   * called between units of a batch's CPU work (a delivery normalized, a change applied, an item's
   * derived rows): where the event loop is shared with acknowledgements (the local hub), it hands the
   * loop back every few milliseconds (pipeline/time-slices.ts)
   */
  yieldEventLoop?: () => Promise<void>;
  /** where a long job holds back work-in-progress evaluations (a backfill); evaluated after each batch when absent */
  wipBacklog?: WipBacklog;
}

/** What became of a delivery: `skipped` when it was not pending, `retry` when the store failed and it stays pending. */
export type ProcessOutcome = 'processed' | 'ignored' | 'failed' | 'skipped' | 'retry';
