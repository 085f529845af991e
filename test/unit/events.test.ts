import { describe, expect, it } from 'vitest';
import type { ItemChange } from '../../core/changes.ts';
import { EVENT_SCHEMA_VERSION, EventData, EventEnvelope, type EventContext, type EventType, eventsForChange } from '../../core/events.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { applyChange } from '../../core/merge.ts';
import { type Status, WorkItem } from '../../core/work-item.ts';
import { applyAll, at, githubPerson, githubUpsert, indexedItem, link, seededRandom, upsert } from '../fixtures/work-items.ts';

const REF = 'github:octo/api#1';
const CONTEXT: EventContext = { tenantId: 'ten_acme', causationKey: 'github:delivery-1:0', time: '2024-01-01T12:00:00.000Z' };
const TODO: Status = { name: 'open', category: 'todo' };
const IN_PROGRESS: Status = { name: 'In Progress', category: 'in_progress' };
const DONE: Status = { name: 'closed', category: 'done' };
const CANCELLED: Status = { name: 'closed', category: 'cancelled' };

const octocat = githubPerson('octocat', 1);
const hubot = githubPerson('hubot', 2);
const monalisa = githubPerson('monalisa', 3);

/** Applies a change that must change something. */
const applied = (current: WorkItem | undefined, change: ItemChange): WorkItem => {
  const next = applyChange(current, change);
  if (!next) throw new Error(`expected ${change.op} to change the item`);
  return next;
};

/** The events of one applied change, as the processor would compute them. */
const eventsOf = (before: WorkItem | undefined, change: ItemChange, context: EventContext = CONTEXT) =>
  eventsForChange(before, applied(before, change), context);

const typesOf = (events: readonly EventEnvelope[]): EventType[] => events.map((event) => event.type);

/** The data of the single event of a type. */
const dataOf = <T extends EventType>(events: readonly EventEnvelope[], type: T) => {
  const matching = events.filter((event) => event.type === type);
  expect(matching).toHaveLength(1);
  return EventData[type].parse(matching[0]!.data) as ReturnType<(typeof EventData)[T]['parse']>;
};

/** Every envelope is valid, and so is its data for its type, also after a JSON round trip (EventBridge `detail`). */
const expectValid = (events: readonly EventEnvelope[]): void => {
  for (const event of events) {
    expect(EventEnvelope.parse(event)).toEqual(event);
    expect(() => EventData[event.type].parse(event.data)).not.toThrow();
    const wire = JSON.parse(JSON.stringify(event));
    expect(EventEnvelope.parse(wire)).toEqual(wire);
    expect(() => EventData[event.type as EventType].parse(wire.data)).not.toThrow();
  }
};

describe('eventsForChange: a new item', () => {
  it('announces a real pull request as created, with its whole state', () => {
    const after = applied(undefined, githubUpsert('pull_request', 'opened'));
    const events = eventsForChange(undefined, after, CONTEXT);
    expect(typesOf(events)).toEqual(['work.item.created']);
    expect(dataOf(events, 'work.item.created').item).toEqual(WorkItem.parse(after));
    expectValid(events);
  });

  it('adds one work.link.added per link of the new item, after work.item.created', () => {
    const change = githubUpsert('pull_request', 'opened', (payload) => {
      payload.pull_request.body = 'Fixes #1. Blocked by octo-org/octo-repo#7.';
    });
    const after = applied(undefined, change);
    const events = eventsForChange(undefined, after, CONTEXT);
    expect(typesOf(events)).toEqual(['work.item.created', 'work.link.added', 'work.link.added']);
    const links = events.slice(1).map((event) => EventData['work.link.added'].parse(event.data));
    expect(links.map((data) => data.link)).toEqual(after.links);
    expect(links.map((data) => data.targetId)).toEqual(after.links.map((l) => itemIdForRef(l.target)));
    expect(links.map((data) => data.link.target).sort()).toEqual(['github:codertocat/hello-world#1', 'github:octo-org/octo-repo#7']);
    expectValid(events);
  });

  it('fills the envelope from the context and the item', () => {
    const after = applied(undefined, githubUpsert('issues', 'opened'));
    for (const event of eventsForChange(undefined, after, CONTEXT)) {
      expect(event).toMatchObject({
        tenantId: 'ten_acme',
        time: CONTEXT.time,
        subject: 'github:codertocat/hello-world#1',
        schemaVersion: EVENT_SCHEMA_VERSION,
      });
    }
  });
});

describe('eventsForChange: status', () => {
  it('reports a status change as updated and status_changed', () => {
    const before = indexedItem({ status: TODO, updatedAt: at(1) });
    const events = eventsOf(before, upsert({ status: IN_PROGRESS, updatedAt: at(2) }));
    expect(typesOf(events)).toEqual(['work.item.updated', 'work.item.status_changed']);
    expect(dataOf(events, 'work.item.status_changed')).toMatchObject({ from: TODO, to: IN_PROGRESS });
    expect(dataOf(events, 'work.item.updated').changes).toEqual({ status: { before: TODO, after: IN_PROGRESS } });
    expectValid(events);
  });

  it('adds work.item.closed when a real pull request is closed', () => {
    const before = applied(applied(undefined, githubUpsert('pull_request', 'opened')), githubUpsert('pull_request', 'assigned'));
    const events = eventsOf(before, githubUpsert('pull_request', 'closed'));
    expect(typesOf(events)).toEqual(['work.item.updated', 'work.item.status_changed', 'work.item.closed']);
    expect(dataOf(events, 'work.item.closed').resolution).toEqual({ name: 'closed', category: 'cancelled' });
    expect(Object.keys(dataOf(events, 'work.item.updated').changes)).toEqual(['status', 'closedAt']);
    expect(dataOf(events, 'work.item.updated').changes.closedAt).toEqual({ before: null, after: '2019-05-15T15:21:18.000Z' });
    expectValid(events);
  });

  it('adds work.item.reopened when closed work opens again', () => {
    const before = applyAll([upsert({ status: DONE, updatedAt: at(1), closedAt: at(1) })])!;
    const events = eventsOf(before, upsert({ status: TODO, updatedAt: at(2) }));
    expect(typesOf(events)).toEqual(['work.item.updated', 'work.item.status_changed', 'work.item.reopened']);
    expect(dataOf(events, 'work.item.reopened').from).toEqual(DONE);
    expect(dataOf(events, 'work.item.updated').changes.closedAt).toEqual({ before: at(1), after: null });
    expectValid(events);
  });

  it('neither closes nor reopens when done work becomes cancelled', () => {
    const before = indexedItem({ status: DONE, updatedAt: at(1), closedAt: at(1) });
    const events = eventsOf(before, upsert({ status: CANCELLED, updatedAt: at(2), closedAt: at(1) }));
    expect(typesOf(events)).toEqual(['work.item.updated', 'work.item.status_changed']);
  });

  it('reports a renamed status of the same category as a status change', () => {
    const before = indexedItem({ status: IN_PROGRESS, updatedAt: at(1) });
    const events = eventsOf(before, upsert({ status: { name: 'Doing', category: 'in_progress' }, updatedAt: at(2) }));
    expect(typesOf(events)).toEqual(['work.item.updated', 'work.item.status_changed']);
  });
});

describe('eventsForChange: owners', () => {
  it('reports a real assignment as assigned with the added owner', () => {
    const before = applied(undefined, githubUpsert('pull_request', 'opened'));
    const events = eventsOf(before, githubUpsert('pull_request', 'assigned'));
    expect(typesOf(events)).toEqual(['work.item.updated', 'work.item.assigned']);
    const assigned = dataOf(events, 'work.item.assigned');
    expect(assigned.added.map((p) => p.handles[0]?.handle)).toEqual(['Codertocat']);
    expect(assigned.removed).toEqual([]);
    expect(assigned.owners).toEqual(assigned.added);
    expectValid(events);
  });

  it('lists who was added and who was removed', () => {
    const before = indexedItem({ owners: [octocat, hubot], updatedAt: at(1) });
    const events = eventsOf(before, upsert({ owners: [hubot, monalisa], updatedAt: at(2) }));
    const assigned = dataOf(events, 'work.item.assigned');
    expect(assigned).toEqual({ item: expect.anything(), owners: [hubot, monalisa], added: [monalisa], removed: [octocat] });
  });

  it('reports unassigning everyone with an empty owner list', () => {
    const before = indexedItem({ owners: [octocat], updatedAt: at(1) });
    const assigned = dataOf(eventsOf(before, upsert({ owners: [], updatedAt: at(2) })), 'work.item.assigned');
    expect(assigned).toMatchObject({ owners: [], added: [], removed: [octocat] });
  });

  it('does not report an assignment when an owner only changed their login', () => {
    const before = indexedItem({ owners: [octocat], updatedAt: at(1) });
    const renamed = { ...octocat, handles: [{ ...octocat.handles[0]!, handle: 'octo-cat' }] };
    const events = eventsOf(before, upsert({ owners: [renamed], updatedAt: at(2) }));
    expect(typesOf(events)).toEqual(['work.item.updated']);
  });
});

describe('eventsForChange: links', () => {
  const blocker = link('blocked_by', 'github:octo/api#9', 'key_mention', 0.9);
  const ticket = link('implements', 'jira:acme.atlassian.net/ACME-7', 'closing_keyword', 1);
  const related = link('relates', 'github:octo/web#2', 'manual', 1);

  it('reports added and removed links, and no work.item.updated for links alone', () => {
    const before = indexedItem({ links: [blocker], updatedAt: at(1) });
    const events = eventsOf(before, { op: 'link', ref: REF, at: at(2), add: [ticket, related], remove: [{ type: 'blocked_by', target: blocker.target }] });
    expect(typesOf(events)).toEqual(['work.link.added', 'work.link.added', 'work.link.removed']);
    const [first, second, removed] = events.map((event) => event.data as { link: unknown; targetId: string });
    expect([first!.link, second!.link]).toEqual([ticket, related]);
    expect(removed).toMatchObject({ link: blocker, targetId: itemIdForRef(blocker.target) });
    expectValid(events);
  });

  it('reports links an upsert dropped from the text as removed', () => {
    const before = indexedItem({ links: [blocker, ticket], updatedAt: at(1) });
    const events = eventsOf(before, upsert({ links: [ticket], updatedAt: at(2) }));
    expect(typesOf(events)).toEqual(['work.link.removed']);
    expect(events[0]!.data).toMatchObject({ link: blocker });
  });

  it('does not report a link whose origin or confidence changed as added or removed', () => {
    const before = indexedItem({ links: [link('implements', ticket.target, 'key_mention', 0.8)], updatedAt: at(1) });
    const events = eventsOf(before, upsert({ links: [ticket], updatedAt: at(1) }));
    expect(events).toEqual([]);
  });

  it('tells links of the same target with different types apart', () => {
    const before = indexedItem({ links: [link('relates', ticket.target, 'manual')], updatedAt: at(1) });
    const events = eventsOf(before, { op: 'link', ref: REF, at: at(2), add: [link('blocks', ticket.target)], remove: [] });
    expect(typesOf(events)).toEqual(['work.link.added']);
  });
});

describe('eventsForChange: deletion and restore', () => {
  it('reports a delete as updated and deleted, with the tombstone', () => {
    const before = indexedItem({ updatedAt: at(1) });
    const events = eventsOf(before, { op: 'delete', ref: REF, at: at(2), reason: 'transferred', movedTo: 'github:octo/web#3' });
    expect(typesOf(events)).toEqual(['work.item.updated', 'work.item.deleted']);
    expect(dataOf(events, 'work.item.deleted').tombstone).toEqual({ at: at(2), reason: 'transferred', movedTo: 'github:octo/web#3' });
    expectValid(events);
  });

  it('reports a restored item as updated, its tombstone gone', () => {
    const deleted = applied(indexedItem({ updatedAt: at(1) }), { op: 'delete', ref: REF, at: at(2), reason: 'access_lost' });
    const events = eventsOf(deleted, upsert({ updatedAt: at(3) }));
    expect(typesOf(events)).toEqual(['work.item.updated']);
    expect(dataOf(events, 'work.item.updated').changes.deleted).toEqual({ before: { at: at(2), reason: 'access_lost' }, after: null });
  });
});

describe('eventsForChange: nothing to say', () => {
  it('gives no events when only activity changed', () => {
    const before = indexedItem({ updatedAt: at(1) });
    expect(eventsOf(before, { op: 'activity', ref: REF, at: at(5) })).toEqual([]);
  });

  it('gives no events when only updatedAt moved (a real comment on an unchanged issue)', () => {
    const before = applied(undefined, githubUpsert('issues', 'opened'));
    expect(eventsOf(before, githubUpsert('issue_comment', 'created'))).toEqual([]);
  });

  it('gives no events for the same state', () => {
    const item = indexedItem();
    expect(eventsForChange(item, item, CONTEXT)).toEqual([]);
  });
});

describe('eventsForChange: work.item.updated', () => {
  it('reports each changed field with before and after, null for an absent value, in catalog order', () => {
    const before = indexedItem({ title: 'Old', labels: ['bug'], dueAt: at(100), updatedAt: at(1) });
    const after = { ...applied(before, upsert({ title: 'New', labels: ['bug', 'ops'], priority: { level: 'high' }, updatedAt: at(2) })), team: 'payments' };
    const changes = dataOf(eventsForChange(before, after, CONTEXT), 'work.item.updated').changes;
    expect(Object.keys(changes)).toEqual(['title', 'category', 'priority', 'team', 'labels', 'dueAt']);
    expect(changes).toMatchObject({
      title: { before: 'Old', after: 'New' },
      category: { before: 'project', after: 'operational' },
      priority: { before: { level: 'none' }, after: { level: 'high' } },
      team: { before: null, after: 'payments' },
      labels: { before: ['bug'], after: ['bug', 'ops'] },
      dueAt: { before: at(100), after: null },
    });
  });

  it('reports the milestone due date a real issues.unlabeled payload no longer carries', () => {
    const before = applied(undefined, githubUpsert('issues', 'opened'));
    const events = eventsOf(before, githubUpsert('issues', 'unlabeled'));
    expect(typesOf(events)).toEqual(['work.item.updated']);
    expect(dataOf(events, 'work.item.updated').changes).toEqual({ dueAt: { before: '2019-05-23T07:00:00.000Z', after: null } });
  });

  it('summarizes the item as it is after the change', () => {
    const before = indexedItem({ updatedAt: at(1) });
    const after = applied(before, upsert({ title: 'New', updatedAt: at(2) }));
    const { item } = dataOf(eventsForChange(before, after, CONTEXT), 'work.item.updated');
    expect(item).toEqual({
      id: after.id,
      ref: after.ref,
      source: 'github',
      kind: 'issue',
      category: 'project',
      title: 'New',
      url: after.url,
      status: after.status,
      priority: after.priority,
      container: after.container,
      version: 2,
    });
  });

  it('orders the events of one change: updated, status, closed, assigned, links, deleted', () => {
    const before = indexedItem({ owners: [octocat], links: [link('relates', 'github:octo/api#2', 'manual')], updatedAt: at(1) });
    const after = {
      ...applied(before, upsert({ status: DONE, closedAt: at(2), owners: [hubot], links: [link('blocks', 'github:octo/api#3', 'key_mention', 0.9)], updatedAt: at(2) }, { linkOrigins: ['key_mention', 'manual'] })),
      deleted: { at: at(2), reason: 'deleted' as const },
    };
    expect(typesOf(eventsForChange(before, after, CONTEXT))).toEqual([
      'work.item.updated',
      'work.item.status_changed',
      'work.item.closed',
      'work.item.assigned',
      'work.link.added',
      'work.link.removed',
      'work.item.deleted',
    ]);
  });
});

describe('eventsForChange: event ids', () => {
  const before = indexedItem({ owners: [octocat], updatedAt: at(1) });
  const after = applied(before, upsert({ status: DONE, closedAt: at(2), owners: [hubot], updatedAt: at(2) }));

  it('gives the same ids when the same change is computed again (a resumed delivery)', () => {
    const first = eventsForChange(before, after, CONTEXT);
    const again = eventsForChange(structuredClone(before), structuredClone(after), { ...CONTEXT });
    expect(again).toEqual(first);
    expect(again.map((event) => event.id)).toEqual(first.map((event) => event.id));
  });

  it('gives other ids for another causation key', () => {
    const first = eventsForChange(before, after, CONTEXT).map((event) => event.id);
    const other = eventsForChange(before, after, { ...CONTEXT, causationKey: 'github:delivery-2:0' }).map((event) => event.id);
    expect(other.filter((id) => first.includes(id))).toEqual([]);
  });

  it('gives every event of one change its own prefixed id', () => {
    const ids = eventsForChange(before, after, CONTEXT).map((event) => event.id);
    expect(ids.length).toBeGreaterThan(3);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^evt_[a-z2-7]{24}$/);
  });

  it('does not depend on the time or the tenant in the context', () => {
    const first = eventsForChange(before, after, CONTEXT).map((event) => event.id);
    const later = eventsForChange(before, after, { ...CONTEXT, time: '2030-01-01T00:00:00.000Z' }).map((event) => event.id);
    expect(later).toEqual(first);
  });
});

describe('eventsForChange: every event is valid against the catalog', () => {
  const realHistory = (): ItemChange[] => [
    githubUpsert('pull_request', 'opened'),
    githubUpsert('pull_request', 'assigned'),
    githubUpsert('pull_request', 'labeled'),
    githubUpsert('pull_request_review', 'submitted'),
    githubUpsert('pull_request', 'closed'),
    githubUpsert('pull_request', 'reopened', (payload) => {
      payload.pull_request.updated_at = '2019-05-15T15:30:00Z';
      payload.pull_request.body = 'Closes #1, blocked by ACME-12';
    }),
    { op: 'link', ref: 'github:codertocat/hello-world#2', at: '2019-05-15T15:31:00.000Z', add: [link('relates', 'github:octo/web#5', 'manual')], remove: [] },
    { op: 'delete', ref: 'github:codertocat/hello-world#2', at: '2019-05-15T15:40:00.000Z', reason: 'deleted' },
  ];

  it('passes EventEnvelope and the data schema of its type through a real pull request history', () => {
    let current: WorkItem | undefined;
    const seen = new Set<EventType>();
    realHistory().forEach((change, index) => {
      const next = applyChange(current, change);
      if (!next) return;
      const events = eventsForChange(current, next, { ...CONTEXT, causationKey: `delivery-${index}:0` });
      expectValid(events);
      for (const event of events) seen.add(event.type);
      current = next;
    });
    expect([...seen].sort()).toEqual(
      [
        'work.item.assigned',
        'work.item.closed',
        'work.item.created',
        'work.item.deleted',
        'work.item.reopened',
        'work.item.status_changed',
        'work.item.updated',
        'work.link.added',
      ].sort(),
    );
  });

  it('passes the schemas for random histories (seeded)', () => {
    const statuses: Status[] = [TODO, IN_PROGRESS, DONE, CANCELLED, { name: 'blocked', category: 'blocked' }];
    const people = [octocat, hubot, monalisa];
    const links = [
      link('blocks', 'github:octo/api#3', 'key_mention', 0.9),
      link('implements', 'jira:acme.atlassian.net/ACME-7', 'closing_keyword', 1),
      link('relates', 'github:octo/web#1', 'key_mention', 0.5),
    ];
    for (let seed = 1; seed <= 20; seed += 1) {
      const random = seededRandom(seed);
      const some = <T>(values: readonly T[]): T[] => values.filter(() => random() < 0.5);
      let current: WorkItem | undefined;
      for (let step = 0; step < 15; step += 1) {
        const status = statuses[Math.floor(random() * statuses.length)]!;
        const change: ItemChange =
          random() < 0.1
            ? { op: 'delete', ref: REF, at: at(step), reason: 'deleted' }
            : upsert({ status, owners: some(people), labels: some(['ops', 'question', 'docs']), links: some(links), updatedAt: at(step) });
        const next = applyChange(current, change);
        if (!next) continue;
        expectValid(eventsForChange(current, next, { ...CONTEXT, causationKey: `seed-${seed}:${step}` }));
        current = next;
      }
    }
  });
});
