import type { ConnectorRegistry } from '../connectors/index.ts';
import type { Clock, EventPublisher, Logger } from '../core/ports.ts';
import { OutboxPump } from '../bus/outbox-pump.ts';
import type { Db } from '../store/db.ts';
import { listPendingDeliveries } from '../store/inbox.ts';
import { processDelivery } from './process-delivery.ts';
import type { ConnectionCache } from './connection-cache.ts';
import { WorkQueue } from './work-queue.ts';
import { type HubMetrics, countOutcome, countPublishes } from './hub-metrics.ts';

export interface PipelineOptions {
  db: Db;
  connectors: ConnectorRegistry;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
  /** when set, both how many deliveries are processed and how many item outboxes are drained at once (defaults: 4 and 8) */
  concurrency?: number;
  pollMs?: number;
  connections?: ConnectionCache;
  /** counts outcomes and publishes into this process's figures (GET /metrics) */
  metrics?: HubMetrics;
}

/**
 * The processor and the publisher running in this process (the local mode): deliveries go from
 * the inbox through the processor into item records, and their events from the records to the bus.
 */
export const startPipeline = (options: PipelineOptions) => {
  const pollMs = options.pollMs ?? 1000;
  const bus = options.metrics ? countPublishes(options.publisher, options.metrics) : options.publisher;
  const publisher = new OutboxPump({ db: options.db, publisher: bus, log: options.log, pollMs });
  const processor = new WorkQueue<string>({
    name: 'processor',
    // The local engine is one process shared with the ack path: more deliveries at once only queue
    // in it and slow acknowledgements (at 8: 96 acks/s; at 4: 225/s, for about the same end-to-end rate).
    concurrency: options.concurrency ?? 4,
    handle: async (pk) => {
      const outcome = await processDelivery(
        { ...options, onEvents: () => publisher.kick() },
        pk,
      );
      countOutcome(options.metrics, pk, outcome);
      return outcome !== 'retry';
    },
    discover: () => listPendingDeliveries(options.db),
    keyOf: (pk) => pk,
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
