import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestEventId, previousIsoWeek } from '../../core/digest.ts';
import type { EventEnvelope } from '../../core/events.ts';
import type { EventPublisher } from '../../core/ports.ts';
import { keys } from '../../store/keys.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { publishWeeklyDigests } from '../../pipeline/weekly-digest.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type CloudFixture, cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const DAY = 86_400_000;
const SITE = 'acme.atlassian.net';
const jiraRef = (key: string) => `jira:${SITE}/${key}`;
/** The Jira story happened on 2024-03-01/02; replayed as if it were the last two days. */
const SHIFT = Date.now() - Date.parse('2024-03-03T00:00:00Z');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** A real payload with every timestamp moved by SHIFT (ISO strings, and Jira's epoch-ms `timestamp`). */
const shifted = (value: any, key?: string): any => {
  if (typeof value === 'string' && ISO.test(value)) return new Date(Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) + SHIFT).toISOString();
  if (typeof value === 'number' && key === 'timestamp') return value + SHIFT;
  if (Array.isArray(value)) return value.map((v) => shifted(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shifted(v, k)]));
  return value;
};

/** A real pull_request payload opened `daysAgo` days ago, with our body. */
const pullRequest = (number: number, body: string, daysAgo: number) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  const at = new Date(Date.now() - daysAgo * DAY).toISOString();
  Object.assign(payload.pull_request, { number, title: `Checkout step ${number}`, body, draft: false, created_at: at, updated_at: at });
  payload.number = number;
  return payload;
};
const prRef = (payload: any) => `github:${String(payload.repository.full_name).toLowerCase()}#${payload.pull_request.number}`;

const silent = { info() {}, warn() {}, error() {} };
const recording = (fail = false) => {
  const events: EventEnvelope[] = [];
  const publisher: EventPublisher = {
    async publish(batch) {
      if (fail) return { failedIds: batch.map((e) => e.id) };
      events.push(...batch);
      return { failedIds: [] };
    },
  };
  return { events, publisher };
};

describe('the status digest and the blocked count, over HTTP with real payloads', () => {
  let hub: TestHub;
  let tenantId: string;
  let token: string;
  let readToken: string;
  const api = async (path: string, as = token) => hub.api('GET', path, undefined, as);
  const pr40 = pullRequest(40, 'Blocked by ACME-101: the tax service must batch first.', 2);
  const pr41 = pullRequest(41, 'Depends on ACME-102 for the new rates.', 1);

  beforeAll(async () => {
    hub = await startTestHub();
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'digest' })).body;
    ({ id: tenantId, adminToken: token } = tenant);
    readToken = (await hub.api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] }, token)).body.token;
    const teams = await hub.api('PUT', '/v1/teams', { teams: [{ name: 'payments', containers: ['jira:ACME'] }, { name: 'web', containers: [`github:${pr40.repository.full_name.toLowerCase()}`] }] }, token);
    expect(teams.status).toBe(200);
    const jira = await hub.createConnection('jira', token, { site: SITE });
    const github = await hub.createConnection('github', token);
    const sendJira = async (name: CloudFixture) => expect((await postJira(hub.url, jira, shifted(cloudPayload(name)))).status, name).toBe(202);
    for (const name of ['issue-created-acme-101', 'issue-created-acme-102', 'issue-updated-acme-101-in-progress', 'issuelink-created-acme-101-blocks-acme-102'] as const) {
      await sendJira(name);
    }
    for (const pr of [pr40, pr41]) expect((await postGithub(hub.url, github, 'pull_request', pr)).status).toBe(202);
    await settled(hub);

    // Blocked across tools: ACME-102 and PR 40 wait on ACME-101, PR 41 on ACME-102. No status says "blocked".
    const blocked = (await api('/v1/items?blocked=true&limit=200')).body.items.map((i: any) => i.ref).sort();
    expect(blocked).toEqual([jiraRef('ACME-102'), prRef(pr40), prRef(pr41)].sort());
    const summary = (await api('/v1/views/summary')).body;
    expect(summary.byStatus.blocked).toBe(0);
    expect(summary.blocked).toBe(3);

    await sendJira('issue-updated-acme-101-done');
    await settled(hub);
  });
  afterAll(() => hub?.close());

  it('counts blocked work by the derived blocked flag, from the counters, as blockers close', async () => {
    const summary = (await api('/v1/views/summary')).body;
    const blocked = (await api('/v1/items?blocked=true&limit=200')).body.items.map((i: any) => i.ref);
    expect(blocked).toEqual([prRef(pr41)]);
    expect(summary.blocked).toBe(1);
  });

  it('answers what closed, started, became blocked and was unblocked, with owners, across tools', async () => {
    const response = await api('/v1/views/digest', readToken);
    expect(response.status).toBe(200);
    const digest = response.body;
    expect(digest).toMatchObject({ team: null, days: 7 });
    expect(digest.closed.items).toEqual([expect.objectContaining({ ref: jiraRef('ACME-101'), source: 'jira', owner: 'Alana Grant', team: 'payments', status: 'done' })]);
    expect(digest.started.items.map((i: any) => i.ref)).toContain(jiraRef('ACME-101'));
    expect(digest.newlyBlocked.items.map((i: any) => i.ref)).toEqual([prRef(pr41)]);
    expect(digest.unblocked.items.map((i: any) => i.ref).sort()).toEqual([jiraRef('ACME-102'), prRef(pr40)].sort());
    expect(digest.unblocked.count).toBe(2);
    // Alerts raised in the window are the alerts the API lists as opened since then (the unblocked notices apart).
    const alerts = (await api('/v1/alerts?limit=200')).body.items.filter((a: any) => a.kind !== 'unblocked' && a.openedAt >= digest.since);
    expect(digest.alertsRaised.items.map((a: any) => a.id).sort()).toEqual(alerts.map((a: any) => a.id).sort());
    expect(digest.headline).toMatch(/^Last 7 days: 1 closed, \d+ started, 1 newly blocked, 2 unblocked;/);
  });

  it('narrows to the last N days and to one team', async () => {
    const lastDay = (await api('/v1/views/digest?days=1')).body;
    // ACME-101 closed about 8 hours ago, but started about 37 hours ago.
    expect(lastDay.closed.items.map((i: any) => i.ref)).toEqual([jiraRef('ACME-101')]);
    expect(lastDay.started.items.map((i: any) => i.ref)).not.toContain(jiraRef('ACME-101'));

    const payments = (await api('/v1/views/digest?team=payments')).body;
    expect(payments.team).toBe('payments');
    expect(payments.closed.count).toBe(1);
    expect(payments.unblocked.items.map((i: any) => i.ref)).toEqual([jiraRef('ACME-102')]);
    expect(payments.newlyBlocked.count).toBe(0);
    const web = (await api('/v1/views/digest?team=web')).body;
    expect(web.closed.count).toBe(0);
    expect(web.newlyBlocked.items.map((i: any) => i.ref)).toEqual([prRef(pr41)]);
  });

  it('refuses a window outside 1–90 days with 422', async () => {
    for (const days of ['0', '91', 'week']) {
      const response = await api(`/v1/views/digest?days=${days}`);
      expect(response.status, days).toBe(422);
      expect(response.body.errors[0].path).toBe('days');
    }
  });

  it('publishes last week’s digest of the tenant and of each team once, as work.digest.ready, from the sweep', async () => {
    const { week } = previousIsoWeek(new Date());
    const first = await hub.hub.sweepViews();
    expect(first.digests).toMatchObject({ week, published: 3, errors: 0 });
    const again = await hub.hub.sweepViews();
    expect(again.digests).toMatchObject({ done: true, published: 0 });
    const digests = hub.publishedEvents().filter((e) => e.type === 'work.digest.ready' && e.tenantId === tenantId);
    expect(digests.map((e) => e.id).sort()).toEqual([undefined, 'payments', 'web'].map((team) => digestEventId(tenantId, team, week)).sort());
    expect(digests.map((e) => e.subject).sort()).toEqual([`digest:${week}`, `digest:${week}/payments`, `digest:${week}/web`]);
    const tenantWide = digests.find((e) => e.subject === `digest:${week}`)!;
    expect(tenantWide.data).toMatchObject({ week, digest: { team: null, days: 7 } });
  });

  it('publishes each digest once when sweeps overlap, and finishes one whose publishing failed', async () => {
    // Thursday noon of the week `days` from now: the minutes the lease adds below never reach the next week.
    const midweekIn = (days: number) => {
      const at = new Date(Date.now() + days * DAY);
      at.setUTCHours(12, 0, 0, 0);
      at.setUTCDate(at.getUTCDate() - ((at.getUTCDay() + 6) % 7) + 3);
      return at;
    };
    const nextWeek = midweekIn(7);
    const { week } = previousIsoWeek(nextWeek);
    const bus = recording();
    const deps = { db: hub.hub.db, publisher: bus.publisher, log: silent };
    await Promise.all([publishWeeklyDigests({ ...deps, clock: () => nextWeek }), publishWeeklyDigests({ ...deps, clock: () => nextWeek })]);
    const ours = bus.events.filter((e) => e.tenantId === tenantId);
    expect(ours.map((e) => e.id).sort()).toEqual([undefined, 'payments', 'web'].map((team) => digestEventId(tenantId, team, week)).sort());

    // The bus refuses the next week's digests: they stay claimed, and are published after the claim's lease, with the same ids.
    const later = midweekIn(14);
    const failing = await publishWeeklyDigests({ ...deps, publisher: recording(true).publisher, clock: () => later });
    expect(failing.published).toBe(0);
    const withinLease = await publishWeeklyDigests({ ...deps, clock: () => new Date(later.getTime() + 60_000) });
    expect(withinLease.published).toBe(0);
    const retried = recording();
    const afterLease = await publishWeeklyDigests({ ...deps, publisher: retried.publisher, clock: () => new Date(later.getTime() + 6 * 60_000) });
    expect(afterLease.published).toBeGreaterThanOrEqual(3);
    const laterWeek = previousIsoWeek(later).week;
    expect(retried.events.filter((e) => e.tenantId === tenantId).map((e) => e.id).sort()).toEqual(
      [undefined, 'payments', 'web'].map((team) => digestEventId(tenantId, team, laterWeek)).sort(),
    );
    expect(await publishWeeklyDigests({ ...deps, clock: () => new Date(later.getTime() + 7 * 60_000) })).toMatchObject({ published: 0, done: true });
  });

  it('finishes a blocked-count update a crash interrupted, from the sweep', async () => {
    // As if a processor wrote ACME-102's dependency state (blocked again) and stopped before the counter moved.
    const id = itemIdForRef(jiraRef('ACME-102'));
    await hub.hub.db.doc.send(
      new UpdateCommand({
        TableName: hub.hub.db.table,
        Key: keys.dependencyState(tenantId, id),
        UpdateExpression: 'SET blocked = :t, qpk = :q, qsk = :s ADD rev :one',
        ExpressionAttributeValues: { ':t': true, ':q': keys.queue.aggregates, ':s': `2000-01-01T00:00:00.000Z#${keys.item(tenantId, id).pk}`, ':one': 1 },
      }),
    );
    expect((await api('/v1/views/summary')).body.blocked).toBe(1);
    const report = await hub.hub.sweepViews();
    expect(report.blockedCounts).toEqual({ repaired: 1, errors: 0 });
    expect((await api('/v1/views/summary')).body.blocked).toBe(2);
    expect((await hub.hub.sweepViews()).blockedCounts.repaired).toBe(0);
  });
});
