import { describe, expect, it } from 'vitest';
import { onceSucceeded } from '../../core/once.ts';

describe('a start shared once it succeeded', () => {
  it('runs once for calls at the same time and after, and shares its result', async () => {
    let starts = 0;
    const load = onceSucceeded(async () => ++starts);
    expect(await Promise.all([load(), load()])).toEqual([1, 1]);
    expect(await load()).toBe(1);
    expect(starts).toBe(1);
  });

  it('forgets a start that failed: its callers see the error, the next call starts again', async () => {
    let starts = 0;
    const load = onceSucceeded(async () => {
      if (++starts === 1) throw new Error('not reachable yet');
      return starts;
    });
    await expect(Promise.all([load(), load()])).rejects.toThrow('not reachable yet');
    expect(await load()).toBe(2);
    expect(await load()).toBe(2);
    expect(starts).toBe(2);
  });
});
