import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventEnvelope } from '../core/events.ts';
import type { EventPublisher } from '../core/ports.ts';

export type EventListener = (event: EventEnvelope) => void;

/**
 * The bus on one machine: every event is appended to a JSONL log (the durable record consumers can
 * tail) and then handed to live subscribers (Server-Sent Events). Delivery is at least once: after
 * a crash an event may be appended again, with the same id.
 */
export class LocalBus implements EventPublisher {
  readonly #listeners = new Set<EventListener>();

  constructor(private readonly logPath: string) {}

  async publish(events: readonly EventEnvelope[]): Promise<{ failedIds: string[] }> {
    if (events.length === 0) return { failedIds: [] };
    await mkdir(dirname(this.logPath), { recursive: true });
    await appendFile(this.logPath, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    for (const event of events) for (const listener of this.#listeners) listener(event);
    return { failedIds: [] };
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
