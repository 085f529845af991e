import { describe, expect, it } from 'vitest';
import type { UpsertChange } from '../../core/changes.ts';
import { applyChange } from '../../core/merge.ts';
import type { OrderedBy, Status, WorkItem } from '../../core/work-item.ts';
import { applyAll, seededRandom, shuffled, upsert, withoutVersion } from '../fixtures/work-items.ts';

/**
 * A tool may write a time without a zone (old Jira servers): read as UTC, it names an instant
 * anywhere within 14 hours of that reading (zones run from UTC−12 to UTC+14). Such a time never
 * outranks a zoned one within that window; further apart, or between two unzoned times, times
 * compare as read.
 */

const IN_PROGRESS: Status = { name: 'In Progress', category: 'in_progress' };
const IN_REVIEW: Status = { name: 'In Review', category: 'in_review' };
const DONE: Status = { name: 'Done', category: 'done' };

const ZONED: OrderedBy = { field: 'fields.updated', zoned: true };
const UNZONED: OrderedBy = { field: 'fields.updated', zoned: false };

/** `2024-03-01T00:00:00.000Z` plus some hours. */
const hour = (hours: number): string => new Date(Date.UTC(2024, 2, 1) + hours * 3_600_000).toISOString();

const observed = (status: Status, updatedAt: string, orderedBy?: OrderedBy): UpsertChange => ({
  ...upsert({ status, updatedAt }),
  ...(orderedBy ? { orderedBy } : {}),
});

const stateAfter = (...changes: UpsertChange[]): WorkItem => {
  const item = applyAll(changes);
  if (!item) throw new Error('expected an item');
  return item;
};

describe('applyChange: times written without a zone', () => {
  it('keeps a zoned state against an unzoned observation that reads up to 14 hours later', () => {
    for (const later of [1, 10, 14]) {
      const item = stateAfter(observed(IN_PROGRESS, hour(0), ZONED), observed(DONE, hour(later), UNZONED));
      expect(item.status, `${later} h`).toEqual(IN_PROGRESS);
      expect(item.updatedAt).toBe(hour(0));
      expect(item.orderedBy).toEqual(ZONED);
    }
  });

  it('still learns from an unzoned observation it does not take: when work started', () => {
    const item = stateAfter(observed(DONE, hour(5), ZONED), observed(IN_PROGRESS, hour(8), UNZONED));
    expect(item.status).toEqual(DONE);
    expect(item.startedAt).toBe(hour(8));
  });

  it('takes an unzoned observation that reads more than 14 hours after the zoned state', () => {
    const item = stateAfter(observed(IN_PROGRESS, hour(0), ZONED), observed(DONE, hour(15), UNZONED));
    expect(item).toMatchObject({ status: DONE, updatedAt: hour(15), orderedBy: UNZONED });
  });

  it('takes a zoned observation over an unzoned state, even one it reads up to 14 hours earlier than', () => {
    for (const earlier of [0, 3, 14]) {
      const item = stateAfter(observed(IN_PROGRESS, hour(20), UNZONED), observed(IN_REVIEW, hour(20 - earlier), ZONED));
      expect(item.status, `${earlier} h`).toEqual(IN_REVIEW);
      expect(item.orderedBy).toEqual(ZONED);
    }
  });

  it('keeps an unzoned state against a zoned observation more than 14 hours older', () => {
    const item = stateAfter(observed(DONE, hour(20), UNZONED), observed(IN_PROGRESS, hour(5), ZONED));
    expect(item).toMatchObject({ status: DONE, updatedAt: hour(20), orderedBy: UNZONED });
  });

  it('compares two unzoned times as read: they come from the same clock', () => {
    expect(stateAfter(observed(IN_PROGRESS, hour(0), UNZONED), observed(DONE, hour(1), UNZONED)).status).toEqual(DONE);
    expect(stateAfter(observed(DONE, hour(1), UNZONED), observed(IN_PROGRESS, hour(0), UNZONED)).status).toEqual(DONE);
  });

  it('treats an observation that says nothing of its zone as zoned, as every tool did before', () => {
    const item = stateAfter(observed(DONE, hour(10), UNZONED), observed(IN_PROGRESS, hour(2)));
    expect(item.status).toEqual(IN_PROGRESS);
    expect(item.orderedBy).toBeUndefined();
  });

  it('records on the item which time ordered the observation it holds', () => {
    const first = stateAfter(observed(IN_PROGRESS, hour(0), { field: 'timestamp', zoned: true, skipped: ['fields.updated'] }));
    expect(first.orderedBy).toEqual({ field: 'timestamp', zoned: true, skipped: ['fields.updated'] });
    expect(applyChange(first, observed(DONE, hour(1), ZONED))?.orderedBy).toEqual(ZONED);
  });

  const history = [
    observed(IN_PROGRESS, hour(0), ZONED),
    observed(IN_REVIEW, hour(6), UNZONED),
    observed(IN_REVIEW, hour(9), ZONED),
    observed(IN_PROGRESS, hour(20), UNZONED),
    observed(IN_REVIEW, hour(30), ZONED),
    observed(DONE, hour(50), UNZONED),
  ];

  it.each(Array.from({ length: 20 }, (_, seed) => [seed + 1]))(
    'ends in the same state whatever order zoned and unzoned observations arrive in (seed %i)',
    (seed) => {
      const inOrder = stateAfter(...history);
      expect(inOrder).toMatchObject({ status: DONE, updatedAt: hour(50), orderedBy: UNZONED });
      expect(withoutVersion(stateAfter(...shuffled(history, seededRandom(seed))))).toEqual(withoutVersion(inOrder));
    },
  );
});
