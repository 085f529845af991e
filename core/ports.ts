import type { EventEnvelope } from './events.ts';

/** Structured logs: one JSON line per event with its context; never secrets or whole payloads. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Where published events go: EventBridge in AWS, the local bus on one machine. */
export interface EventPublisher {
  /**
   * Publishes in order; resolves with the ids that failed (retried later), rejects when nothing was
   * published. `cursors`: each event's position in its tenant's event log, when known (the local
   * bus gives it to Server-Sent Events clients as the message id).
   */
  publish(events: readonly EventEnvelope[], cursors?: readonly string[]): Promise<{ failedIds: string[] }>;
}

export type Clock = () => Date;
