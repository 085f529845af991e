import { AlertKind } from '../core/alerts.ts';
import type { EventPublisher } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { countOpenAlertsByKind, countQueued, processingLagSeconds } from '../store/hub-stats.ts';
import { MetricsRegistry } from './metrics.ts';
import type { ProcessOutcome } from '../processing/deps.ts';

/** Queue depths are counted up to this many records: enough to tell a backlog, bounded in cost. */
export const QUEUE_DEPTH_BOUND = 1000;

/** Batch sizes: from one delivery at a time to a full local batch or backfill page. */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250] as const;

/**
 * The hub's figures, one set per process: the ack path and the processor count as they go, the
 * store-derived gauges (lag, queue depths, open alerts) are read when collected. Rendered by
 * `GET /metrics` (Prometheus) and printed as EMF by the Lambda functions (functions/lambda/metrics.ts).
 */
export const createHubMetrics = () => {
  const registry = new MetricsRegistry();
  return {
    registry,
    received: registry.counter('tributary_deliveries_received_total', 'Webhook deliveries received, before any check', ['source']),
    accepted: registry.counter('tributary_deliveries_accepted_total', 'Deliveries recorded durably and answered 202 accepted', ['source']),
    duplicate: registry.counter('tributary_deliveries_duplicate_total', 'Deliveries already recorded, answered 202 duplicate', ['source']),
    rejected: registry.counter('tributary_deliveries_rejected_total', 'Deliveries refused with nothing stored, by problem type', ['source', 'reason']),
    completed: registry.counter(
      'tributary_deliveries_completed_total',
      'Deliveries the processor finished: processed, ignored (an event it does not index) or failed',
      ['source', 'outcome'],
    ),
    storageRequests: registry.counter(
      'tributary_storage_requests_total',
      'Requests sent to DynamoDB, by operation (a BatchWriteItem of 25 rows is one request)',
      ['operation'],
    ),
    writeUnits: registry.counter(
      'tributary_storage_write_units_total',
      'Write units of the writes sent to DynamoDB, by its rules, on the table and on its indexes, by kind of row (only with TRIBUTARY_METER_WRITE_UNITS=true)',
      ['target', 'row'],
    ),
    batchSize: registry.histogram('tributary_processing_batch_size', 'Deliveries processed together in one batch', [], BATCH_SIZE_BUCKETS),
    retried: registry.counter('tributary_delivery_retries_total', 'Processing attempts that failed transiently and will be retried', ['source']),
    published: registry.counter('tributary_events_published_total', 'Events the bus accepted'),
    publishFailures: registry.counter('tributary_publish_failures_total', 'Events the bus refused or failed to take; they stay pending and are retried'),
    lag: registry.gauge('tributary_processing_lag_seconds', 'Age of the oldest delivery waiting for the processor (0 when none waits)'),
    inboxDepth: registry.gauge('tributary_inbox_depth', `Deliveries waiting for the processor (counted up to ${QUEUE_DEPTH_BOUND})`),
    outboxDepth: registry.gauge('tributary_outbox_depth', `Records with events waiting for the publisher (counted up to ${QUEUE_DEPTH_BOUND})`),
    alertsOpen: registry.gauge('tributary_alerts_open', 'Open alerts over every tenant, by kind', ['kind']),
    httpDuration: registry.histogram('tributary_http_request_duration_seconds', 'HTTP request latency by route pattern and status class', [
      'method',
      'route',
      'status_class',
    ]),
  };
};

export type HubMetrics = ReturnType<typeof createHubMetrics>;

/** Reads the store-derived gauges now: one Query each for lag and depths, one per tenant for alerts. */
export const collectStoreGauges = async (metrics: HubMetrics, db: Db, now: Date): Promise<void> => {
  const [lag, inbox, outbox, alerts] = await Promise.all([
    processingLagSeconds(db, now),
    countQueued(db, 'inbox', QUEUE_DEPTH_BOUND),
    countQueued(db, 'outbox', QUEUE_DEPTH_BOUND),
    countOpenAlertsByKind(db),
  ]);
  metrics.lag.set({}, lag);
  metrics.inboxDepth.set({}, inbox);
  metrics.outboxDepth.set({}, outbox);
  // Every kind, zeros included: a kind whose last alert resolved must drop to 0, not vanish.
  for (const kind of AlertKind.options) metrics.alertsOpen.set({ kind }, alerts.get(kind) ?? 0);
};

/**
 * This process's memory now, in the names Prometheus's client libraries use, rendered by
 * `GET /metrics` after the hub's figures. Kept out of the hub's registry: the Lambda functions
 * print that registry as EMF after every invocation, and Lambda reports its memory itself. In
 * local mode the process holds the hub and its embedded engine (a worker thread); the heap figures
 * are the hub's main thread's.
 */
export const renderProcessMetrics = (usage: NodeJS.MemoryUsage = process.memoryUsage()): string => {
  const registry = new MetricsRegistry();
  registry.gauge('process_resident_memory_bytes', 'Resident memory of this process').set({}, usage.rss);
  registry.gauge('nodejs_heap_size_total_bytes', "V8 heap held by the process's main thread").set({}, usage.heapTotal);
  registry.gauge('nodejs_heap_size_used_bytes', "V8 heap in use on the process's main thread").set({}, usage.heapUsed);
  registry.gauge('nodejs_external_memory_bytes', 'Memory of buffers and other objects outside the V8 heap').set({}, usage.external);
  return registry.render();
};

/** The source of a delivery record from its key (`T#{tenant}#DLV#{source}#{deliveryId}`, store/keys.ts). */
export const sourceOfDeliveryKey = (deliveryPk: string): string => /#DLV#([^#]+)#/.exec(deliveryPk)?.[1] ?? 'unknown';

/** Counts what the processor did with a delivery; `skipped` (already done) counts nothing. */
export const countOutcome = (metrics: HubMetrics | undefined, deliveryPk: string, outcome: ProcessOutcome): void => {
  if (!metrics || outcome === 'skipped') return;
  const source = sourceOfDeliveryKey(deliveryPk);
  if (outcome === 'retry') metrics.retried.inc({ source });
  else metrics.completed.inc({ source, outcome });
};

/** A publisher that counts what the bus took and what it refused (a rejected call refuses them all). */
export const countPublishes = (publisher: EventPublisher, metrics: HubMetrics): EventPublisher => ({
  async publish(events, cursors) {
    try {
      // The cursors go on: the local bus gives them to Server-Sent Events clients as message ids.
      const result = await publisher.publish(events, cursors);
      metrics.published.inc({}, events.length - result.failedIds.length);
      metrics.publishFailures.inc({}, result.failedIds.length);
      return result;
    } catch (error) {
      metrics.publishFailures.inc({}, events.length);
      throw error;
    }
  },
});
