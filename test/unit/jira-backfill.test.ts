import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestLimits, SyncPage } from '../../core/connector.ts';
import { jiraBackfill } from '../../connectors/jira/backfill.ts';
import { CLOUD_SITE, cloudPayload, normalizeJira } from '../fixtures/jira-examples.ts';
import { FakeJira } from '../support/fake-jira.ts';

const fakeTime = () => {
  const sleeps: number[] = [];
  let now = Date.now();
  const limits: RequestLimits = {
    maxRequestsPerSecond: 0,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { limits, sleeps };
};

const collect = async (pages: AsyncIterable<SyncPage>) => {
  const out: SyncPage[] = [];
  for await (const page of pages) out.push(page);
  return out;
};

describe('Jira backfill against a Jira-like REST server (real jira.js)', () => {
  let jira: FakeJira;
  const settings = (extra: Record<string, unknown> = {}) => ({
    site: CLOUD_SITE,
    credentials: { email: jira.email, apiToken: jira.apiToken, apiUrl: jira.url, search: 'classic', pageSize: 2, maxRequestsPerSecond: 100, ...extra },
  });
  const since = () => new Date(Date.now() - 30 * 86_400_000).toISOString();

  beforeAll(async () => {
    jira = await FakeJira.start();
  });
  afterAll(() => jira.close());
  beforeEach(() => {
    jira.issues.length = 0;
    jira.requests.length = 0;
    jira.refusedProjects.clear();
    jira.moved.clear();
    for (let n = 1; n <= 5; n++) jira.addIssue(`ACME-${n}`, { created: `2026-01-0${n}T09:00:00.000+0000` });
    jira.addIssue('ACME-6', { done: true, created: '2026-01-09T09:00:00.000+0000', updated: new Date().toISOString().replace('Z', '+0000') });
    jira.addIssue('ACME-7', { done: true, updated: '2024-01-01T09:00:00.000+0000' });
  });

  it('reads open and recently updated issues over 3 pages with startAt and total', async () => {
    const pages = await collect(jiraBackfill.pages({ connection: { id: 'con_j', settings: settings() }, since: since(), limits: fakeTime().limits }));
    const searches = jira.requests.filter((r) => r.path === '/rest/api/2/search');
    expect(searches.map((r) => r.query.get('startAt'))).toEqual(['0', '2', '4']);
    expect(searches[0]!.query.get('jql')).toMatch(/^statusCategory != Done OR updated >= -\d+m ORDER BY created ASC, key ASC$/);
    expect(pages.map((p) => p.remaining)).toEqual([4, 2, 0]);
    expect(pages.at(-1)!.cursor).toBeNull();
    expect(pages.flatMap((p) => p.deliveries).map((d) => d.deliveryId.split('@')[0])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => `sync:jira:${CLOUD_SITE}/ACME-${n}`),
    );
  });

  it('pages Jira Cloud\'s enhanced search with nextPageToken, and resumes from a token', async () => {
    const cloud = settings({ search: undefined, apiUrl: jira.url });
    const pages = await collect(jiraBackfill.pages({ connection: { id: 'con_j', settings: cloud }, since: since(), limits: fakeTime().limits }));
    const searches = jira.requests.filter((r) => r.path === '/rest/api/2/search/jql');
    expect(searches.map((r) => r.query.get('nextPageToken'))).toEqual([null, expect.any(String), expect.any(String)]);
    expect(pages.flatMap((p) => p.deliveries)).toHaveLength(6);
    const resumed = await collect(jiraBackfill.pages({ connection: { id: 'con_j', settings: cloud }, since: since(), cursor: pages[1]!.cursor, limits: fakeTime().limits }));
    expect(resumed.flatMap((p) => p.deliveries).map((d) => d.deliveryId.split('@')[0])).toEqual([5, 6].map((n) => `sync:jira:${CLOUD_SITE}/ACME-${n}`));
  });

  it('indexes a backfilled issue exactly as the webhook that carries the same issue', async () => {
    const pages = await collect(jiraBackfill.pages({ connection: { id: 'con_j', settings: settings() }, since: since(), limits: fakeTime().limits }));
    const delivery = pages[0]!.deliveries[0]!;
    const webhook = { ...cloudPayload('issue-updated-acme-101-in-progress'), issue: jira.issues[0] };
    const fromBackfill = normalizeJira(delivery.payload);
    expect(fromBackfill.outcome).toBe('changes');
    expect(fromBackfill).toEqual(normalizeJira(webhook));
  });

  it('waits out a 429 with Retry-After, then repeats the search', async () => {
    const time = fakeTime();
    jira.intercept(
      (r) => r.path === '/rest/api/2/search' && r.query.get('startAt') === '2',
      (response) => {
        response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '17' });
        response.end(JSON.stringify({ errorMessages: ['Rate limit exceeded.'] }));
      },
    );
    const pages = await collect(jiraBackfill.pages({ connection: { id: 'con_j', settings: settings() }, since: since(), limits: time.limits }));
    expect(pages.flatMap((p) => p.deliveries)).toHaveLength(6);
    expect(time.sleeps).toContain(17_000);
    expect(jira.requests.filter((r) => r.query.get('startAt') === '2')).toHaveLength(2);
  });

  it('resumes from a startAt cursor', async () => {
    const pages = await collect(jiraBackfill.pages({ connection: { id: 'con_j', settings: settings() }, since: since(), cursor: { startAt: 4 }, limits: fakeTime().limits }));
    expect(pages.flatMap((p) => p.deliveries).map((d) => d.deliveryId.split('@')[0])).toEqual([5, 6].map((n) => `sync:jira:${CLOUD_SITE}/ACME-${n}`));
  });

  it('reconciles: a deleted issue, an issue of a project it can no longer read, and a moved issue', async () => {
    jira.issues.splice(jira.issues.findIndex((i) => i.key === 'ACME-2'), 1);
    jira.addIssue('OPS-1');
    jira.refusedProjects.add('OPS');
    const moved = jira.issues.find((i) => i.key === 'ACME-3')!;
    moved.key = 'NEW-3';
    jira.moved.set('ACME-3', 'NEW-3');
    const now = new Date().toISOString();
    const pages = await collect(
      jiraBackfill.reconcile!({
        connection: { id: 'con_j', settings: settings() },
        since: new Date(Date.now() - 3_600_000).toISOString(),
        verify: [`jira:${CLOUD_SITE}/ACME-2`, `jira:${CLOUD_SITE}/OPS-1`, `jira:${CLOUD_SITE}/ACME-3`, 'jira:other.atlassian.net/ACME-1'],
        limits: fakeTime().limits,
        now,
      }),
    );
    expect(jira.requests.filter((r) => r.path === '/rest/api/2/search')[0]!.query.get('jql')).toMatch(/^updated >= -60m ORDER BY updated ASC/);
    const changes = pages.flatMap((p) => p.deliveries).flatMap((d) => {
      const normalized = normalizeJira(d.payload);
      return normalized.outcome === 'changes' ? normalized.changes : [];
    });
    expect(changes).toContainEqual(expect.objectContaining({ op: 'delete', ref: `jira:${CLOUD_SITE}/ACME-2`, reason: 'deleted' }));
    expect(changes).toContainEqual(expect.objectContaining({ op: 'delete', ref: `jira:${CLOUD_SITE}/ACME-3`, reason: 'transferred', movedTo: `jira:${CLOUD_SITE}/NEW-3` }));
    expect(pages.flatMap((p) => p.changes ?? []).map((c) => c.change)).toEqual([{ op: 'delete', ref: `jira:${CLOUD_SITE}/OPS-1`, at: now, reason: 'access_lost' }]);
    expect(jira.requests.map((r) => r.path)).not.toContain('/rest/api/2/issue/ACME-1');
  });
});
