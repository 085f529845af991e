import { describe, expect, it } from 'vitest';
import { forEachBounded, limitConcurrency } from '../../core/limit-concurrency.ts';

describe('a function limited to n calls at once', () => {
  it('never runs more than n, runs every call, in order, and frees the slot of one that fails', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const limited = limitConcurrency(async (n: number) => {
      started.push(n);
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1 + (n % 3)));
      inFlight--;
      if (n % 4 === 0) throw new Error(`call ${n} failed`);
      return n * 2;
    }, 2);
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, n) => limited(n)));
    expect(most).toBe(2);
    expect(started).toEqual(Array.from({ length: 12 }, (_, n) => n));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([
      'failed', 2, 4, 6, 'failed', 10, 12, 14, 'failed', 18, 20, 22,
    ]);
  });
});

describe('work on every value, n at once', () => {
  it('runs every value with at most n in flight, in order of start', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    await forEachBounded(Array.from({ length: 10 }, (_, n) => n), 3, async (n) => {
      started.push(n);
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1 + (n % 2)));
      inFlight--;
    });
    expect(most).toBe(3);
    expect(started).toEqual(Array.from({ length: 10 }, (_, n) => n));
  });

  it('starts nothing more after a failure, waits for what runs, then throws the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachBounded(Array.from({ length: 10 }, (_, n) => n), 2, async (n) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, n === 1 ? 20 : 1));
      if (n === 2) throw new Error('value 2 failed');
      finished.push(n);
    });
    await expect(run).rejects.toThrow('value 2 failed');
    expect(started).toEqual([0, 1, 2]);
    expect(finished).toEqual([0, 1]);
  });
});
