import { describe, expect, it } from 'vitest';
import type { ItemChange, UpsertChange } from '../../core/changes.ts';
import { applyChange } from '../../core/merge.ts';
import type { Link, OrderedBy, Status, WorkItem } from '../../core/work-item.ts';
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

/*
 * Deletions and link statements follow the same rule as observations: one order of ordering times
 * (core/merge.ts `compareOrderingTimes`) decides every comparison, whatever kind of change it is.
 */
describe('applyChange: deletions and link statements written without a zone', () => {
  const REF = 'jira:acme.atlassian.net/ACME-1';
  const B = 'jira:acme.atlassian.net/ACME-2';
  const JIRA_ORIGINS: UpsertChange['linkOrigins'] = ['source_link', 'closing_keyword', 'key_mention'];
  const blocksB: Link = { type: 'blocks', target: B, origin: 'source_link', confidence: 1 };
  const TIMESTAMP_UNZONED: OrderedBy = { field: 'timestamp', zoned: false };
  const TIMESTAMP_ZONED: OrderedBy = { field: 'timestamp', zoned: true };

  const issue = (status: Status, updatedAt: string, orderedBy: OrderedBy, links: Link[] = []): UpsertChange => ({
    ...upsert({ ref: REF, source: 'jira', kind: 'task', status, updatedAt, links }, { linkOrigins: JIRA_ORIGINS }),
    orderedBy,
  });
  const deletion = (at: string, orderedBy: OrderedBy): ItemChange => ({ op: 'delete', ref: REF, at, reason: 'deleted', orderedBy });
  const linkChange = (at: string, orderedBy: OrderedBy, change: { add?: Link[]; remove?: Link[] }, reflectedInItem = true): ItemChange => ({
    op: 'link',
    ref: REF,
    at,
    add: change.add ?? [],
    remove: (change.remove ?? []).map(({ type, target }) => ({ type, target })),
    ...(reflectedInItem ? { reflectedInItem } : {}),
    orderedBy,
  });
  const after = (changes: ItemChange[]): WorkItem => {
    const item = applyAll(changes);
    if (!item) throw new Error('expected an item');
    return item;
  };

  it('does not delete an item over a zoned update that an unzoned deletion reads up to 14 hours later than', () => {
    for (const later of [1, 5, 14]) {
      const updated = after([issue(IN_PROGRESS, hour(0), ZONED), issue(DONE, hour(10), ZONED)]);
      expect(applyChange(updated, deletion(hour(10 + later), TIMESTAMP_UNZONED)), `${later} h`).toBeUndefined();
    }
  });

  it('still deletes on an unzoned deletion that reads more than 14 hours after the zoned update', () => {
    const updated = after([issue(IN_PROGRESS, hour(0), ZONED), issue(DONE, hour(10), ZONED)]);
    expect(applyChange(updated, deletion(hour(25), TIMESTAMP_UNZONED))?.deleted).toEqual({ at: hour(25), reason: 'deleted', zoned: false });
  });

  it('does not drop a zoned update that arrives after an unzoned deletion reading up to 14 hours later', () => {
    const deleted = after([issue(IN_PROGRESS, hour(0), ZONED), deletion(hour(20), TIMESTAMP_UNZONED)]);
    expect(deleted.deleted).toEqual({ at: hour(20), reason: 'deleted', zoned: false });
    const revived = applyChange(deleted, issue(DONE, hour(10), ZONED));
    expect(revived).toMatchObject({ status: DONE, updatedAt: hour(10) });
    expect(revived?.deleted).toBeUndefined();
  });

  it('ends an unzoned deletion and a zoned update in the same state in either order', () => {
    const start = issue(IN_PROGRESS, hour(0), ZONED);
    const update = issue(DONE, hour(10), ZONED);
    const removal = deletion(hour(15), TIMESTAMP_UNZONED);
    const updateFirst = after([start, update, removal]);
    const deletionFirst = after([start, removal, update]);
    expect(updateFirst.deleted).toBeUndefined();
    expect(withoutVersion(deletionFirst)).toEqual(withoutVersion(updateFirst));
  });

  it('compares a zoned deletion with an unzoned state the same way: the zoned one is the newer', () => {
    const unzoned = after([issue(DONE, hour(20), UNZONED)]);
    expect(applyChange(unzoned, deletion(hour(10), TIMESTAMP_ZONED))?.deleted).toEqual({ at: hour(10), reason: 'deleted' });
  });

  it('ignores an unzoned link event the zoned observation of the item already reflects', () => {
    const item = after([issue(IN_PROGRESS, hour(10), ZONED)]);
    expect(applyChange(item, linkChange(hour(12), TIMESTAMP_UNZONED, { add: [blocksB] }))).toBeUndefined();
    expect(applyChange(item, linkChange(hour(25), TIMESTAMP_UNZONED, { add: [blocksB] }))?.links).toEqual([blocksB]);
  });

  it('does not replay on a zoned observation an unzoned link statement it reads up to 14 hours earlier than', () => {
    const start = issue(IN_PROGRESS, hour(0), ZONED);
    const added = linkChange(hour(15), TIMESTAMP_UNZONED, { add: [blocksB] });
    const observed = issue(IN_REVIEW, hour(10), ZONED);
    const linkFirst = after([start, added, observed]);
    const observationFirst = after([start, observed, added]);
    expect(linkFirst.links).toEqual([]);
    expect(withoutVersion(linkFirst)).toEqual(withoutVersion(observationFirst));
  });

  it('lets a zoned removal outrank an unzoned addition it reads up to 14 hours earlier than, in either order', () => {
    const start = issue(IN_PROGRESS, hour(0), ZONED);
    const removed = linkChange(hour(10), TIMESTAMP_ZONED, { remove: [blocksB] }, false);
    const added = linkChange(hour(12), TIMESTAMP_UNZONED, { add: [blocksB] }, false);
    const removalFirst = after([start, removed, added]);
    const additionFirst = after([start, added, removed]);
    expect(removalFirst.links).toEqual([]);
    expect(withoutVersion(additionFirst)).toEqual(withoutVersion(removalFirst));
  });

  const history: ItemChange[] = [
    issue(IN_PROGRESS, hour(0), ZONED),
    linkChange(hour(3), TIMESTAMP_UNZONED, { add: [blocksB] }),
    issue(IN_REVIEW, hour(6), UNZONED, [blocksB]),
    linkChange(hour(9), TIMESTAMP_ZONED, { remove: [blocksB] }),
    issue(IN_REVIEW, hour(12), ZONED),
    deletion(hour(20), TIMESTAMP_UNZONED),
    linkChange(hour(22), TIMESTAMP_UNZONED, { add: [blocksB] }),
    issue(DONE, hour(30), ZONED, [blocksB]),
    deletion(hour(40), TIMESTAMP_UNZONED),
  ];

  it.each(Array.from({ length: 20 }, (_, seed) => [seed + 1]))(
    'ends observations, link events and deletions with and without zones in the same state in any order (seed %i)',
    (seed) => {
      const inOrder = after(history);
      expect(withoutVersion(after(shuffled(history, seededRandom(seed))))).toEqual(withoutVersion(inOrder));
    },
  );
});
