import type { ConnectorRegistry } from '../connectors/index.ts';
import type { Clock, EventPublisher, Logger } from '../core/ports.ts';
import { OutboxPump } from '../bus/outbox-pump.ts';
import type { Db } from '../store/db.ts';
import { listPendingDeliveries } from '../store/inbox.ts';
import { processBatch } from '../processing/batch.ts';
import { BatchQueue } from '../processing/batch-queue.ts';
import { deliveryClaimsFor } from '../processing/claims.ts';
import type { ConnectionCache } from './connection-cache.ts';
import { type HubMetrics, countOutcome, countPublishes } from './hub-metrics.ts';
import { timeSlices } from './time-slices.ts';

export interface PipelineOptions {
  db: Db;
  connectors: ConnectorRegistry;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
  /** the most deliveries processed in one batch (default 100) */
  batchSize?: number;
  pollMs?: number;
  connections?: ConnectionCache;
  /** counts outcomes and publishes into this process's figures (GET /metrics) */
  metrics?: HubMetrics;
}

/**
 * The processor and the publisher running in this process (the local mode): deliveries go from
 * the inbox through the processor, in batches, into item records and the event log, and the events
 * from the log's outbox to the bus.
 */
export const startPipeline = (options: PipelineOptions) => {
  const pollMs = options.pollMs ?? 1000;
  const bus = options.metrics ? countPublishes(options.publisher, options.metrics) : options.publisher;
  const publisher = new OutboxPump({ db: options.db, publisher: bus, log: options.log, pollMs });
  const claims = deliveryClaimsFor(options.db);
  // The HTTP app shares this event loop: a batch hands it back every few milliseconds.
  const yieldEventLoop = timeSlices();
  const processor = new BatchQueue({
    process: async (pks) => {
      const outcomes = await processBatch({ ...options, onEvents: () => publisher.kick(), yieldEventLoop }, pks);
      for (const [pk, outcome] of outcomes) countOutcome(options.metrics, pk, outcome);
      return outcomes;
    },
    // What a job in this process is processing itself is left to it (processing/claims.ts).
    discover: async () => (await listPendingDeliveries(options.db)).filter((pk) => !claims.isHeld(pk)),
    batchSize: options.batchSize ?? 100,
    pollMs,
    log: options.log,
  });
  processor.start();
  publisher.start();
  return {
    /** the ack path calls this after each durable write */
    onAccepted: (deliveryPk: string) => processor.enqueue(deliveryPk),
    processor,
    publisher,
    stop: async () => {
      await processor.stop();
      await publisher.stop();
    },
  };
};

export type Pipeline = ReturnType<typeof startPipeline>;
