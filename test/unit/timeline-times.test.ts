import { describe, expect, it } from 'vitest';
import { type EventEnvelope, eventsForChange } from '../../core/events.ts';
import { type EventLogPage, type TimelineEvent, timelineOf, toolTimeOf } from '../../core/item-context.ts';
import { applyChange } from '../../core/merge.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { Timeline } from '../../web/timeline.tsx';
import { at, indexedItem, upsert } from '../fixtures/work-items.ts';

/*
 * An item's timeline shows when each change happened in its tool where the event's data says it,
 * not when the hub processed it: a backfilled item was created days before the hub saw it.
 */

const HUB = '2024-02-01T12:00:00.000Z';
const DAY = 86_400_000;
let cursor = 0;

/** The events one processing of the change writes to the log, as the timeline reads them. */
const logged = (before: WorkItem | undefined, after: WorkItem, time: string): TimelineEvent[] =>
  eventsForChange(before, after, { tenantId: 't_1', causationKey: `c${cursor}`, time }).map((e: EventEnvelope) => ({
    id: e.id,
    type: e.type,
    time: e.time,
    subject: e.subject,
    data: e.data,
    cursor: String(++cursor).padStart(6, '0'),
  }));

/** Newest first, as the event log answers. */
const page = (...changes: TimelineEvent[][]): EventLogPage => ({ events: changes.flat().reverse(), nextCursor: null });

const entryOf = (timeline: ReturnType<typeof timelineOf>, type: string) => timeline.events.find((e) => e.type === type)!;

describe('the tool’s time of an event', () => {
  it('dates a backfilled item’s creation by its createdAt in the tool, not by when the hub saw it', () => {
    const created = indexedItem({ createdAt: at(0), updatedAt: at(0) });
    const timeline = timelineOf(page(logged(undefined, created, HUB)));
    expect(entryOf(timeline, 'work.item.created')).toMatchObject({ time: HUB, at: at(0) });
    // Links stated at creation carry no time of their own: when the hub recorded them.
    const withLink = indexedItem({ ref: 'github:octo/api#2', createdAt: at(0), updatedAt: at(0), links: [{ type: 'blocks', target: 'github:octo/api#3', origin: 'source_link', confidence: 1 }] });
    expect(entryOf(timelineOf(page(logged(undefined, withLink, HUB))), 'work.link.added')).toMatchObject({ time: HUB, at: HUB });
  });

  it('dates a close by the tool’s closedAt, the status change and the close event alike', () => {
    const open = indexedItem({ createdAt: at(0), updatedAt: at(0) });
    const closedAt = at(60 * 24 * 3);
    const closed = applyChange(open, upsert({ createdAt: at(0), updatedAt: closedAt, closedAt, status: { name: 'closed', category: 'done' } }))!;
    const timeline = timelineOf(page(logged(undefined, open, '2024-01-01T00:00:05.000Z'), logged(open, closed, HUB)));
    for (const type of ['work.item.updated', 'work.item.status_changed', 'work.item.closed']) {
      expect(entryOf(timeline, type), type).toMatchObject({ time: HUB, at: closedAt });
    }
    expect(entryOf(timeline, 'work.item.created')).toMatchObject({ at: at(0) });
  });

  it('leaves status changes that are no close, and assignments, at the hub’s time: their events do not say when', () => {
    const open = indexedItem({ createdAt: at(0), updatedAt: at(0) });
    const started = applyChange(open, upsert({ createdAt: at(0), updatedAt: at(90), status: { name: 'In Progress', category: 'in_progress' } }))!;
    const timeline = timelineOf(page(logged(open, started, HUB)));
    expect(entryOf(timeline, 'work.item.status_changed')).toMatchObject({ at: HUB });
    expect(entryOf(timeline, 'work.item.updated')).toMatchObject({ at: HUB });
  });

  it('does not lend a close time to another change of the same item', () => {
    const open = indexedItem({ createdAt: at(0), updatedAt: at(0) });
    const closed = applyChange(open, upsert({ createdAt: at(0), updatedAt: at(10), closedAt: at(10), status: { name: 'closed', category: 'done' } }))!;
    const reopened = applyChange(closed, upsert({ createdAt: at(0), updatedAt: at(20), status: { name: 'open', category: 'todo' } }))!;
    const timeline = timelineOf(page(logged(open, closed, '2024-01-20T00:00:00.000Z'), logged(closed, reopened, HUB)));
    expect(entryOf(timeline, 'work.item.reopened')).toMatchObject({ at: HUB });
    expect(entryOf(timeline, 'work.item.closed')).toMatchObject({ at: at(10) });
  });

  it('dates a deletion by its tombstone, and commits and branches by the latest time GitHub reported', () => {
    expect(toolTimeOf({ id: 'e', type: 'work.item.deleted', time: HUB, subject: 's', cursor: '1', data: { tombstone: { at: at(5), reason: 'deleted' } } })).toBe(at(5));
    const development: TimelineEvent = {
      id: 'e',
      type: 'work.item.development_changed',
      time: HUB,
      subject: 's',
      cursor: '1',
      data: { commitsAdded: [{ at: at(3) }, { at: at(7) }], branchesAdded: [{ at: at(6) }], branchesRemoved: [] },
    };
    expect(toolTimeOf(development)).toBe(at(7));
  });

  it('never dates a change after the hub recorded it, and reads data of another shape as saying nothing', () => {
    const created = indexedItem({ createdAt: '2024-03-01T00:00:00.000Z', updatedAt: '2024-03-01T00:00:00.000Z' });
    expect(entryOf(timelineOf(page(logged(undefined, created, HUB))), 'work.item.created').at).toBe(HUB);
    for (const data of [{}, { item: 'text' }, { item: { createdAt: 'yesterday' } }, { item: { createdAt: 42 } }]) {
      const event: TimelineEvent = { id: 'e', type: 'work.item.created', time: HUB, subject: 's', cursor: '1', data };
      expect(toolTimeOf(event), JSON.stringify(data)).toBeUndefined();
      expect(timelineOf({ events: [event], nextCursor: 'n' })).toEqual({ events: [{ ...event, at: HUB }], nextCursor: 'n' });
    }
  });

  it('keeps the log’s order, whatever the tools’ times say', () => {
    const first = indexedItem({ createdAt: at(100), updatedAt: at(100) });
    const second = indexedItem({ ref: 'github:octo/api#9', createdAt: at(0), updatedAt: at(0) });
    const events = [...logged(undefined, second, '2024-01-10T00:00:00.000Z'), ...logged(undefined, first, '2024-01-05T00:00:00.000Z')];
    expect(timelineOf({ events, nextCursor: null }).events.map((e) => e.cursor)).toEqual(events.map((e) => e.cursor));
  });
});

describe('the timeline on the item page', () => {
  const now = new Date(HUB);

  it('reads "Created as To Do · 7 days ago" for an item created a week before the hub saw it, the hub’s time on hover', () => {
    const created = indexedItem({ createdAt: new Date(now.getTime() - 7 * DAY).toISOString(), updatedAt: new Date(now.getTime() - 7 * DAY).toISOString(), status: { name: 'To Do', category: 'todo' } });
    const html = String(Timeline({ events: timelineOf(page(logged(undefined, created, HUB))).events, now }));
    expect(html).toContain(`<time datetime="${created.createdAt}" title="25 Jan 2024, 12:00 UTC, recorded by the hub 1 Feb 2024, 12:00 UTC">7 days ago</time> · Created as To Do`);
  });

  it('says an item first seen after it changed was created then, with the status it was first seen in', () => {
    const seen = indexedItem({ createdAt: new Date(now.getTime() - 7 * DAY).toISOString(), updatedAt: new Date(now.getTime() - DAY).toISOString(), status: { name: 'In Progress', category: 'in_progress' } });
    const html = String(Timeline({ events: timelineOf(page(logged(undefined, seen, HUB))).events, now }));
    expect(html).toContain('7 days ago</time> · Created (first seen as In Progress)');
  });

  it('shows what a push brought, and the hub’s time alone when it is the only one', () => {
    const development: TimelineEvent = {
      id: 'e',
      type: 'work.item.development_changed',
      time: HUB,
      subject: 's',
      cursor: '1',
      data: { commitsAdded: [{ at: at(3) }, { at: at(7) }], branchesAdded: [{ at: at(6) }], branchesRemoved: [] },
    };
    const status: TimelineEvent = { id: 'f', type: 'work.item.reopened', time: HUB, subject: 's', cursor: '2', data: {} };
    const html = String(Timeline({ events: timelineOf({ events: [development, status], nextCursor: null }).events, now }));
    expect(html).toContain('Development: 2 commits pushed, 1 branch named after it');
    expect(html).toContain(`<time datetime="${HUB}" title="1 Feb 2024, 12:00 UTC">just now</time> · Reopened`);
  });
});
