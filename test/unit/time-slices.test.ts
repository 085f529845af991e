import { describe, expect, it } from 'vitest';
import { timeSlices } from '../../pipeline/time-slices.ts';

const busyFor = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('timeSlices', () => {
  it('gives the event loop back once a slice of work has run out, and not before', async () => {
    const slice = timeSlices(5);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      await slice();
      await slice();
      expect(turns).toBe(0);
      busyFor(6);
      await slice();
      expect(turns).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
  });

  it('lets a timer that came due run between units of long work', async () => {
    const slice = timeSlices(2);
    const ran: string[] = [];
    setTimeout(() => ran.push('timer'), 0);
    for (let unit = 0; unit < 5; unit++) {
      busyFor(1);
      ran.push(`unit ${unit}`);
      await slice();
    }
    expect(ran.indexOf('timer')).toBeGreaterThan(0);
    expect(ran.indexOf('timer')).toBeLessThan(ran.length - 1);
  });
});
