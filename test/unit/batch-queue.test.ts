import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchQueue } from '../../processing/batch-queue.ts';
import type { ProcessOutcome } from '../../processing/deps.ts';

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

/** A queue whose discoveries answer when the test says, processing every batch to `processed`. */
const queueWith = (gate: Promise<void> = Promise.resolve()) => {
  const batches: string[][] = [];
  const discoveries: ReturnType<typeof deferred<string[]>>[] = [];
  const queue = new BatchQueue({
    process: async (pks) => {
      batches.push(pks);
      await gate;
      return new Map(pks.map((pk) => [pk, 'processed' as ProcessOutcome]));
    },
    discover: () => {
      const next = deferred<string[]>();
      discoveries.push(next);
      return next.promise;
    },
    batchSize: 100,
    pollMs: 60_000,
    log: { info: vi.fn(), warn: vi.fn(), error: vi.fn() },
  });
  return { queue, batches, discoveries };
};

describe('the local processor queue', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  it('does not queue again what a discovery finds in the batch running now', async () => {
    const gate = deferred<void>();
    const { queue, batches, discoveries } = queueWith(gate.promise);
    queue.start();
    stop = () => queue.stop();
    queue.enqueue('a');
    await vi.waitFor(() => expect(batches).toEqual([['a']]));
    discoveries[0]!.resolve(['a', 'b']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.resolve();
    await vi.waitFor(() => expect(batches).toEqual([['a'], ['b']]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('does not queue again what finished while a discovery was reading', async () => {
    const { queue, batches, discoveries } = queueWith();
    queue.start();
    stop = () => queue.stop();
    queue.enqueue('a');
    await vi.waitFor(() => expect(queue.size).toBe(0));
    discoveries[0]!.resolve(['a', 'c']);
    await vi.waitFor(() => expect(batches).toEqual([['a'], ['c']]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([['a'], ['c']]);
  });
});
