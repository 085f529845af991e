import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { appendFile, mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
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

  /** Appends and rewrites of the log, one at a time: a rewrite must not lose an append made meanwhile. */
  #log: Promise<unknown> = Promise.resolve();

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#log.then(work, work);
    this.#log = run.catch(() => undefined);
    return run;
  }

  async publish(events: readonly EventEnvelope[]): Promise<{ failedIds: string[] }> {
    if (events.length === 0) return { failedIds: [] };
    await this.#exclusive(async () => {
      await mkdir(dirname(this.logPath), { recursive: true });
      await appendFile(this.logPath, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    });
    for (const event of events) for (const listener of this.#listeners) listener(event);
    return { failedIds: [] };
  }

  /**
   * Rewrites the log line by line (an erasure: events that name an erased person), streaming into a
   * new file renamed over the old one, so the log is never held in memory nor left half-written.
   * `transform` returns the new event, or undefined to keep the line as it is. Resolves with the
   * number of lines changed.
   */
  async rewriteLog(transform: (event: EventEnvelope) => EventEnvelope | undefined): Promise<number> {
    return this.#exclusive(async () => {
      if (!existsSync(this.logPath)) return 0;
      const temporary = `${this.logPath}.rewrite`;
      const out = createWriteStream(temporary);
      let changed = 0;
      for await (const line of createInterface({ input: createReadStream(this.logPath), crlfDelay: Infinity })) {
        if (!line) continue;
        let next: EventEnvelope | undefined;
        try {
          next = transform(JSON.parse(line) as EventEnvelope);
        } catch {
          next = undefined;
        }
        if (next) changed++;
        if (!out.write(`${next ? JSON.stringify(next) : line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
      out.end();
      await finished(out);
      await rename(temporary, this.logPath);
      return changed;
    });
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
