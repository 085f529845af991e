import type { Logger } from '../core/ports.ts';
import type { ProcessOutcome } from './deps.ts';

export interface BatchQueueOptions {
  /** processes one batch of delivery keys; resolves with each one's outcome */
  process: (pks: string[]) => Promise<Map<string, ProcessOutcome>>;
  /** finds pending deliveries the queue does not know about (after a restart, or written by another process) */
  discover: () => Promise<string[]>;
  /** the most deliveries in one batch */
  batchSize: number;
  pollMs: number;
  log: Logger;
}

const MAX_BACKOFF_MS = 5000;

/**
 * The local processor's loop: deliveries arrive one by one (the ack path tells it, and discovery
 * finds what it was not told) and are processed in batches, one batch at a time. Under a burst,
 * what arrives while a batch runs forms the next one; when idle, a lone delivery starts at once. A
 * delivery to retry (the store failed) backs off exponentially, alone.
 */
export class BatchQueue {
  readonly #queued = new Set<string>();
  readonly #retryAt = new Map<string, { at: number; failures: number }>();
  /** the running batch's deliveries */
  #running = new Set<string>();
  /** deliveries finished while a discovery was reading: what it found of them was pending then, not now */
  #finishedWhileDiscovering: Set<string> | undefined;
  #stopped = true;
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #discovering = false;

  constructor(private readonly options: BatchQueueOptions) {}

  start(): void {
    this.#stopped = false;
    void this.#discover();
    this.#timer = setInterval(() => void this.#discover(), this.options.pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    while (this.#busy) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  enqueue(pk: string): void {
    this.#queued.add(pk);
    this.#pump();
  }

  /** Deliveries queued or in the running batch. */
  get size(): number {
    return this.#queued.size + this.#running.size;
  }

  async #discover(): Promise<void> {
    if (this.#stopped || this.#discovering) return;
    this.#discovering = true;
    const finished = new Set<string>();
    this.#finishedWhileDiscovering = finished;
    try {
      // Not what runs now or finished meanwhile: a batch would only find it done.
      for (const pk of await this.options.discover()) if (!this.#running.has(pk) && !finished.has(pk)) this.#queued.add(pk);
    } catch (error) {
      this.options.log.warn('processor: discovery failed, will retry', { error: String(error) });
    } finally {
      this.#discovering = false;
      this.#finishedWhileDiscovering = undefined;
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#stopped || this.#busy) return;
    this.#busy = true;
    setImmediate(() => void this.#drain());
  }

  /** Takes batches until nothing is due. */
  async #drain(): Promise<void> {
    try {
      for (;;) {
        if (this.#stopped) return;
        const now = Date.now();
        const batch = [...this.#queued].filter((pk) => (this.#retryAt.get(pk)?.at ?? 0) <= now).slice(0, this.options.batchSize);
        if (batch.length === 0) return;
        for (const pk of batch) this.#queued.delete(pk);
        this.#running = new Set(batch);
        let outcomes: Map<string, ProcessOutcome>;
        try {
          outcomes = await this.options.process(batch);
        } catch (error) {
          this.options.log.warn('processor: batch failed, will retry', { size: batch.length, error: String(error) });
          outcomes = new Map(batch.map((pk) => [pk, 'retry']));
        }
        this.#running = new Set();
        for (const pk of batch) {
          if (outcomes.get(pk) !== 'retry') {
            this.#retryAt.delete(pk);
            this.#finishedWhileDiscovering?.add(pk);
            continue;
          }
          const failures = (this.#retryAt.get(pk)?.failures ?? 0) + 1;
          const delay = Math.min(MAX_BACKOFF_MS, 25 * 2 ** failures);
          this.#retryAt.set(pk, { at: Date.now() + delay, failures });
          this.#queued.add(pk);
          setTimeout(() => this.#pump(), delay).unref();
        }
      }
    } finally {
      this.#busy = false;
      this.#running = new Set();
    }
  }
}
