import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalBus, type LogRewriteCursor } from '../../bus/local-bus.ts';
import type { EventEnvelope } from '../../core/events.ts';

/** Events as the log holds them; only `id`, `tenantId` and `data` matter to a rewrite. */
const event = (n: number, who: string): EventEnvelope => ({ id: `evt_${n}`, tenantId: 'ten_a', data: { owner: who, pad: 'x'.repeat(60) } }) as unknown as EventEnvelope;
const rename = (e: EventEnvelope): EventEnvelope | undefined =>
  (e as any).data.owner === 'dana' ? ({ ...e, data: { ...(e as any).data, owner: 'erased-0123456789abcdef' } } as EventEnvelope) : undefined;
const readLog = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('LocalBus.rewriteLogChunk', () => {
  it('rewrites the log in bounded chunks, keeping events published between chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bus-'));
    const path = join(dir, 'events.jsonl');
    const bus = new LocalBus(path);
    await bus.publish(Array.from({ length: 10 }, (_, n) => event(n, n % 2 ? 'dana' : 'lee')));
    let cursor: LogRewriteCursor | null = null;
    let chunks = 0;
    let changed = 0;
    do {
      const result = await bus.rewriteLogChunk(rename, { cursor, rewriteId: 'job_1', maxBytes: 300 });
      cursor = result.cursor;
      changed += result.changed;
      chunks++;
      // Published while the rewrite is under way: lands after what was read, and is rewritten too.
      if (chunks === 2) await bus.publish([event(10, 'dana')]);
    } while (cursor && chunks < 100);
    expect(chunks).toBeGreaterThan(3);
    expect(changed).toBe(6);
    const log = readLog(path);
    expect(log.map((e) => e.id)).toEqual(Array.from({ length: 11 }, (_, n) => `evt_${n}`));
    expect(log.filter((e) => e.data.owner === 'dana')).toEqual([]);
    expect(readdirSync(dir)).toEqual(['events.jsonl']);
  });

  it('resumes after a chunk whose cursor was lost, and starts again when another rewrite replaced the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bus-'));
    const path = join(dir, 'events.jsonl');
    const bus = new LocalBus(path);
    await bus.publish(Array.from({ length: 6 }, (_, n) => event(n, 'dana')));
    const first = await bus.rewriteLogChunk(rename, { cursor: null, rewriteId: 'job_a', maxBytes: 200 });
    // A crash after the second chunk was written, before its cursor was saved: the same chunk again.
    await bus.rewriteLogChunk(rename, { cursor: first.cursor, rewriteId: 'job_a', maxBytes: 200 });
    let cursor = first.cursor;
    // Meanwhile another erasure rewrites the whole log (a new file): job_a's offsets no longer hold.
    for (let c: LogRewriteCursor | null = null, i = 0; i === 0 || c; i++) c = (await bus.rewriteLogChunk(() => undefined, { cursor: c, rewriteId: 'job_b', maxBytes: 10_000 })).cursor;
    for (let i = 0; cursor && i < 100; i++) cursor = (await bus.rewriteLogChunk(rename, { cursor, rewriteId: 'job_a', maxBytes: 200 })).cursor;
    const log = readLog(path);
    expect(log.map((e) => e.id)).toEqual(Array.from({ length: 6 }, (_, n) => `evt_${n}`));
    expect(log.every((e) => e.data.owner === 'erased-0123456789abcdef')).toBe(true);
    expect(readdirSync(dir)).toEqual(['events.jsonl']);
  });
});
