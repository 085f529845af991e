import { existsSync } from 'node:fs';
import { appendFile, mkdir, open, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventEnvelope } from '../core/events.ts';
import type { EventPublisher } from '../core/ports.ts';

/** Hears each published event, with its position in its tenant's event log when the publisher knows it (the SSE `id:`). */
export type EventListener = (event: EventEnvelope, cursor?: string) => void;

/** Where a chunked rewrite of the log is: bytes of the log read, bytes of the side file written, the log's inode. */
export interface LogRewriteCursor {
  ino: number;
  read: number;
  written: number;
}

const truncateOrCreate = async (path: string, length: number) => {
  if (existsSync(path)) await truncate(path, length);
  else await writeFile(path, '');
};

/**
 * Whole lines from byte `from`, about `maxBytes` of them (more when one line is longer), and how
 * many bytes they took, newlines included.
 */
const readLines = async (path: string, from: number, maxBytes: number): Promise<{ lines: string[]; read: number }> => {
  const file = await open(path, 'r');
  try {
    let size = maxBytes;
    for (;;) {
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await file.read(buffer, 0, size, from);
      const end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (end >= 0 || bytesRead < size) {
        // At the end of the log (held, so nothing is being appended) a last line without its newline is taken too.
        const chunk = bytesRead < size ? buffer.subarray(0, bytesRead) : buffer.subarray(0, end + 1);
        return { lines: chunk.toString('utf8').split('\n').filter(Boolean), read: chunk.length };
      }
      size *= 2;
    }
  } finally {
    await file.close();
  }
};

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

  async publish(events: readonly EventEnvelope[], cursors?: readonly string[]): Promise<{ failedIds: string[] }> {
    if (events.length === 0) return { failedIds: [] };
    await this.#exclusive(async () => {
      await mkdir(dirname(this.logPath), { recursive: true });
      await appendFile(this.logPath, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    });
    events.forEach((event, i) => {
      for (const listener of this.#listeners) listener(event, cursors?.[i]);
    });
    return { failedIds: [] };
  }

  /**
   * Rewrites the log in bounded chunks (an erasure: events that name an erased person), so
   * publishing waits for one chunk at most, never for the whole log. Each call, holding the log,
   * reads whole lines from `cursor.read` (at most about `maxBytes`), appends them, transformed, to a
   * side file (one per `rewriteId`: a job id), and returns where to go on; the call that reaches the end renames the side file over
   * the log. `transform` returns the new event, or undefined to keep the line as it is.
   * Resumable: the cursor records the side file's length (a crash after a chunk was written but
   * before the cursor was saved is cut off) and the log's inode (another rewrite renamed a new log
   * in meanwhile: start again); a side file shorter than the cursor (lost) starts again too. `cursor: null` in the result means done.
   */
  async rewriteLogChunk(
    transform: (event: EventEnvelope) => EventEnvelope | undefined,
    options: { cursor: LogRewriteCursor | null; rewriteId: string; maxBytes?: number },
  ): Promise<{ changed: number; cursor: LogRewriteCursor | null }> {
    const sidePath = `${this.logPath}.rewrite-${options.rewriteId}`;
    return this.#exclusive(async () => {
      if (!existsSync(this.logPath)) return { changed: 0, cursor: null };
      const log = await stat(this.logPath);
      const resumable = options.cursor && options.cursor.ino === log.ino && existsSync(sidePath) && (await stat(sidePath)).size >= options.cursor.written;
      const cursor = resumable && options.cursor ? options.cursor : { ino: log.ino, read: 0, written: 0 };
      // What a crash left past the cursor is written again from the log.
      await truncateOrCreate(sidePath, cursor.written);
      const { lines, read } = await readLines(this.logPath, cursor.read, options.maxBytes ?? 1_048_576);
      let changed = 0;
      const out = lines.map((line) => {
        let next: EventEnvelope | undefined;
        try {
          next = transform(JSON.parse(line) as EventEnvelope);
        } catch {
          next = undefined;
        }
        if (next) changed++;
        return `${next ? JSON.stringify(next) : line}\n`;
      });
      const text = out.join('');
      if (text) await appendFile(sidePath, text);
      const next: LogRewriteCursor = { ino: log.ino, read: cursor.read + read, written: cursor.written + Buffer.byteLength(text) };
      // Holding the log, nothing can be appended between this check and the rename.
      if (next.read < log.size) return { changed, cursor: next };
      await rename(sidePath, this.logPath);
      return { changed, cursor: null };
    });
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
