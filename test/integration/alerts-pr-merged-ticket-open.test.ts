import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepAlerts } from '../../pipeline/alerts.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

/*
 * `pr_merged_ticket_open` under an advancing clock, over real signed deliveries: Jira's ACME-101
 * (created 2024-03-01 09:00, done 2024-03-02 16:00 in the fixtures), a pull request titled with its
 * key that merges at 12:00 while the story stays To Do. The grace period is the tenant's
 * `prMergedTicketOpenHours` (12 here, not the default 24): before it passes nothing is raised, after
 * it the sweep raises the alert, and the story's close resolves it.
 */

const SILENT = { info: () => {}, warn: () => {}, error: () => {} };
const HOUR = 3_600_000;
const SITE = 'acme.atlassian.net';
const STORY = `jira:${SITE}/ACME-101`;
const GRACE_HOURS = 12;
const OPENED = new Date('2024-03-01T10:00:00.000Z');
const MERGED = new Date('2024-03-01T12:00:00.000Z');
const DONE = new Date('2024-03-02T16:00:00.000Z');

/** The real pull_request payload as GitHub sends it when PR #7, titled with the story's key, is opened or merged. */
const pullRequest = (merged: boolean) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  Object.assign(payload.pull_request, {
    number: 7,
    title: 'ACME-101 Retry checkout for carts over 100 items',
    body: 'Splits the cart into pages before pricing it.',
    created_at: OPENED.toISOString(),
    updated_at: (merged ? MERGED : OPENED).toISOString(),
    ...(merged ? { state: 'closed', merged: true, closed_at: MERGED.toISOString(), merged_at: MERGED.toISOString() } : {}),
  });
  payload.pull_request.head.ref = 'acme-101-retry-checkout';
  payload.number = 7;
  if (merged) payload.action = 'closed';
  return payload;
};

describe('pr_merged_ticket_open: raised by the sweep once the grace period has passed, resolved when the ticket closes', () => {
  let hub: TestHub;
  let now = new Date('2024-03-01T09:00:05.000Z');
  let tenantId = '';
  let token = '';
  let jira: { id: string; secret: string };
  let pr = '';

  const deps = () => ({ db: hub.hub.db, clock: () => now, log: SILENT, onEvents: () => hub.hub.pipeline.publisher.kick() });
  const alerts = async (query: string) => (await hub.api('GET', `/v1/alerts?kind=pr_merged_ticket_open${query}`, undefined, token)).body.items as any[];
  const events = () =>
    hub
      .publishedEvents()
      .filter((e) => e.tenantId === tenantId && e.type.startsWith('work.alert.') && (e.data as any).alert.kind === 'pr_merged_ticket_open')
      .map((e) => e.type);

  beforeAll(async () => {
    hub = await startTestHub({ clock: () => now, env: { TRIBUTARY_SWEEP_INTERVAL_SECONDS: '0' } });
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'merged before done' })).body as { id: string; adminToken: string };
    tenantId = tenant.id;
    token = tenant.adminToken;
    expect((await hub.api('PUT', '/v1/settings', { prMergedTicketOpenHours: GRACE_HOURS }, token)).status).toBe(200);
    jira = await hub.createConnection('jira', token, { site: SITE });
    const github = await hub.createConnection('github', token);
    expect((await postJira(hub.url, jira, cloudPayload('issue-created-acme-101'))).status).toBe(202);
    // The project key must be known before the PR's title can name it.
    await settled(hub);
    now = new Date(OPENED.getTime() + 60_000);
    expect((await postGithub(hub.url, github, 'pull_request', pullRequest(false))).status).toBe(202);
    await settled(hub);
    now = new Date(MERGED.getTime() + 60_000);
    expect((await postGithub(hub.url, github, 'pull_request', pullRequest(true))).status).toBe(202);
    await settled(hub);
    const story = (await hub.api('GET', `/v1/items/${encodeURIComponent(STORY)}/context`, undefined, token)).body;
    expect(story.context.implementedBy.map((i: any) => [i.pullRequest, i.title])).toEqual([['merged', 'ACME-101 Retry checkout for carts over 100 items']]);
    expect(story.item.status.name).toBe('To Do');
    pr = story.context.implementedBy[0].id;
  });
  afterAll(() => hub.close());

  it('raises nothing when the PR merges, nor at a sweep inside the grace period', async () => {
    expect(await alerts('')).toEqual([]);
    now = new Date(MERGED.getTime() + (GRACE_HOURS - 1) * HOUR);
    const report = await sweepAlerts(deps());
    expect(report).toMatchObject({ errors: 0, complete: true });
    expect(report.evaluated).toBeGreaterThan(0);
    await settled(hub);
    expect(await alerts('')).toEqual([]);
    expect(events()).toEqual([]);
  });

  it('raises it at the first sweep after the grace period, and GET /v1/alerts lists it', async () => {
    now = new Date(MERGED.getTime() + (GRACE_HOURS + 1) * HOUR);
    await sweepAlerts(deps());
    await settled(hub);
    const open = await alerts('&state=open');
    expect(open).toEqual([
      expect.objectContaining({
        kind: 'pr_merged_ticket_open',
        state: 'open',
        severity: 'warning',
        subject: expect.objectContaining({ ref: STORY }),
        related: [expect.objectContaining({ id: pr })],
        openedAt: now.toISOString(),
      }),
    ]);
    expect(open[0].message).toMatch(/was merged 2024-03-01 12:00 UTC but ACME-101 .* is still To Do/);
    expect(events()).toEqual(['work.alert.raised']);
    // A later sweep finds it open already: no second alert, no second event.
    now = new Date(now.getTime() + HOUR);
    await sweepAlerts(deps());
    await settled(hub);
    expect(await alerts('')).toHaveLength(1);
    expect(events()).toEqual(['work.alert.raised']);
  });

  it('resolves it when the ticket is done', async () => {
    now = new Date(DONE.getTime() + 60_000);
    expect((await postJira(hub.url, jira, cloudPayload('issue-updated-acme-101-done'))).status).toBe(202);
    await settled(hub);
    expect(await alerts('&state=open')).toEqual([]);
    expect(await alerts('&state=resolved')).toEqual([expect.objectContaining({ subject: expect.objectContaining({ ref: STORY }), resolvedAt: now.toISOString() })]);
    expect(events()).toEqual(['work.alert.raised', 'work.alert.resolved']);
    // The story's page tells the same story in its timeline.
    const { body } = await hub.api('GET', `/v1/items/${encodeURIComponent(STORY)}/context`, undefined, token);
    expect(body.timeline.events.filter((e: any) => e.data.alert?.kind === 'pr_merged_ticket_open').map((e: any) => e.type)).toEqual(['work.alert.resolved', 'work.alert.raised']);
  });
});
