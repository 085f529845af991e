import type { Logger } from '../core/ports.ts';

export interface WorkQueueOptions<K> {
  name: string;
  concurrency: number;
  /** resolves `true` when the key is done, `false` to retry it later */
  handle: (key: K) => Promise<boolean>;
  /** finds work the in-memory queue does not know about (after a restart, or from another process) */
  discover: () => Promise<K[]>;
  keyOf: (key: K) => string;
  pollMs: number;
  log: Logger;
}

/**
 * Runs work for keys with bounded concurrency, never the same key twice at once. Keys arrive
 * through `enqueue` (fast path) and through periodic discovery from the store (the path that
 * resumes after a crash). Failures back off exponentially per key.
 */
export class WorkQueue<K> {
  readonly #queued = new Map<string, K>();
  readonly #running = new Set<string>();
  readonly #retryAt = new Map<string, { at: number; failures: number }>();
  readonly #idleWaiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #discovering = false;

  constructor(private readonly options: WorkQueueOptions<K>) {}

  start(): void {
    this.#stopped = false;
    void this.#discover();
    this.#timer = setInterval(() => void this.#discover(), this.options.pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    while (this.#running.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  enqueue(key: K): void {
    this.#queued.set(this.options.keyOf(key), key);
    this.#pump();
  }

  /** Number of keys queued or running. */
  get size(): number {
    return this.#queued.size + this.#running.size;
  }

  async #discover(): Promise<void> {
    if (this.#stopped || this.#discovering) return;
    this.#discovering = true;
    try {
      for (const key of await this.options.discover()) {
        const id = this.options.keyOf(key);
        if (!this.#running.has(id)) this.#queued.set(id, key);
      }
    } catch (error) {
      this.options.log.warn(`${this.options.name}: discovery failed, will retry`, { error: String(error) });
    } finally {
      this.#discovering = false;
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#stopped) return;
    const now = Date.now();
    for (const [id, key] of this.#queued) {
      if (this.#running.size >= this.options.concurrency) break;
      if (this.#running.has(id)) continue;
      const retry = this.#retryAt.get(id);
      if (retry && retry.at > now) continue;
      this.#queued.delete(id);
      this.#running.add(id);
      void this.#run(id, key);
    }
    if (this.size === 0) this.#idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  async #run(id: string, key: K): Promise<void> {
    let done = false;
    try {
      done = await this.options.handle(key);
    } catch (error) {
      this.options.log.warn(`${this.options.name}: failed, will retry`, { key: id, error: String(error) });
    }
    this.#running.delete(id);
    if (done) {
      this.#retryAt.delete(id);
    } else {
      const failures = (this.#retryAt.get(id)?.failures ?? 0) + 1;
      const delay = Math.min(5000, 25 * 2 ** failures);
      this.#retryAt.set(id, { at: Date.now() + delay, failures });
      if (!this.#queued.has(id)) this.#queued.set(id, key);
      setTimeout(() => this.#pump(), delay).unref();
    }
    this.#pump();
  }
}
