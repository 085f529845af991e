import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../core/events.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

type Connection = { id: string; secret: string; webhookUrl: string };

/** A tenant of its own with a GitHub connection, so the scenarios' people and teams never meet. */
const newTenant = async (hub: TestHub, name: string) => {
  const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { id: string; adminToken: string };
  const github = (await hub.createConnection('github', tenant.adminToken)) as Connection;
  const api = (method: string, path: string, body?: unknown) => hub.api(method, path, body, tenant.adminToken);
  return {
    api,
    postIssue: async (payload: unknown) => {
      const response = await postGithub(hub.url, github, 'issues', payload);
      expect(response.status).toBe(202);
    },
    alerts: async (query = '') => (await api('GET', `/v1/alerts?kind=wip_over_limit&limit=200${query}`)).body.items as any[],
    events: (): EventEnvelope[] =>
      hub.publishedEvents().filter((e) => e.tenantId === tenant.id && e.type.startsWith('work.alert.') && (e.data as any).alert.kind === 'wip_over_limit'),
  };
};

const HUBOT = { login: 'hubot', id: 583231, node_id: 'MDQ6VXNlcjU4MzIzMQ==', type: 'User', site_admin: false, html_url: 'https://github.com/hubot', name: 'Hubot' };

/**
 * A real `issues` payload for issue `number` of Codertocat/Hello-World at minute `minute`: assigned
 * to `assignees` (in progress), or closed when `closed`.
 */
const issue = (number: number, minute: number, options: { assignees?: any[]; closed?: boolean } = {}) => {
  const payload = githubExample('issues', 'assigned').payload as any;
  const assignees = options.assignees ?? [payload.issue.assignee];
  payload.action = options.closed ? 'closed' : 'assigned';
  payload.issue.number = number;
  payload.issue.title = `Work item ${number}`;
  payload.issue.labels = [];
  payload.issue.assignee = assignees[0] ?? null;
  payload.issue.assignees = assignees;
  payload.issue.created_at = new Date(Date.UTC(2024, 2, 1, 9, 0)).toISOString();
  payload.issue.updated_at = new Date(Date.UTC(2024, 2, 1, 10, minute)).toISOString();
  if (options.closed) {
    payload.issue.state = 'closed';
    payload.issue.state_reason = 'completed';
    payload.issue.closed_at = payload.issue.updated_at;
  }
  return payload;
};

describe('wip_over_limit alerts per person and per team, over HTTP and the local bus', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ env: { TRIBUTARY_SWEEP_INTERVAL_SECONDS: '0' } });
  });
  afterAll(() => hub.close());

  it('raises one alert when a person owns more work in progress than the limit, keeps its count current, and resolves it', async () => {
    const tenant = await newTenant(hub, 'wip-person');
    expect((await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 2 })).status).toBe(200);
    await tenant.postIssue(issue(1, 1));
    await tenant.postIssue(issue(2, 2));
    await settled(hub);
    expect(await tenant.alerts()).toEqual([]);

    await tenant.postIssue(issue(3, 3));
    await settled(hub);
    const [alert, ...others] = await tenant.alerts('&state=open');
    expect(others).toEqual([]);
    expect(alert).toMatchObject({
      kind: 'wip_over_limit',
      subjectType: 'person',
      subject: { id: expect.stringMatching(/^person:p_/), title: 'Codertocat' },
      severity: 'warning',
      message: 'Codertocat has 3 items in progress, over the WIP limit of 2: codertocat/hello-world#1, codertocat/hello-world#2, codertocat/hello-world#3',
    });
    expect(alert.related.map((r: any) => r.ref)).toEqual([1, 2, 3].map((n) => `github:codertocat/hello-world#${n}`));

    // A fourth item moves the count in the message; the alert stays the same one, with no new event.
    await tenant.postIssue(issue(4, 4));
    await settled(hub);
    const [grown] = await tenant.alerts('&state=open');
    expect(grown.id).toBe(alert.id);
    expect(grown.message).toMatch(/^Codertocat has 4 items in progress, over the WIP limit of 2: /);
    expect(tenant.events().map((e) => e.type)).toEqual(['work.alert.raised']);

    // Two items done: back at the limit, the alert resolves once.
    await tenant.postIssue(issue(1, 5, { closed: true }));
    await tenant.postIssue(issue(2, 6, { closed: true }));
    await settled(hub);
    expect(await tenant.alerts('&state=open')).toEqual([]);
    expect(await tenant.alerts('&state=resolved')).toEqual([expect.objectContaining({ id: alert.id, resolvedAt: expect.any(String) })]);
    expect(tenant.events().map((e) => e.type)).toEqual(['work.alert.raised', 'work.alert.resolved']);
    const raised = tenant.events()[0]!;
    expect(raised.subject).toBe(alert.subject.ref);
  });

  it("counts a team's work in progress against the team's own limit from the team map, and a reassignment moves the count between people", async () => {
    const tenant = await newTenant(hub, 'wip-team');
    expect((await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 10, wipLimitPerTeam: 50 })).status).toBe(200);
    const teams = await tenant.api('PUT', '/v1/teams', { teams: [{ name: 'Platform', containers: ['github:codertocat/hello-world'], wipLimit: 2 }] });
    expect(teams.status).toBe(200);

    await tenant.postIssue(issue(1, 1));
    await tenant.postIssue(issue(2, 2, { assignees: [HUBOT] }));
    await settled(hub);
    expect(await tenant.alerts()).toEqual([]);
    await tenant.postIssue(issue(3, 3, { assignees: [HUBOT] }));
    await settled(hub);

    const open = await tenant.alerts('&state=open');
    expect(open).toEqual([
      expect.objectContaining({
        subjectType: 'team',
        subject: { id: 'team:Platform', ref: 'team:Platform', title: 'Platform' },
        team: 'Platform',
        message: expect.stringMatching(/^Team Platform has 3 items in progress, over its WIP limit of 2: /),
      }),
    ]);
    expect(await tenant.alerts('&team=Platform')).toHaveLength(1);

    // People limits: Hubot has 2 of them; lowering the person limit to 1 raises Hubot's alert at once.
    expect((await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 1, wipLimitPerTeam: 50 })).status).toBe(200);
    await settled(hub);
    const people = (await tenant.alerts('&state=open')).filter((a) => a.subjectType === 'person');
    expect(people).toEqual([expect.objectContaining({ subject: expect.objectContaining({ title: 'Hubot' }), message: expect.stringMatching(/^Hubot has 2 items in progress, over the WIP limit of 1/) })]);

    // Issue 3 goes from Hubot to Codertocat: Hubot is back at the limit, Codertocat is over it.
    await tenant.postIssue(issue(3, 4));
    await settled(hub);
    const after = (await tenant.alerts('&state=open')).filter((a) => a.subjectType === 'person');
    expect(after).toEqual([expect.objectContaining({ subject: expect.objectContaining({ title: 'Codertocat' }) })]);

    // Disabling the kind resolves every open one.
    expect((await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 1, disabledKinds: ['wip_over_limit'] })).status).toBe(200);
    await settled(hub);
    expect(await tenant.alerts('&state=open')).toEqual([]);
  });

  it('opens one alert per person under replayed and concurrent deliveries', async () => {
    const tenant = await newTenant(hub, 'wip-replays');
    expect((await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 2 })).status).toBe(200);
    const payloads = [1, 2, 3, 4].map((n) => issue(n, n));
    // Every delivery three times (distinct delivery ids: the processor sees each), all at once.
    await Promise.all(payloads.flatMap((p) => [p, p, p]).map((p) => tenant.postIssue(p)));
    await settled(hub);

    const alerts = await tenant.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'open', occurrence: 1, message: expect.stringMatching(/^Codertocat has 4 items in progress, over the WIP limit of 2: /) });
    expect(tenant.events().map((e) => e.type)).toEqual(['work.alert.raised']);
  });

  it('measures the workload view against the limits the alert uses, so the two agree', async () => {
    const tenant = await newTenant(hub, 'wip-view');
    expect((await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 2, wipLimitPerTeam: 3 })).status).toBe(200);
    const teams = await tenant.api('PUT', '/v1/teams', { teams: [{ name: 'Platform', containers: ['github:codertocat/hello-world'] }] });
    expect(teams.status).toBe(200);
    for (const n of [1, 2, 3]) await tenant.postIssue(issue(n, n));
    await settled(hub);

    const workload = async (query = '') => (await tenant.api('GET', `/v1/views/workload${query}`)).body;
    const [alert] = await tenant.alerts('&state=open');
    expect(alert).toMatchObject({ subjectType: 'person', message: expect.stringMatching(/over the WIP limit of 2: /) });
    const view = await workload();
    expect(view.people).toEqual([expect.objectContaining({ personId: alert.subject.id.slice('person:'.length), wip: 3, limit: 2, overLimit: true })]);
    // A team without a `wipLimit` of its own has the tenant's team limit, in the view as in the alert (not over it).
    expect(view.teams).toEqual([expect.objectContaining({ team: 'Platform', wip: 3, limit: 3, overLimit: false })]);

    // A new person limit applies to both at once; `personLimit` overrides it in one answer only.
    expect((await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 5, wipLimitPerTeam: 3 })).status).toBe(200);
    await settled(hub);
    expect(await tenant.alerts('&state=open')).toEqual([]);
    expect((await workload()).people[0]).toMatchObject({ limit: 5, overLimit: false });
    expect((await workload('?personLimit=1')).people[0]).toMatchObject({ limit: 1, overLimit: true });

    // The team map holds no person limit any more: one that still sends it is told where it went.
    const old = await tenant.api('PUT', '/v1/teams', { teams: [], personWipLimit: 3 });
    expect(old.status).toBe(422);
    expect(old.body.errors).toEqual([expect.objectContaining({ path: 'personWipLimit', message: expect.stringContaining('PUT /v1/settings') })]);
  });

  it('rejects invalid WIP limits with the field named', async () => {
    const tenant = await newTenant(hub, 'wip-settings');
    const bad = await tenant.api('PUT', '/v1/settings', { wipLimitPerPerson: 0, wipLimitPerTeam: 'ten' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(['wipLimitPerPerson', 'wipLimitPerTeam']);
    expect((await tenant.api('GET', '/v1/settings')).body).toMatchObject({ wipLimitPerPerson: 5, wipLimitPerTeam: 20 });
  });
});
