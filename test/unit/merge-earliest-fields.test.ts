import { describe, expect, it } from 'vitest';
import { UpsertChange } from '../../core/changes.ts';
import { applyChange } from '../../core/merge.ts';
import { at, indexedItem, link, observedItem } from '../fixtures/work-items.ts';

/** An observation of one part of an item (an email thread's message), authoritative for no link origin. */
const part = (minutes: number, overrides: Parameters<typeof observedItem>[0] = {}) =>
  UpsertChange.parse({
    op: 'upsert',
    item: observedItem({ createdAt: at(minutes), updatedAt: at(minutes), ...overrides }),
    linkOrigins: [],
    earliestFields: ['title', 'team'],
  });

describe('applyChange: earliestFields and partial observations', () => {
  it('takes the declared fields and createdAt from the earliest observation, the rest from the latest', () => {
    const first = part(0, { title: 'Original question', team: 'platform', status: { name: 'new', category: 'todo' } });
    const reply = part(10, { title: 'Re-titled in a reply', team: 'other', status: { name: 'answered', category: 'in_progress' } });
    for (const order of [
      [first, reply],
      [reply, first],
    ]) {
      const item = order.reduce((current, change) => applyChange(current, change) ?? current, undefined as ReturnType<typeof applyChange>);
      expect(item).toMatchObject({
        title: 'Original question',
        team: 'platform',
        createdAt: at(0),
        updatedAt: at(10),
        status: { name: 'answered', category: 'in_progress' },
      });
    }
  });

  it('adds the links of an older observation that is authoritative for none', () => {
    const current = applyChange(undefined, part(10, { links: [link('relates', 'jira:ACME-2', 'key_mention', 0.8)] }))!;
    const older = applyChange(current, part(0, { links: [link('relates', 'jira:ACME-1', 'key_mention', 0.8)] }))!;
    expect(older.links.map((l) => l.target)).toEqual(['jira:ACME-1', 'jira:ACME-2']);
    expect(older.updatedAt).toBe(at(10));
  });

  it('sets the team a tool observes and keeps the indexed one when an observation has none', () => {
    const withTeam = applyChange(undefined, UpsertChange.parse({ op: 'upsert', item: observedItem({ team: 'payments' }), linkOrigins: [] }))!;
    expect(withTeam.team).toBe('payments');
    const later = applyChange(withTeam, UpsertChange.parse({ op: 'upsert', item: observedItem({ updatedAt: at(5) }), linkOrigins: [] }))!;
    expect(later.team).toBe('payments');
  });

  it('leaves observations without earliestFields as they were: the latest wins whole', () => {
    const item = indexedItem({ title: 'first', createdAt: at(0) });
    const next = applyChange(item, UpsertChange.parse({ op: 'upsert', item: observedItem({ title: 'second', createdAt: at(3), updatedAt: at(3) }), linkOrigins: [] }))!;
    expect(next).toMatchObject({ title: 'second', createdAt: at(3) });
  });
});
