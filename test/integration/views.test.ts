import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { CLOSED_STATUSES } from '../../core/work-item.ts';
import { keys } from '../../store/keys.ts';
import { AGGREGATE_SHARDS, repairAggregates, shardOf } from '../../store/aggregates.ts';
import { sweepStragglers } from '../../pipeline/sweep.ts';
import { githubExample, githubExamples } from '../fixtures/github-examples.ts';
import { CLOUD_HISTORY, cloudPayload } from '../fixtures/jira-examples.ts';
import { seededRandom, shuffled } from '../fixtures/work-items.ts';
import { emailFixture, tributarySignature } from '../support/email.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const DAY = 86_400_000;
const MAILBOX = 'support@acme.example';
const EMAILS = ['request-multipart-qp.eml', 'request-html-only.eml', 'request-latin1.eml', 'reply-from-requester.eml'];

type Delivery = () => Promise<{ status: number }>;

/** A pull request opened `openedDaysAgo` days ago and (optionally) merged `mergedDaysAgo` days ago. */
const pullRequest = (number: number, openedDaysAgo: number, mergedDaysAgo?: number) => {
  const at = (days: number) => new Date(Date.now() - days * DAY).toISOString();
  const opened = githubExample('pull_request', 'opened').payload as any;
  Object.assign(opened.pull_request, { number, title: `Flow PR ${number}`, draft: false, created_at: at(openedDaysAgo), updated_at: at(openedDaysAgo) });
  opened.number = number;
  if (mergedDaysAgo === undefined) return [opened];
  const merged = structuredClone(opened);
  merged.action = 'closed';
  Object.assign(merged.pull_request, { state: 'closed', merged: true, merged_at: at(mergedDaysAgo), closed_at: at(mergedDaysAgo), updated_at: at(mergedDaysAgo) });
  return [opened, merged];
};

describe('views over a mixed dataset ingested through the webhooks', () => {
  let hub: TestHub;
  let token: string;
  let tenantId: string;
  /** every delivery of the dataset, replayable with fresh delivery ids */
  const deliveries: Delivery[] = [];
  const api = async (path: string) => (await hub.api('GET', path, undefined, token)).body;
  const allItems = async () => {
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api(`/v1/items?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  };

  beforeAll(async () => {
    hub = await startTestHub();
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'views' })).body;
    token = tenant.adminToken;
    tenantId = tenant.id;
    const github = await hub.createConnection('github', token);
    const jira = await hub.createConnection('jira', token, { site: 'acme.atlassian.net' });
    const email = await hub.createConnection('email', token, { provider: 'raw', address: MAILBOX, team: 'support' });
    for (const example of [...githubExamples('issues'), ...githubExamples('pull_request')]) {
      deliveries.push(() => postGithub(hub.url, github, example.event, example.payload));
    }
    for (const [i, payload] of [pullRequest(9001, 5, 1), pullRequest(9002, 10, 2), pullRequest(9003, 3)].flat().entries()) {
      deliveries.push(() => postGithub(hub.url, github, 'pull_request', payload, { deliveryId: `flow-${i}-${crypto.randomUUID()}` }));
    }
    for (const name of CLOUD_HISTORY) deliveries.push(() => postJira(hub.url, jira, cloudPayload(name)));
    for (const name of EMAILS) {
      const message = emailFixture(name);
      deliveries.push(async () => {
        const response = await fetch(`${hub.url}/hooks/email/${email.id}`, {
          method: 'POST',
          headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(message, email.secret) },
          body: new Uint8Array(message),
        });
        await response.text();
        return response;
      });
    }
    for (const deliver of deliveries) expect((await deliver()).status).toBeLessThan(300);
    await settled(hub);
  });
  afterAll(() => hub.close());

  /** The summary's numbers counted independently from the item list. */
  const countedFromItems = async () => {
    const items = await allItems();
    const open = items.filter((i) => !CLOSED_STATUSES.has(i.status.category));
    const count = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
    return {
      total: items.length,
      open: open.length,
      unowned: open.filter((i) => i.owners.length === 0).length,
      // the derived flag (an open blocker in any tool), as the list reports it; not the status category
      blocked: open.filter((i) => i.blocked).length,
      bySource: count(items.map((i) => i.source)),
      byStatus: count(items.map((i) => i.status.category)),
      byCategory: count(items.map((i) => i.category)),
      byTeam: count(open.map((i) => i.team ?? '(none)')),
    };
  };

  const expectSummaryToMatchItems = async () => {
    const summary = await api('/v1/views/summary');
    const counted = await countedFromItems();
    expect(summary).toMatchObject({ total: counted.total, open: counted.open, unowned: counted.unowned, blocked: counted.blocked });
    expect(summary.bySource).toEqual({ github: 0, jira: 0, email: 0, ...counted.bySource });
    expect(Object.fromEntries(Object.entries(summary.byStatus).filter(([, n]) => n !== 0))).toEqual(counted.byStatus);
    expect(Object.fromEntries(Object.entries(summary.byCategory).filter(([, n]) => n !== 0))).toEqual(counted.byCategory);
    expect(Object.fromEntries(summary.byTeam.map((t: any) => [t.team, t.open]))).toEqual(counted.byTeam);
    return summary;
  };

  it('summarizes work from every tool: status, source, category, team, open, unowned, created vs closed', async () => {
    const summary = await expectSummaryToMatchItems();
    expect(summary.bySource.github).toBeGreaterThan(0);
    expect(summary.bySource.jira).toBeGreaterThan(0);
    expect(summary.bySource.email).toBeGreaterThan(0);
    expect(summary.byCategory.request).toBeGreaterThan(0);
    expect(summary.byTeam.map((t: any) => t.team)).toContain('support');
    expect(summary.unplannedShare).toBeGreaterThan(0);
    // The flow PRs: three opened within 10 days, two merged within the week.
    expect(summary.createdVsClosed.last7Days).toMatchObject({ created: expect.any(Number), closed: 2 });
    expect(summary.createdVsClosed.last30Days.created).toBeGreaterThanOrEqual(3);
    expect(summary.stale).toBeGreaterThan(0); // the examples' activity is years old
  });

  it('keeps the summary exact when every delivery is replayed, in order and then shuffled', async () => {
    const before = await api('/v1/views/summary');
    for (const deliver of deliveries) await deliver();
    await settled(hub);
    expect({ ...(await api('/v1/views/summary')), asOf: undefined }).toEqual({ ...before, asOf: undefined });
    // Out of order, the examples' shared timestamps may settle items differently: the counters follow the items.
    for (const deliver of shuffled(deliveries, seededRandom(7))) await deliver();
    await settled(hub);
    await expectSummaryToMatchItems();
  });

  it('repairs counters in the sweep after a writer stopped between its contribution and its counters', async () => {
    const exact = await api('/v1/views/summary');
    const [victim] = await allItems();
    const shard = shardOf(victim.id);
    // A crash after swapping the contribution row: the counters miss its delta, and the row is still queued.
    await hub.hub.db.doc.send(
      new UpdateCommand({
        TableName: hub.hub.db.table,
        Key: keys.aggregateShard(tenantId, shard),
        UpdateExpression: 'ADD #all :n, #open :n',
        ExpressionAttributeNames: { '#all': 'c:all', '#open': 'c:open' },
        ExpressionAttributeValues: { ':n': -1 },
      }),
    );
    await hub.hub.db.doc.send(
      new UpdateCommand({
        TableName: hub.hub.db.table,
        Key: keys.contribution(tenantId, shard, victim.id),
        UpdateExpression: 'SET qpk = :q, qsk = :s',
        ExpressionAttributeValues: { ':q': keys.queue.aggregates, ':s': `2020-01-01T00:00:00.000Z#${keys.contribution(tenantId, shard, victim.id).pk}` },
      }),
    );
    expect((await api('/v1/views/summary')).total).toBe(exact.total - 1);

    const report = await sweepStragglers({
      db: hub.hub.db,
      connectors: createConnectorRegistry(),
      publisher: { publish: async () => {} } as any,
      clock: () => new Date(),
      log: { info: () => {}, warn: () => {}, error: () => {} } as any,
    });
    expect(report.aggregates).toEqual({ repaired: 1 });
    expect({ ...(await api('/v1/views/summary')), asOf: undefined }).toEqual({ ...exact, asOf: undefined });
  });

  it('recomputes every shard of a tenant to the same counters', async () => {
    const exact = await api('/v1/views/summary');
    const outcomes = await repairAggregates(hub.hub.db, tenantId, { now: new Date() });
    expect(outcomes).toEqual(Array(AGGREGATE_SHARDS).fill('repaired'));
    expect({ ...(await api('/v1/views/summary')), asOf: undefined }).toEqual({ ...exact, asOf: undefined });
  });

  it('shows work in progress per person and per team, against a WIP limit', async () => {
    const items = await allItems();
    const wip = items.filter((i) => ['in_progress', 'in_review', 'blocked'].includes(i.status.category));
    const workload = await api('/v1/views/workload?personLimit=1');
    expect(workload.teams.reduce((n: number, t: any) => n + t.wip, 0)).toBe(wip.length);
    expect(workload.unowned).toBe(wip.filter((i) => i.owners.length === 0).length);
    for (const person of workload.people) {
      expect(person.wip).toBe(wip.filter((i) => i.owners.some((o: any) => o.id === person.personId)).length);
      expect(person.overLimit).toBe(person.wip > 1);
      expect(person.limit).toBe(1);
    }
  });

  it('measures throughput per week, cycle time from start to close, and the age of open work', async () => {
    const flow = await api('/v1/views/flow?weeks=4');
    expect(flow.throughputPerWeek ?? flow.overall.throughputPerWeek).toHaveLength(4);
    expect(flow.overall.closed).toBe(2);
    expect(flow.overall.throughputPerWeek.reduce((n: number, w: any) => n + w.closed, 0)).toBe(2);
    // PR 9001: in review 5 days ago, merged 1 day ago → 96 h; PR 9002: 10 → 2 days ago → 192 h.
    expect(flow.overall.cycleTimeHours).toEqual({ count: 2, p50: 96, p85: 192 });
    expect(flow.overall.aging.oldest.map((o: any) => o.title)).toContain('Flow PR 9003');
    expect(flow.byCategory.project.closed).toBe(2);
  });

  it('refuses views without a token, and validates their parameters', async () => {
    expect((await fetch(`${hub.url}/v1/views/summary`)).status).toBe(401);
    expect((await hub.api('GET', '/v1/views/flow?weeks=0', undefined, token)).status).toBe(422);
  });
});
