import { describe, expect, it } from 'vitest';
import { weeklyFlow, weeksEnding, windowCycleTime } from '../../core/overview.ts';
import { parseSearch, titleMatches, titleWords } from '../../core/search.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { indexedItem } from '../fixtures/work-items.ts';

const NOW = new Date('2024-03-20T12:00:00.000Z'); // a Wednesday

const done = (n: number, startedAt: string, closedAt: string, labels: string[] = []): WorkItem => ({
  ...indexedItem({ ref: `github:octo/api#${n}`, status: { name: 'closed', category: 'done' }, labels, closedAt, updatedAt: closedAt }),
  startedAt,
});

describe('the overview’s weeks of flow', () => {
  it('ends with the current week and goes back 12 Mondays', () => {
    const weeks = weeksEnding(NOW, 12);
    expect(weeks).toHaveLength(12);
    expect(weeks.at(-1)).toBe('2024-03-18');
    expect(weeks[0]).toBe('2024-01-01');
  });

  it('counts created and closed from the summary counters, throughput, cycle time and mix from the work done', () => {
    const counters = { 'created:2024-03-18': 2, 'created:2024-03-19': 1, 'closed:2024-03-12': 4, 'closed:2023-12-01': 9, 'open': 5 };
    const items = [
      done(1, '2024-03-10T00:00:00.000Z', '2024-03-12T00:00:00.000Z'),
      done(2, '2024-03-11T00:00:00.000Z', '2024-03-12T00:00:00.000Z', ['ops']),
      done(3, '2024-03-01T00:00:00.000Z', '2024-03-13T00:00:00.000Z'),
    ];
    const weeks = weeklyFlow(counters, items, NOW);
    const current = weeks.at(-1)!;
    const previous = weeks.at(-2)!;
    expect(current).toMatchObject({ week: '2024-03-18', created: 3, closed: 0, throughput: 0, cycleTimeHours: { count: 0, p50: null, p85: null } });
    expect(previous).toMatchObject({ week: '2024-03-11', created: 0, closed: 4, throughput: 3, mix: { project: 2, operational: 1, request: 0 } });
    expect(previous.cycleTimeHours).toEqual({ count: 3, p50: 48, p85: 288 });
    expect(weeks.reduce((sum, w) => sum + w.closed, 0)).toBe(4);
    expect(windowCycleTime(items, '2024-01-01T00:00:00.000Z')).toEqual({ count: 3, p50: 48, p85: 288 });
  });
});

describe('the search box', () => {
  const sites = { ACME: 'acme.atlassian.net' };

  it('reads a Jira key in any case as the refs it may have', () => {
    expect(parseSearch(' acme-42 ', sites)).toEqual({ kind: 'refs', refs: ['jira:acme.atlassian.net/ACME-42', 'jira:ACME-42'], words: ['acme', '42'] });
    expect(parseSearch('OPS-7', sites)).toMatchObject({ kind: 'refs', refs: ['jira:OPS-7'] });
  });

  it('reads owner/repo#12, GitHub and Jira URLs and refs', () => {
    expect(parseSearch('Octo/API#12', sites)).toMatchObject({ kind: 'refs', refs: ['github:octo/api#12'] });
    expect(parseSearch('https://github.com/octo/api/pull/12/files', sites)).toMatchObject({ refs: ['github:octo/api#12'] });
    expect(parseSearch('https://acme.atlassian.net/browse/ACME-42', sites)).toMatchObject({ refs: ['jira:acme.atlassian.net/ACME-42'] });
    expect(parseSearch('email:support@acme.example/abc', sites)).toMatchObject({ refs: ['email:support@acme.example/abc'] });
  });

  it('reads anything else as words that start words of a title', () => {
    expect(parseSearch('Checkout fails!', sites)).toEqual({ kind: 'words', words: ['checkout', 'fails'] });
    expect(titleMatches('Checkout fails when the cart is big', ['check', 'cart'])).toBe(true);
    expect(titleMatches('Checkout fails', ['heck'])).toBe(false);
    expect(titleMatches('Anything', [])).toBe(false);
    expect(titleWords('Zahlung schlägt fehl — ÄÖ 42 a')).toEqual(['zahlung', 'schlägt', 'fehl', 'äö', '42']);
  });
});
