import { describe, expect, it } from 'vitest';
import { BottleneckSettings, rankBottlenecks, rankedItemOf } from '../../core/bottlenecks.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { indexedItem } from '../fixtures/work-items.ts';

const NOW = new Date('2030-01-10T00:00:00.000Z');
const settings = BottleneckSettings.parse({});

const item = (n: number, overrides: Partial<WorkItem> = {}): WorkItem => ({
  ...indexedItem({ ref: `github:octo/api#${n}`, createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:00.000Z' }),
  ...overrides,
});

const mapOf = (...items: WorkItem[]) => new Map(items.map((i) => [i.id, i]));

describe('rankBottlenecks', () => {
  it('counts each waiting item once, even through a cycle', () => {
    const [a, b, c] = [item(1), item(2), item(3)];
    const result = rankBottlenecks(
      { blockedBy: [{ blocked: b.id, blockers: [a.id] }, { blocked: c.id, blockers: [b.id] }, { blocked: a.id, blockers: [c.id] }], items: mapOf(a, b, c), inProgress: [], inReview: [] },
      settings,
      NOW,
    );
    expect(result.holders.map((h) => h.blockedCount)).toEqual([2, 2, 2]);
  });

  it('breaks ties by age, oldest first', () => {
    const old = item(1, { createdAt: '2029-01-01T00:00:00.000Z' });
    const young = item(2);
    const [x, y] = [item(3), item(4)];
    const result = rankBottlenecks(
      { blockedBy: [{ blocked: x.id, blockers: [young.id] }, { blocked: y.id, blockers: [old.id] }], items: mapOf(old, young, x, y), inProgress: [], inReview: [] },
      settings,
      NOW,
    );
    expect(result.holders.map((h) => h.ref)).toEqual([old.ref, young.ref]);
  });

  it('leaves out closed blockers and counts blockers that cross team lines per receiving team', () => {
    const closed = item(1, { status: { name: 'closed', category: 'done' } });
    const platform = item(2, { team: 'platform' });
    const waiting = item(3, { team: 'checkout' });
    const result = rankBottlenecks(
      { blockedBy: [{ blocked: waiting.id, blockers: [closed.id, platform.id] }], items: mapOf(closed, platform, waiting), inProgress: [], inReview: [] },
      settings,
      NOW,
    );
    expect(result.holders.map((h) => h.ref)).toEqual([platform.ref]);
    expect(result.teamsWithIncomingCrossTeamBlockers).toEqual([{ team: 'checkout', blockers: 1 }]);
  });

  it('lists work in progress past the threshold, longest first', () => {
    const long = item(1, { startedAt: '2030-01-01T00:00:00.000Z' });
    const short = item(2, { startedAt: '2030-01-09T00:00:00.000Z' });
    const result = rankBottlenecks({ blockedBy: [], items: new Map(), inProgress: [short, long], inReview: [] }, settings, NOW);
    expect(result.longRunning.map((e) => [e.ref, e.inProgressDays])).toEqual([[long.ref, 9]]);
  });

  it('ranks work in progress and in review kept as rankedItemOf exactly as whole items', () => {
    const inProgress = [item(1, { startedAt: '2029-12-01T00:00:00.000Z', team: 'platform', url: 'https://github.com/octo/api/issues/1' }), item(2, { startedAt: '2030-01-02T00:00:00.000Z' })];
    const inReview = [item(3, { kind: 'pull_request', createdAt: '2030-01-05T00:00:00.000Z' }), item(4, { kind: 'issue', createdAt: '2030-01-05T00:00:00.000Z' })];
    const whole = rankBottlenecks({ blockedBy: [], items: new Map(), inProgress, inReview }, settings, NOW);
    const ranked = rankBottlenecks({ blockedBy: [], items: new Map(), inProgress: inProgress.map(rankedItemOf), inReview: inReview.map(rankedItemOf) }, settings, NOW);
    expect(ranked).toEqual(whole);
    expect(whole.longRunning).toHaveLength(2);
    expect(whole.waitingForReview.map((e) => e.ref)).toEqual([inReview[0]!.ref]);
  });
});
