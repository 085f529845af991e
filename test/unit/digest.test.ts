import { describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts.ts';
import { DIGEST_LISTED, Digest, buildDigest, digestEventId, isoWeekOf, previousIsoWeek } from '../../core/digest.ts';
import { githubPerson, indexedItem } from '../fixtures/work-items.ts';

const NOW = new Date('2024-03-15T12:00:00.000Z');
const SINCE = new Date('2024-03-08T12:00:00.000Z');
const dana = githubPerson('dana', 7, { name: 'Dana' });

const alert = (overrides: Partial<Alert>): Alert => ({
  id: 'alr_1',
  kind: 'blocker_stale',
  state: 'open',
  severity: 'warning',
  subject: { id: 'wi_a', ref: 'jira:acme.atlassian.net/ACME-1', title: 'Batch the tax calls' },
  related: [],
  message: 'ACME-1 has had no activity for 6 days while octo/api#40 waits on it',
  openedAt: '2024-03-10T09:00:00.000Z',
  occurrence: 1,
  ...overrides,
});

describe('the status digest', () => {
  const closedInWindow = indexedItem({
    ref: 'github:octo/api#1',
    owners: [dana],
    team: 'web',
    createdAt: '2024-03-01T00:00:00Z',
    updatedAt: '2024-03-12T00:00:00Z',
    status: { name: 'closed', category: 'done' },
    closedAt: '2024-03-12T00:00:00Z',
  });
  const closedBefore = indexedItem({
    ref: 'github:octo/api#2',
    team: 'web',
    createdAt: '2024-02-01T00:00:00Z',
    updatedAt: '2024-03-01T00:00:00Z',
    status: { name: 'closed', category: 'done' },
    closedAt: '2024-03-01T00:00:00Z',
  });
  const startedInWindow = indexedItem({
    ref: 'jira:acme.atlassian.net/ACME-7',
    source: 'jira',
    kind: 'story',
    team: 'payments',
    createdAt: '2024-03-01T00:00:00Z',
    updatedAt: '2024-03-11T00:00:00Z',
    status: { name: 'In Progress', category: 'in_progress' },
  });

  it('lists what closed, started, became blocked and was unblocked in the window, with owners and counts', () => {
    const digest = buildDigest({
      since: SINCE,
      until: NOW,
      items: [closedInWindow, closedBefore, startedInWindow],
      blocked: [
        { item: startedInWindow, since: '2024-03-14T00:00:00.000Z' },
        { item: closedBefore, since: '2024-03-14T00:00:00.000Z' },
      ],
      unblocked: [{ item: closedInWindow, at: '2024-03-09T00:00:00.000Z' }],
      alerts: [
        alert({}),
        alert({ id: 'alr_2', state: 'resolved', openedAt: '2024-01-01T00:00:00.000Z', resolvedAt: '2024-03-13T00:00:00.000Z' }),
        alert({ id: 'alr_3', openedAt: '2024-03-01T00:00:00.000Z' }),
        alert({ id: 'alr_4', kind: 'unblocked', state: 'resolved', openedAt: '2024-03-09T00:00:00.000Z', resolvedAt: '2024-03-09T00:00:00.000Z' }),
      ],
    });
    expect(Digest.parse(digest)).toEqual(digest);
    expect(digest.closed).toEqual({ count: 1, items: [expect.objectContaining({ ref: 'github:octo/api#1', owner: 'Dana', source: 'github', at: '2024-03-12T00:00:00Z' })] });
    expect(digest.started.items.map((i) => i.ref)).toEqual(['jira:acme.atlassian.net/ACME-7']);
    // A closed item is not blocked any more, whatever its dependency state said.
    expect(digest.newlyBlocked.items.map((i) => i.ref)).toEqual(['jira:acme.atlassian.net/ACME-7']);
    expect(digest.unblocked.items.map((i) => i.ref)).toEqual(['github:octo/api#1']);
    // `unblocked` notices are counted as unblocked items, not as alerts.
    expect(digest.alertsRaised.items.map((a) => a.id)).toEqual(['alr_1']);
    expect(digest.alertsResolved.items.map((a) => a.id)).toEqual(['alr_2']);
    expect(digest.headline).toBe('Last 7 days: 1 closed, 1 started, 1 newly blocked, 1 unblocked; 1 alert raised, 1 resolved.');
  });

  it('scopes items and alerts to one team', () => {
    const digest = buildDigest({
      team: 'payments',
      since: SINCE,
      until: NOW,
      items: [closedInWindow, startedInWindow],
      blocked: [],
      unblocked: [],
      alerts: [alert({ team: 'payments' }), alert({ id: 'alr_9', team: 'web' })],
    });
    expect(digest.team).toBe('payments');
    expect(digest.closed.count).toBe(0);
    expect(digest.started.count).toBe(1);
    expect(digest.alertsRaised.items.map((a) => a.id)).toEqual(['alr_1']);
  });

  it(`counts everything but lists at most ${DIGEST_LISTED} entries per section, newest first`, () => {
    const many = Array.from({ length: DIGEST_LISTED + 5 }, (_, n) =>
      indexedItem({
        ref: `github:octo/api#${100 + n}`,
        createdAt: '2024-03-09T00:00:00Z',
        updatedAt: '2024-03-10T00:00:00Z',
        status: { name: 'closed', category: 'done' },
        closedAt: new Date(Date.parse('2024-03-10T00:00:00Z') + n * 60_000).toISOString(),
      }),
    );
    const digest = buildDigest({ since: SINCE, until: NOW, items: many, blocked: [], unblocked: [], alerts: [] });
    expect(digest.closed.count).toBe(DIGEST_LISTED + 5);
    expect(digest.closed.items).toHaveLength(DIGEST_LISTED);
    expect(digest.closed.items[0]!.ref).toBe(`github:octo/api#${100 + DIGEST_LISTED + 4}`);
  });

  it('names ISO weeks, including the ones that straddle a new year', () => {
    expect(isoWeekOf(new Date('2021-01-03T12:00:00Z'))).toBe('2020-W53');
    expect(isoWeekOf(new Date('2021-01-04T00:00:00Z'))).toBe('2021-W01');
    expect(isoWeekOf(new Date('2025-12-29T00:00:00Z'))).toBe('2026-W01');
    expect(previousIsoWeek(new Date('2024-03-13T10:00:00Z'))).toEqual({
      week: '2024-W10',
      since: new Date('2024-03-04T00:00:00Z'),
      until: new Date('2024-03-11T00:00:00Z'),
    });
  });

  it('gives one event id per tenant, team and week', () => {
    expect(digestEventId('t1', undefined, '2024-W10')).toBe(digestEventId('t1', undefined, '2024-W10'));
    expect(new Set([digestEventId('t1', undefined, '2024-W10'), digestEventId('t1', 'web', '2024-W10'), digestEventId('t2', undefined, '2024-W10'), digestEventId('t1', undefined, '2024-W11')]).size).toBe(4);
  });
});
