import { describe, expect, it } from 'vitest';
import { buildTeamView } from '../../core/team-view.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { at, indexedItem } from '../fixtures/work-items.ts';

const item = (ref: string, team: string, status: WorkItem['status'], extra: Partial<WorkItem> = {}): WorkItem => ({
  ...indexedItem({ ref, title: ref, status, team, ...(extra as object) }),
  ...extra,
});

const IN_PROGRESS = { name: 'open', category: 'in_progress' } as const;

describe("a team's page", () => {
  const mine = item('github:octo/api#1', 'checkout', IN_PROGRESS, { startedAt: at(10) });
  const older = item('github:octo/api#2', 'checkout', IN_PROGRESS, { startedAt: at(5) });
  const theirs = item('jira:acme.atlassian.net/ACME-9', 'payments', IN_PROGRESS);
  const blocked = item('github:octo/api#3', 'checkout', { name: 'open', category: 'todo' });
  const request = item('email:support@acme.example/a@b', 'checkout', { name: 'new', category: 'todo' }, { source: 'email', kind: 'request', updatedAt: at(1) });
  const answered = item('email:support@acme.example/c@d', 'checkout', { name: 'answered', category: 'in_progress' }, { source: 'email', kind: 'request' });

  const view = buildTeamView({
    team: 'checkout',
    now: new Date(at(100)),
    headline: 'Last 7 days for checkout: …',
    wip: [mine, older, theirs],
    limit: 1,
    blockedBy: [{ blocked: blocked.id, blockers: [theirs.id, mine.id] }],
    items: new Map([blocked, theirs, mine].map((i) => [i.id, i])),
    blockedSince: new Map([[blocked.id, at(50)]]),
    requests: [request, answered],
  });

  it('shows its work in progress against its limit, longest running first', () => {
    expect(view.wip).toMatchObject({ count: 2, limit: 1, overLimit: true });
    expect(view.wip.items.map((i) => i.ref)).toEqual(['github:octo/api#2', 'github:octo/api#1']);
  });

  it('shows its blocked work with every open blocker, and what it waits on from other teams by team', () => {
    expect(view.blocked).toEqual([expect.objectContaining({ item: expect.objectContaining({ ref: 'github:octo/api#3', blockedSince: at(50) }) })]);
    expect(view.blocked[0]!.blockers.map((b) => b.ref)).toEqual(['jira:acme.atlassian.net/ACME-9', 'github:octo/api#1']);
    expect(view.waitsOn).toEqual([{ team: 'payments', items: [expect.objectContaining({ ref: 'jira:acme.atlassian.net/ACME-9' })] }]);
  });

  it('lists only the requests still waiting for its answer', () => {
    expect(view.requests.map((r) => [r.ref, r.waitingSince])).toEqual([['email:support@acme.example/a@b', at(1)]]);
  });
});
