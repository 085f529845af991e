import type { EventPublisher, Logger } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { publishOutboxRound } from './publish-outbox.ts';

export interface OutboxPumpOptions {
  db: Db;
  publisher: EventPublisher;
  log: Logger;
  /** how often to look for events other processes (or a crash) left in the outbox */
  pollMs: number;
  /** outbox entries taken per round (default 100) */
  roundSize?: number;
}

const MAX_BACKOFF_MS = 5000;

/**
 * The local publisher: runs rounds over the outbox (bus/publish-outbox.ts) until it is empty, at
 * once when the processor says it logged events, and every `pollMs` in case it did not. One round
 * at a time; a round the bus failed backs off exponentially, so an outage is not hammered.
 */
export class OutboxPump {
  #running = false;
  #again = false;
  #stopped = true;
  #failures = 0;
  #notBefore = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutboxPumpOptions) {}

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.options.pollMs);
    this.#timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    while (this.#running) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** 1 while a round runs or one is due, else 0 (how tests wait for the pipeline to settle). */
  get size(): number {
    return this.#running || this.#again ? 1 : 0;
  }

  /** Asks for a round as soon as possible (after the current one, or after a failure's backoff). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    const wait = this.#notBefore - Date.now();
    if (wait > 0) {
      setTimeout(() => this.kick(), wait).unref();
      return;
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    let failed = false;
    try {
      do {
        this.#again = false;
        const round = await publishOutboxRound(this.options.db, this.options.publisher, { limit: this.options.roundSize ?? 100 });
        if (round.failed > 0) {
          failed = true;
          break;
        }
        // A full round that published something may have left more behind it.
        if (round.full && round.published > 0) this.#again = true;
      } while (this.#again && !this.#stopped);
    } catch (error) {
      this.options.log.warn('publisher: round failed, will retry', { error: String(error) });
      failed = true;
    } finally {
      this.#running = false;
    }
    if (failed) {
      this.#failures++;
      this.#notBefore = Date.now() + Math.min(MAX_BACKOFF_MS, 25 * 2 ** this.#failures);
      this.#again = false;
      this.kick();
    } else {
      this.#failures = 0;
    }
  }
}
