import { describe, expect, it } from 'vitest';
import { type AlertInput, AlertSettings, DEFAULT_ALERT_SETTINGS, evaluateAlerts } from '../../core/alerts.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { at, githubPerson, indexedItem } from '../fixtures/work-items.ts';

const HOUR = 60;
const STORY = 'jira:acme.atlassian.net/ACME-42';

const story = (overrides: Partial<WorkItem> = {}): WorkItem => ({
  ...indexedItem({
    ref: STORY,
    source: 'jira',
    kind: 'story',
    title: 'Bulk discounts',
    container: { source: 'jira', key: 'ACME' },
    status: { name: 'In Progress', category: 'in_progress' },
  }),
  ...overrides,
});

const pr = (number: number, status: WorkItem['status'], closedAt?: string): WorkItem => ({
  ...indexedItem({
    ref: `github:octo/api#${number}`,
    kind: 'pull_request',
    title: `ACME-42 part ${number}`,
    owners: [githubPerson('octocat', 1)],
    status,
    ...(closedAt ? { closedAt, updatedAt: closedAt } : {}),
  }),
});

const MERGED = { name: 'merged', category: 'done' } as const;
const OPEN = { name: 'open', category: 'in_review' } as const;

const request = (overrides: Partial<WorkItem> = {}): WorkItem => ({
  ...indexedItem({
    ref: 'email:support@acme.example/abc@customer.example',
    source: 'email',
    kind: 'request',
    title: 'Checkout fails',
    container: { source: 'email', key: 'support@acme.example' },
    status: { name: 'new', category: 'todo' },
    requester: { id: 'p_ana', name: 'Ana Lima', handles: [{ source: 'email', handle: 'ana@customer.example' }], emails: ['ana@customer.example'] },
    createdAt: at(0),
    updatedAt: at(0),
  }),
  ...overrides,
});

const input = (overrides: Partial<AlertInput>): AlertInput => ({
  subject: story(),
  blockers: [],
  linked: [],
  hasAnyLink: true,
  previousOpenBlockers: [],
  cycles: [],
  members: new Map(),
  settings: DEFAULT_ALERT_SETTINGS,
  now: new Date(at(0)),
  ...overrides,
});

const alertsOf = (i: AlertInput) => evaluateAlerts(i).alerts;

describe('pr_merged_ticket_open: a PR merged while the story it implements stays open', () => {
  const merged = pr(7, MERGED, at(0));

  it('is raised once the grace period after the merge has passed, naming the PR and the story', () => {
    const before = input({ linked: [{ item: merged, type: 'implemented_by' }], now: new Date(at(23 * HOUR)) });
    expect(alertsOf(before)).toEqual([]);
    const after = alertsOf({ ...before, now: new Date(at(24 * HOUR)) });
    expect(after).toEqual([
      expect.objectContaining({
        kind: 'pr_merged_ticket_open',
        severity: 'warning',
        subject: expect.objectContaining({ ref: STORY }),
        related: [expect.objectContaining({ ref: 'github:octo/api#7' })],
        message: 'octo/api#7 (GitHub PR, owned by octocat) was merged 2024-01-01 00:00 UTC but ACME-42 (Jira story, unowned) is still In Progress',
      }),
    ]);
  });

  it('takes its grace period from the settings', () => {
    const settings = AlertSettings.parse({ prMergedTicketOpenHours: 2 });
    expect(alertsOf(input({ linked: [{ item: merged, type: 'implemented_by' }], settings, now: new Date(at(2 * HOUR)) })).map((a) => a.kind)).toEqual(['pr_merged_ticket_open']);
  });

  it('waits while another PR implementing the story is still open', () => {
    const linked = [
      { item: merged, type: 'implemented_by' },
      { item: pr(8, OPEN), type: 'implemented_by' },
    ];
    expect(alertsOf(input({ linked, now: new Date(at(72 * HOUR)) }))).toEqual([]);
  });

  it('counts the grace period from the last merge, and is not raised for a story that is done or a PR closed unmerged', () => {
    const later = pr(8, MERGED, at(48 * HOUR));
    const linked = [
      { item: merged, type: 'implemented_by' },
      { item: later, type: 'implemented_by' },
    ];
    expect(alertsOf(input({ linked, now: new Date(at(60 * HOUR)) }))).toEqual([]);
    expect(alertsOf(input({ linked, now: new Date(at(72 * HOUR)) }))[0]?.related.map((r) => r.ref)).toEqual(['github:octo/api#7', 'github:octo/api#8']);
    const done = story({ status: { name: 'Done', category: 'done' } });
    expect(alertsOf(input({ subject: done, linked, now: new Date(at(96 * HOUR)) }))).toEqual([]);
    const closed = pr(9, { name: 'closed', category: 'cancelled' }, at(0));
    expect(alertsOf(input({ linked: [{ item: closed, type: 'implemented_by' }], now: new Date(at(96 * HOUR)) }))).toEqual([]);
  });

  it('can be turned off', () => {
    const settings = AlertSettings.parse({ disabledKinds: ['pr_merged_ticket_open'] });
    expect(alertsOf(input({ linked: [{ item: merged, type: 'implemented_by' }], settings, now: new Date(at(96 * HOUR)) }))).toEqual([]);
  });
});

describe("request_unanswered: an email request waiting for the team's answer past the SLA", () => {
  it('is raised for a new request older than the SLA (24 hours by default), naming the requester', () => {
    expect(alertsOf(input({ subject: request(), now: new Date(at(23 * HOUR)) }))).toEqual([]);
    expect(alertsOf(input({ subject: request(), now: new Date(at(24 * HOUR)) }))).toEqual([
      expect.objectContaining({
        kind: 'request_unanswered',
        severity: 'warning',
        related: [],
        message: '"Checkout fails" (email request from Ana Lima) has had no answer from the team since 2024-01-01 00:00 UTC, past the 24-hour SLA',
      }),
    ]);
  });

  it("counts from the latest message: a requester's follow-up keeps it waiting, the team's answer ends it", () => {
    const waiting = request({ status: { name: 'waiting', category: 'todo' }, updatedAt: at(10 * HOUR) });
    expect(alertsOf(input({ subject: waiting, now: new Date(at(30 * HOUR)) }))).toEqual([]);
    expect(alertsOf(input({ subject: waiting, now: new Date(at(34 * HOUR)) })).map((a) => a.kind)).toEqual(['request_unanswered']);
    const answered = request({ status: { name: 'answered', category: 'in_progress' } });
    expect(alertsOf(input({ subject: answered, now: new Date(at(96 * HOUR)) }))).toEqual([]);
    const closed = request({ status: { name: 'closed', category: 'done' } });
    expect(alertsOf(input({ subject: closed, now: new Date(at(96 * HOUR)) }))).toEqual([]);
  });

  it("uses the email connection's slaHours when it sets one, and is critical for an urgent request", () => {
    expect(alertsOf(input({ subject: request(), requestSlaHours: 4, now: new Date(at(4 * HOUR)) })).map((a) => a.kind)).toEqual(['request_unanswered']);
    const settings = AlertSettings.parse({ requestSlaHours: 48 });
    expect(alertsOf(input({ subject: request(), settings, now: new Date(at(30 * HOUR)) }))).toEqual([]);
    const urgent = request({ priority: { name: '[urgent]', level: 'urgent' } });
    expect(alertsOf(input({ subject: urgent, now: new Date(at(25 * HOUR)) }))[0]?.severity).toBe('critical');
  });
});
