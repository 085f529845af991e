import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../core/events.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type CloudFixture, cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const SITE = 'acme.atlassian.net';
const jiraRef = (key: string) => `jira:${SITE}/${key}`;
type Connection = { id: string; secret: string; webhookUrl: string };

/** A tenant of its own with a Jira and a GitHub connection, so scenarios with the same items do not meet. */
const newTenant = async (hub: TestHub, name: string) => {
  const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { id: string; adminToken: string };
  const token = tenant.adminToken;
  const jira = (await hub.createConnection('jira', token, { site: SITE })) as Connection;
  const github = (await hub.createConnection('github', token)) as Connection;
  const api = (method: string, path: string, body?: unknown) => hub.api(method, path, body, token);
  return {
    api,
    postJira: async (name: CloudFixture, identifier?: string) => {
      const response = await postJira(hub.url, jira, cloudPayload(name), identifier ? { identifier } : {});
      expect(response.status, name).toBe(202);
    },
    postGithub: async (payload: unknown, deliveryId?: string) => {
      const response = await postGithub(hub.url, github, 'pull_request', payload, deliveryId ? { deliveryId } : {});
      expect(response.status).toBe(202);
    },
    item: async (ref: string) => (await api('GET', `/v1/items/${encodeURIComponent(ref)}`)).body,
    blockedRefs: async () => ((await api('GET', '/v1/items?blocked=true&limit=200')).body.items as { ref: string }[]).map((i) => i.ref).sort(),
    alerts: async (query = '') => (await api('GET', `/v1/alerts?limit=200${query}`)).body.items as any[],
    alertEvents: (kind: string): EventEnvelope[] =>
      hub.publishedEvents().filter((e) => e.tenantId === tenant.id && e.type.startsWith('work.alert.') && (e.data as any).alert.kind === kind),
  };
};

/** A real pull_request payload with our own body and times (2024-03-01, after ACME-101 was created). */
const pullRequest = (body: string, number = 40, minute = 0) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = number;
  payload.pull_request.title = 'Retry the tax service on large carts';
  payload.pull_request.body = body;
  payload.pull_request.head.ref = 'feature/retry-tax';
  payload.pull_request.created_at = new Date(Date.UTC(2024, 2, 1, 10, 0)).toISOString();
  payload.pull_request.updated_at = new Date(Date.UTC(2024, 2, 1, 10, minute)).toISOString();
  return payload;
};
const shortRef = (payload: any) => `${payload.repository.full_name}#${payload.pull_request.number}`.toLowerCase();
const prRefOf = (payload: any) => `github:${String(payload.repository.full_name).toLowerCase()}#${payload.pull_request.number}`;

describe('dependency graph and alerts across tools, over HTTP and the local bus', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it('unblocks a GitHub PR blocked by a Jira issue when the issue moves to Done: one unblocked alert, one event', async () => {
    const tenant = await newTenant(hub, 'unblocked');
    const pr = pullRequest('Blocked by ACME-101: the tax service must batch first.');
    await tenant.postJira('issue-created-acme-101', 'jira-101-created');
    await tenant.postGithub(pr, 'gh-pr-40-opened');
    await settled(hub);

    const blocked = await tenant.item(prRefOf(pr));
    expect(blocked.blocked).toBe(true);
    expect(blocked.dependencies.upstream).toEqual([expect.objectContaining({ ref: jiraRef('ACME-101'), indexed: true })]);
    expect(await tenant.blockedRefs()).toEqual([prRefOf(pr)]);
    expect((await tenant.item(jiraRef('ACME-101'))).blocked).toBe(false);

    await tenant.postJira('issue-updated-acme-101-done', 'jira-101-done');
    await settled(hub);

    expect((await tenant.item(prRefOf(pr))).blocked).toBe(false);
    expect(await tenant.blockedRefs()).toEqual([]);
    const unblocked = await tenant.alerts('&kind=unblocked');
    expect(unblocked).toEqual([
      expect.objectContaining({
        kind: 'unblocked',
        state: 'resolved',
        subject: expect.objectContaining({ ref: prRefOf(pr) }),
        related: [expect.objectContaining({ ref: jiraRef('ACME-101') })],
        message: `${shortRef(pr)} (GitHub PR, unowned) is unblocked: ACME-101 (Jira bug, owned by Alana Grant) is done`,
      }),
    ]);
    const events = tenant.alertEvents('unblocked');
    expect(events.map((e) => e.type)).toEqual(['work.alert.raised']);
    expect(events[0]!.subject).toBe(prRefOf(pr));

    // The same deliveries again (a redelivery with new ids re-runs every step): nothing new.
    await tenant.postJira('issue-created-acme-101', 'jira-101-created-again');
    await tenant.postGithub(pr, 'gh-pr-40-opened-again');
    await tenant.postJira('issue-updated-acme-101-done', 'jira-101-done-again');
    await settled(hub);
    expect(await tenant.alerts('&kind=unblocked')).toHaveLength(1);
    expect(tenant.alertEvents('unblocked')).toHaveLength(1);
    const all = await tenant.alerts();
    expect(new Set(all.map((a) => a.id)).size).toBe(all.length);
    const raised = hub.publishedEvents().filter((e) => e.type === 'work.alert.raised');
    expect(new Set(raised.map((e) => e.id)).size).toBe(raised.length);
  });

  it('detects a cycle across three items in two tools, reports it in the graph, and resolves it when a link goes', async () => {
    const tenant = await newTenant(hub, 'cycle');
    const pr = pullRequest('Blocked by ACME-102.', 41);
    await tenant.postJira('issue-created-acme-101');
    await tenant.postJira('issue-created-acme-102');
    await tenant.postJira('issuelink-created-acme-101-blocks-acme-102');
    await tenant.postGithub(pr);
    await settled(hub);
    expect(await tenant.alerts('&kind=dependency_cycle')).toEqual([]);

    // A person closes the loop: the PR blocks ACME-101.
    const created = await tenant.api('POST', '/v1/links', { from: prRefOf(pr), type: 'blocks', to: jiraRef('ACME-101') });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ origin: 'manual', type: 'blocks', from: prRefOf(pr), to: jiraRef('ACME-101') });
    await settled(hub);

    const cycles = await tenant.alerts('&kind=dependency_cycle&state=open');
    expect(cycles).toHaveLength(1);
    expect(cycles[0].related).toHaveLength(2);
    expect(cycles[0].message).toMatch(/ACME-101.*block each other in a cycle/);
    expect(tenant.alertEvents('dependency_cycle').map((e) => e.type)).toEqual(['work.alert.raised']);

    const graph = (await tenant.api('GET', `/v1/graph?root=${encodeURIComponent(prRefOf(pr))}&depth=5&direction=both`)).body;
    expect(graph.nodes.map((n: any) => n.ref).sort()).toEqual([jiraRef('ACME-101'), jiraRef('ACME-102'), prRefOf(pr)].sort());
    expect(graph.edges).toHaveLength(3);
    expect(graph.cycles).toHaveLength(1);
    expect(graph.cycles[0]).toHaveLength(3);
    expect(graph.edges.every((e: any) => e.inCycle)).toBe(true);
    expect(graph.visited.items).toBe(3);

    const removed = await tenant.api('DELETE', `/v1/links/${created.body.id}`);
    expect(removed.status).toBe(204);
    await settled(hub);
    expect(await tenant.alerts('&kind=dependency_cycle&state=open')).toEqual([]);
    expect(await tenant.alerts('&kind=dependency_cycle&state=resolved')).toHaveLength(1);
    expect(tenant.alertEvents('dependency_cycle').map((e) => e.type)).toEqual(['work.alert.raised', 'work.alert.resolved']);

    const after = (await tenant.api('GET', `/v1/graph?root=${encodeURIComponent(jiraRef('ACME-101'))}&depth=5&direction=down`)).body;
    expect(after.cycles).toEqual([]);
    expect(after.criticalPath.length).toBe(3);
    expect(after.edges.filter((e: any) => e.onCriticalPath)).toHaveLength(2);
  });

  it('resolves a pending edge whichever item arrives first', async () => {
    const prFirst = await newTenant(hub, 'pr first');
    const jiraFirst = await newTenant(hub, 'jira first');
    const pr = pullRequest('Depends on ACME-101', 42);

    await prFirst.postGithub(pr);
    await settled(hub);
    expect((await prFirst.item(prRefOf(pr))).blocked).toBe(false);
    await prFirst.postJira('issue-created-acme-101');
    await settled(hub);

    await jiraFirst.postJira('issue-created-acme-101');
    await settled(hub);
    await jiraFirst.postGithub(pr);
    await settled(hub);

    for (const tenant of [prFirst, jiraFirst]) {
      const item = await tenant.item(prRefOf(pr));
      expect(item.blocked).toBe(true);
      expect(item.dependencies.upstream).toEqual([expect.objectContaining({ ref: jiraRef('ACME-101'), indexed: true })]);
      expect(await tenant.blockedRefs()).toEqual([prRefOf(pr)]);
      expect((await tenant.item(jiraRef('ACME-101'))).dependencies.downstream).toEqual([expect.objectContaining({ ref: prRefOf(pr) })]);
    }
  });

  it('unblocks the dependent when the blocker side removes the link, without calling it unblocked', async () => {
    const tenant = await newTenant(hub, 'link removed by the blocker');
    const pr = pullRequest('Splits the tax call into batches.', 44);
    await tenant.postJira('issue-created-acme-101');
    await tenant.postGithub(pr);
    await settled(hub);
    expect((await tenant.item(prRefOf(pr))).blocked).toBe(false);

    // Only the Jira issue holds this link; the PR learns of it through the reverse edge.
    const link = await tenant.api('POST', '/v1/links', { from: jiraRef('ACME-101'), type: 'blocks', to: prRefOf(pr) });
    expect(link.status).toBe(201);
    await settled(hub);
    expect((await tenant.item(prRefOf(pr))).blocked).toBe(true);
    expect(await tenant.blockedRefs()).toEqual([prRefOf(pr)]);

    expect((await tenant.api('DELETE', `/v1/links/${link.body.id}`)).status).toBe(204);
    expect((await tenant.api('DELETE', `/v1/links/${link.body.id}`)).status).toBe(404);
    await settled(hub);
    expect((await tenant.item(prRefOf(pr))).blocked).toBe(false);
    expect(await tenant.blockedRefs()).toEqual([]);
    expect(await tenant.alerts('&kind=unblocked')).toEqual([]);
  });

  it('validates settings, fills in defaults, and documents every new route', async () => {
    const tenant = await newTenant(hub, 'settings');
    expect((await tenant.api('GET', '/v1/settings')).body).toMatchObject({ blockerStaleDays: 5, unownedPriorityHours: 24 });
    const bad = await tenant.api('PUT', '/v1/settings', { blockerStaleDays: 0 });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'blockerStaleDays' })]);
    const good = await tenant.api('PUT', '/v1/settings', { blockerStaleDays: 3 });
    expect(good.status).toBe(200);
    expect((await tenant.api('GET', '/v1/settings')).body).toMatchObject({ blockerStaleDays: 3, unownedPriorityHours: 24 });

    const paths = Object.keys((await hub.api('GET', '/openapi.json')).body.paths);
    expect(paths).toEqual(expect.arrayContaining(['/v1/graph', '/v1/alerts', '/v1/settings', '/v1/links', '/v1/links/{id}']));
    expect((await tenant.api('GET', '/v1/alerts?state=nope')).status).toBe(422);
  });
});

describe('time-based alerts from the sweep, with a controllable clock', () => {
  let hub: TestHub;
  let now = new Date('2024-03-01T11:00:00.000Z');

  beforeAll(async () => {
    hub = await startTestHub({ clock: () => now, env: { TRIBUTARY_SWEEP_INTERVAL_SECONDS: '0' } });
  });
  afterAll(() => hub.close());

  it('raises blocker_stale once when the blocker has had no activity for the configured days, and resolves it when it moves', async () => {
    const tenant = await newTenant(hub, 'stale');
    const pr = pullRequest('Blocked by ACME-101', 43);
    await tenant.postJira('issue-created-acme-101');
    await tenant.postGithub(pr);
    await settled(hub);
    expect(await tenant.alerts('&kind=blocker_stale')).toEqual([]);

    now = new Date('2024-03-07T10:00:00.000Z');
    await hub.hub.sweepAlerts();
    await settled(hub);
    const stale = await tenant.alerts('&kind=blocker_stale&state=open');
    expect(stale).toEqual([
      expect.objectContaining({
        subject: expect.objectContaining({ ref: prRefOf(pr) }),
        related: [expect.objectContaining({ ref: jiraRef('ACME-101') })],
        message: `ACME-101 (Jira bug, unowned) has had no activity for 6 days while ${shortRef(pr)} (GitHub PR, unowned) waits on it`,
      }),
    ]);

    // Sweeping again, later still, changes nothing.
    now = new Date('2024-03-08T10:00:00.000Z');
    await hub.hub.sweepAlerts();
    await settled(hub);
    expect(await tenant.alerts('&kind=blocker_stale')).toHaveLength(1);
    expect(tenant.alertEvents('blocker_stale').map((e) => e.type)).toEqual(['work.alert.raised']);

    // The blocker is done: the condition clears on the change itself.
    await tenant.postJira('issue-updated-acme-101-done');
    await settled(hub);
    expect(await tenant.alerts('&kind=blocker_stale&state=open')).toEqual([]);
    expect(tenant.alertEvents('blocker_stale').map((e) => e.type)).toEqual(['work.alert.raised', 'work.alert.resolved']);
  });
});
