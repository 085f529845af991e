import type { EventEnvelope } from './events.ts';

/** Structured logs: one JSON line per event with its context; never secrets or whole payloads. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Where published events go: EventBridge in AWS, the local bus on one machine. */
export interface EventPublisher {
  /** Publishes in order; resolves with the ids that failed (retried later), rejects when nothing was published. */
  publish(events: readonly EventEnvelope[]): Promise<{ failedIds: string[] }>;
}

export type Clock = () => Date;
