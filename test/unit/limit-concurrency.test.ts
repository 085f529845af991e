import { describe, expect, it } from 'vitest';
import { limitConcurrency } from '../../core/limit-concurrency.ts';

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
