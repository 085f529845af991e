import { describe, expect, it } from 'vitest';
import { type AlertInput, AlertSettings, DEFAULT_ALERT_SETTINGS, alertId, describeItem, evaluateAlerts } from '../../core/alerts.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { at, githubPerson, indexedItem, link } from '../fixtures/work-items.ts';

const JIRA = 'jira:acme.atlassian.net/ACME-12';
const PR = 'github:octo/api#40';
const DAY = 24 * 60;

const dana: WorkItem['owners'][number] = { id: 'p_dana', name: 'Dana', handles: [{ source: 'jira', handle: 'acc-dana' }], emails: [] };

const jiraIssue = (overrides: Partial<WorkItem> = {}): WorkItem => ({
  ...indexedItem({
    ref: JIRA,
    source: 'jira',
    kind: 'story',
    title: 'Tax service batching',
    container: { source: 'jira', key: 'ACME' },
    status: { name: 'In Progress', category: 'in_progress' },
    owners: [dana],
    team: 'payments',
  }),
  ...overrides,
});

const pullRequest = (overrides: Partial<WorkItem> = {}): WorkItem => ({
  ...indexedItem({
    ref: PR,
    kind: 'pull_request',
    title: 'Retry the tax service',
    owners: [githubPerson('octocat', 1)],
    team: 'checkout',
    links: [link('blocked_by', JIRA)],
  }),
  ...overrides,
});

const input = (overrides: Partial<AlertInput> = {}): AlertInput => ({
  subject: pullRequest(),
  blockers: [jiraIssue()],
  linked: [],
  hasAnyLink: true,
  previousOpenBlockers: [],
  cycles: [],
  members: new Map(),
  settings: DEFAULT_ALERT_SETTINGS,
  now: new Date(at(60)),
  ...overrides,
});

const kinds = (i: AlertInput) => evaluateAlerts(i).alerts.map((a) => a.kind).sort();

describe('alert rules', () => {
  it('names items the way people do, with tool, kind and owners', () => {
    expect(describeItem(jiraIssue())).toBe('ACME-12 (Jira story, owned by Dana)');
    expect(describeItem(pullRequest())).toBe('octo/api#40 (GitHub PR, owned by octocat)');
  });

  it('reports the open blockers, which make the derived blocked flag', () => {
    expect(evaluateAlerts(input()).openBlockers).toEqual([jiraIssue().id]);
    const done = jiraIssue({ status: { name: 'Done', category: 'done' } });
    expect(evaluateAlerts(input({ blockers: [done] })).openBlockers).toEqual([]);
  });

  it('raises one unblocked notice when the last open blocker moves to Done', () => {
    const done = jiraIssue({ status: { name: 'Done', category: 'done' } });
    const { alerts } = evaluateAlerts(input({ blockers: [done], previousOpenBlockers: [done.id] }));
    const unblocked = alerts.filter((a) => a.kind === 'unblocked');
    expect(unblocked).toEqual([
      expect.objectContaining({
        id: alertId('unblocked', pullRequest().id, [done.id]),
        notice: true,
        subject: expect.objectContaining({ ref: PR }),
        related: [expect.objectContaining({ ref: JIRA })],
        message: 'octo/api#40 (GitHub PR, owned by octocat) is unblocked: ACME-12 (Jira story, owned by Dana) is done',
      }),
    ]);
  });

  it('does not call an item unblocked while another blocker is open, or when a link was only removed', () => {
    const done = jiraIssue({ status: { name: 'Done', category: 'done' } });
    const other = jiraIssue({ id: 'wi_other', ref: 'jira:acme.atlassian.net/ACME-13' });
    expect(kinds(input({ blockers: [done, other], previousOpenBlockers: [done.id, other.id] }))).not.toContain('unblocked');
    expect(kinds(input({ blockers: [], previousOpenBlockers: [done.id] }))).not.toContain('unblocked');
  });

  it('flags a blocker without activity for the configured days as stale, naming how long', () => {
    const now = new Date(at(6 * DAY + 30));
    const { alerts } = evaluateAlerts(input({ now }));
    expect(alerts.find((a) => a.kind === 'blocker_stale')?.message).toBe(
      'ACME-12 (Jira story, owned by Dana) has had no activity for 6 days while octo/api#40 (GitHub PR, owned by octocat) waits on it',
    );
    const lenient = AlertSettings.parse({ blockerStaleDays: 10 });
    expect(kinds(input({ now, settings: lenient }))).not.toContain('blocker_stale');
  });

  it('flags an overdue blocker and a blocker due after its dependent', () => {
    const blocker = jiraIssue({ dueAt: at(2 * DAY) });
    const subject = pullRequest({ dueAt: at(DAY) });
    expect(kinds(input({ subject, blockers: [blocker], now: new Date(at(3 * DAY)) }))).toEqual(
      expect.arrayContaining(['blocker_overdue', 'due_date_conflict']),
    );
    expect(kinds(input({ subject, blockers: [blocker], now: new Date(at(60)) }))).not.toContain('blocker_overdue');
  });

  it('flags a blocker of another team, and not one of the same team', () => {
    expect(kinds(input())).toContain('cross_team_blocker');
    expect(kinds(input({ subject: pullRequest({ team: 'payments' }) }))).not.toContain('cross_team_blocker');
  });

  it('flags an urgent item without owner after the grace period only', () => {
    const subject = pullRequest({ owners: [], priority: { level: 'urgent' }, links: [] });
    expect(kinds(input({ subject, blockers: [], now: new Date(at(60)) }))).not.toContain('unowned_priority');
    expect(kinds(input({ subject, blockers: [], now: new Date(at(25 * 60)) }))).toContain('unowned_priority');
  });

  it('flags a PR linked to nothing, and a PR still open when its ticket is done', () => {
    const lonely = pullRequest({ links: [] });
    expect(kinds(input({ subject: lonely, blockers: [], hasAnyLink: false, now: new Date(at(DAY + 60)) }))).toContain('pr_without_ticket');
    const done = jiraIssue({ status: { name: 'Done', category: 'done' } });
    const implementing = pullRequest({ links: [link('implements', JIRA, 'closing_keyword', 0.9)] });
    expect(kinds(input({ subject: implementing, blockers: [], linked: [{ item: done, type: 'implements' }] }))).toEqual(['ticket_done_pr_open']);
  });

  it('raises one cycle alert whose subject is the smallest member id, whichever member evaluates it', () => {
    const a = jiraIssue();
    const b = pullRequest();
    const c = jiraIssue({ id: 'wi_zzz', ref: 'jira:acme.atlassian.net/ACME-14' });
    const members = new Map([a, b, c].map((i) => [i.id, i]));
    const cycle = [a.id, b.id, c.id].sort();
    const fromA = evaluateAlerts(input({ subject: a, blockers: [], cycles: [cycle], members })).alerts.filter((x) => x.kind === 'dependency_cycle');
    const fromB = evaluateAlerts(input({ subject: b, blockers: [], cycles: [cycle], members })).alerts.filter((x) => x.kind === 'dependency_cycle');
    expect(fromA).toHaveLength(1);
    expect(fromA[0]!.id).toBe(fromB[0]!.id);
    expect(fromA[0]!.subject.id).toBe(cycle[0]);
    expect(fromA[0]!.message).toMatch(/block each other in a cycle/);
  });

  it('raises nothing about a closed or deleted subject, and nothing of a disabled kind', () => {
    expect(evaluateAlerts(input({ subject: pullRequest({ status: { name: 'closed', category: 'done' } }) })).alerts).toEqual([]);
    expect(evaluateAlerts(input({ subject: pullRequest({ deleted: { at: at(5), reason: 'deleted' } }) })).alerts).toEqual([]);
    const settings = AlertSettings.parse({ disabledKinds: ['cross_team_blocker'] });
    expect(kinds(input({ settings }))).not.toContain('cross_team_blocker');
  });

  it('gives the same id to the same condition every time, and another to other items', () => {
    expect(alertId('blocker_stale', 'wi_a', ['wi_b', 'wi_c'])).toBe(alertId('blocker_stale', 'wi_a', ['wi_c', 'wi_b']));
    expect(alertId('blocker_stale', 'wi_a', ['wi_b'])).not.toBe(alertId('blocker_overdue', 'wi_a', ['wi_b']));
  });
});
