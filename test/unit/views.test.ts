import { describe, expect, it } from 'vitest';
import { contributionDelta, contributionOf, summarize, sumContributions } from '../../core/aggregates.ts';
import { computeFlow, computeWorkload, percentile, weekOf } from '../../core/views.ts';
import { githubPerson, indexedItem } from '../fixtures/work-items.ts';

const NOW = new Date('2024-03-15T12:00:00.000Z');
const alice = githubPerson('alice', 1);

describe('summary contributions', () => {
  it('count open work by team and owner, and closed work by the day it closed', () => {
    const open = indexedItem({ owners: [alice], team: 'platform', status: { name: 'open', category: 'blocked' } });
    expect(contributionOf(open)).toEqual(
      expect.arrayContaining(['all', 'open', 'open.team:platform', `open.owner:${alice.id}`, 'status:blocked']),
    );
    // The summary's `blocked` is the derived flag, counted from the dependency state: not from the status.
    expect(contributionOf(open)).not.toContain('blocked.flag');
    const closed = indexedItem({ status: { name: 'closed', category: 'done' }, closedAt: '2024-03-14T10:00:00Z' });
    expect(contributionOf(closed)).toContain('closed:2024-03-14');
    expect(contributionOf(closed)).not.toContain('open');
  });

  it('move the counters by the difference between two states only', () => {
    const before = contributionOf(indexedItem({}));
    const after = contributionOf(indexedItem({ status: { name: 'open', category: 'in_progress' } }));
    expect(contributionDelta(before, after)).toEqual({ 'status:todo': -1, 'status:in_progress': 1 });
    expect(contributionDelta(after, after)).toEqual({});
  });

  it('summarize windows of created and closed work, and stale open work', () => {
    const items = [
      indexedItem({ ref: 'github:octo/api#1', createdAt: '2024-03-14T00:00:00Z', updatedAt: '2024-03-14T00:00:00Z' }),
      indexedItem({ ref: 'github:octo/api#2', createdAt: '2024-02-20T00:00:00Z', updatedAt: '2024-02-20T00:00:00Z', category: 'request' }),
      indexedItem({
        ref: 'github:octo/api#3',
        createdAt: '2024-01-01T00:00:00Z',
        updatedAt: '2024-03-10T00:00:00Z',
        status: { name: 'closed', category: 'done' },
        closedAt: '2024-03-10T00:00:00Z',
      }),
    ];
    const summary = summarize(sumContributions(items.map(contributionOf)), NOW);
    expect(summary).toMatchObject({
      total: 3,
      open: 2,
      unowned: 2,
      stale: 1,
      unplannedShare: 0.5,
      createdVsClosed: { last7Days: { created: 1, closed: 1 }, last30Days: { created: 2, closed: 1 } },
    });
  });
});

describe('workload and flow', () => {
  it('counts WIP per person across tools and flags who is over the limit', () => {
    const wip = [1, 2, 3].map((n) => indexedItem({ ref: `github:octo/api#${n}`, owners: [alice], team: 'platform', status: { name: 'open', category: 'in_progress' } }));
    const workload = computeWorkload(wip, { person: 2, teams: { platform: 5 } }, NOW);
    expect(workload.people).toEqual([expect.objectContaining({ personId: alice.id, wip: 3, limit: 2, overLimit: true, handles: ['github:alice'] })]);
    expect(workload.teams).toEqual([expect.objectContaining({ team: 'platform', wip: 3, limit: 5, overLimit: false })]);
  });

  it('takes percentiles by nearest rank and weeks from Monday', () => {
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2);
    expect(percentile([4, 1, 3, 2], 0.85)).toBe(4);
    expect(percentile([], 0.5)).toBeUndefined();
    expect(weekOf('2024-03-17T23:00:00Z')).toBe('2024-03-11');
  });

  it('measures cycle time from start to close within the window', () => {
    const done = indexedItem({ status: { name: 'closed', category: 'done' }, closedAt: '2024-03-14T00:00:00Z', updatedAt: '2024-03-14T00:00:00Z' });
    const flow = computeFlow([{ ...done, startedAt: '2024-03-13T00:00:00Z' }], [], 2, NOW);
    expect(flow.overall.cycleTimeHours).toEqual({ count: 1, p50: 24, p85: 24 });
    expect(flow.overall.throughputPerWeek).toEqual([
      { week: '2024-03-04', closed: 0 },
      { week: '2024-03-11', closed: 1 },
    ]);
  });
});
