import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestLimits, SyncPage } from '../../core/connector.ts';
import { githubBackfill } from '../../connectors/github/backfill.ts';
import { normalizeGithubDelivery } from '../../connectors/github/normalize.ts';
import { progressLine, parseSince } from '../../functions/cli-backfill.ts';
import { FakeGithub } from '../support/fake-github.ts';

const context = { connection: { id: 'con_1', settings: {} }, jiraProjects: {} };

/** A clock that only moves when the code under test sleeps. */
const fakeTime = (start = Date.parse('2026-11-20T12:00:00Z')) => {
  const sleeps: number[] = [];
  let now = start;
  const limits: RequestLimits = {
    maxRequestsPerSecond: 0,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { limits, sleeps, now: () => now };
};

const collect = async (pages: AsyncIterable<SyncPage>): Promise<SyncPage[]> => {
  const out: SyncPage[] = [];
  for await (const page of pages) out.push(page);
  return out;
};

const deliveryOf = (event: string, payload: unknown) => ({
  event,
  headers: {},
  body: new TextEncoder().encode(JSON.stringify(payload)),
  receivedAt: '2026-11-20T12:00:00.000Z',
});

describe('GitHub backfill against a GitHub-like REST server (real Octokit)', () => {
  let github: FakeGithub;
  const settings = () => ({
    credentials: { token: github.token, repos: ['Octo/API'], apiUrl: github.url, pageSize: 2, maxRequestsPerSecond: 100 },
  });

  beforeAll(async () => {
    github = await FakeGithub.start();
  });
  afterAll(() => github.close());
  beforeEach(() => {
    github.repos.clear();
    github.requests.length = 0;
    github.deleted.clear();
    github.moved.clear();
    for (let n = 1; n <= 5; n++) github.addIssue('Octo/API', n, { created_at: `2026-01-0${n}T00:00:00Z` });
    github.addIssue('Octo/API', 6, { state: 'closed', state_reason: 'completed', closed_at: '2026-11-02T00:00:00Z', updated_at: '2026-11-02T00:00:00Z' });
    github.addIssue('Octo/API', 7, { state: 'closed', closed_at: '2025-01-02T00:00:00Z', updated_at: '2025-01-02T00:00:00Z' });
    github.addPull('Octo/API', 8, { body: 'Fixes #1' });
    github.addPull('Octo/API', 9, { state: 'closed', merged_at: '2026-11-03T00:00:00Z', closed_at: '2026-11-03T00:00:00Z', updated_at: '2026-11-03T00:00:00Z' });
    github.addPull('Octo/API', 10, { state: 'closed', closed_at: '2025-02-01T00:00:00Z', updated_at: '2025-02-01T00:00:00Z' });
  });

  it('reads open issues over 3 pages by following Link headers, then recent closed issues and pull requests', async () => {
    const { limits } = fakeTime();
    const pages = await collect(githubBackfill.pages({ connection: { id: 'con_1', settings: settings() }, since: '2026-08-01T00:00:00Z', limits }));
    const openIssueRequests = github.requests.filter((r) => r.path === '/repos/Octo/API/issues' && r.query.get('state') === 'open');
    expect(openIssueRequests.map((r) => r.query.get('page') ?? '1')).toEqual(['1', '2', '3']);
    const ids = pages.flatMap((p) => p.deliveries.map((d) => d.deliveryId));
    expect(ids).toEqual([
      'sync:issue:octo/api#1@2026-11-01T00:00:00Z',
      'sync:issue:octo/api#2@2026-11-01T00:00:00Z',
      'sync:issue:octo/api#3@2026-11-01T00:00:00Z',
      'sync:issue:octo/api#4@2026-11-01T00:00:00Z',
      'sync:issue:octo/api#5@2026-11-01T00:00:00Z',
      'sync:issue:octo/api#6@2026-11-02T00:00:00Z',
      'sync:pull:octo/api#8@2026-11-01T00:00:00Z',
      'sync:pull:octo/api#9@2026-11-03T00:00:00Z',
    ]);
    // Only the last page says the run is complete; the first says how much of the listing is left.
    expect(pages.at(-1)!.cursor).toBeNull();
    expect(pages.slice(0, -1).every((p) => p.cursor !== null)).toBe(true);
    expect(pages[0]!.remaining).toBe(4);
    expect(new Set(github.requests.map((r) => r.authorization))).toEqual(new Set([`token ${github.token}`]));
  });

  it('indexes a backfilled record exactly as the webhook that reports it', async () => {
    const { limits } = fakeTime();
    const pages = await collect(githubBackfill.pages({ connection: { id: 'con_1', settings: settings() }, since: '2026-08-01T00:00:00Z', limits }));
    const deliveries = pages.flatMap((p) => p.deliveries);
    const issue = deliveries.find((d) => d.deliveryId.startsWith('sync:issue:octo/api#1@'))!;
    const pull = deliveries.find((d) => d.deliveryId.startsWith('sync:pull:octo/api#8@'))!;
    const repository = { full_name: 'Octo/API', html_url: 'https://github.com/Octo/API', id: 1, updated_at: '2026-01-01T00:00:00Z' };
    const webhookIssue = { action: 'opened', issue: github.repos.get('octo/api')!.issues[0], repository };
    const webhookPull = { action: 'opened', pull_request: { ...github.repos.get('octo/api')!.pulls[0], merged: false }, repository };

    const fromBackfill = normalizeGithubDelivery(deliveryOf(issue.event, issue.payload), context);
    expect(fromBackfill).toEqual(normalizeGithubDelivery(deliveryOf('issues', webhookIssue), context));
    const pullFromBackfill = normalizeGithubDelivery(deliveryOf(pull.event, pull.payload), context);
    expect(pullFromBackfill).toEqual(normalizeGithubDelivery(deliveryOf('pull_request', webhookPull), context));
    expect(pullFromBackfill).toMatchObject({ changes: [{ item: { ref: 'github:octo/api#8', links: [expect.objectContaining({ type: 'implements', target: 'github:octo/api#1' })] } }] });
  });

  it('resumes from a page cursor without reading the earlier pages again', async () => {
    const { limits } = fakeTime();
    const first = githubBackfill.pages({ connection: { id: 'con_1', settings: settings() }, since: '2026-08-01T00:00:00Z', limits })[Symbol.asyncIterator]();
    const page1 = (await first.next()).value as SyncPage;
    await first.return?.();
    github.requests.length = 0;
    const rest = await collect(githubBackfill.pages({ connection: { id: 'con_1', settings: settings() }, since: '2026-08-01T00:00:00Z', cursor: page1.cursor, limits }));
    expect(github.requests[0]!.query.get('page')).toBe('2');
    expect(rest.flatMap((p) => p.deliveries).map((d) => d.deliveryId)).not.toContain(page1.deliveries[0]!.deliveryId);
    expect(page1.deliveries.length + rest.flatMap((p) => p.deliveries).length).toBe(8);
  });

  it('waits until the primary rate limit resets, then repeats the request', async () => {
    const time = fakeTime();
    const reset = Math.floor(time.now() / 1000) + 30;
    github.intercept(
      (r) => r.query.get('page') === '2',
      (response) => {
        response.writeHead(403, { 'content-type': 'application/json', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) });
        response.end(JSON.stringify({ message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' }));
      },
    );
    const waits: number[] = [];
    const pages = await collect(
      githubBackfill.pages({ connection: { id: 'con_1', settings: settings() }, since: '2026-08-01T00:00:00Z', limits: { ...time.limits, onWait: (ms) => waits.push(ms) } }),
    );
    expect(pages.flatMap((p) => p.deliveries)).toHaveLength(8);
    expect(github.requests.filter((r) => r.query.get('page') === '2' && r.query.get('state') === 'open')).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(30_000);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30_000);
    expect(time.now()).toBeGreaterThanOrEqual(reset * 1000);
  });

  it('honours retry-after on a secondary rate limit, and paces requests to the configured rate', async () => {
    const time = fakeTime();
    github.intercept(
      (r) => r.path === '/repos/Octo/API/pulls',
      (response) => {
        response.writeHead(403, { 'content-type': 'application/json', 'retry-after': '60' });
        response.end(JSON.stringify({ message: 'You have exceeded a secondary rate limit.' }));
      },
    );
    const limited = { credentials: { ...settings().credentials, maxRequestsPerSecond: 2 } };
    await collect(githubBackfill.pages({ connection: { id: 'con_1', settings: limited }, since: '2026-08-01T00:00:00Z', limits: time.limits }));
    expect(time.sleeps).toContain(60_000);
    // 2 requests per second: every request after the first waits its 500 ms slot.
    expect(time.sleeps.filter((ms) => ms === 500).length).toBeGreaterThanOrEqual(github.requests.length - 3);
  });

  it('fails with an access error on bad credentials instead of retrying', async () => {
    const { limits } = fakeTime();
    const bad = { credentials: { ...settings().credentials, token: 'ghp_wrong' } };
    await expect(collect(githubBackfill.pages({ connection: { id: 'con_1', settings: bad }, since: '2026-08-01T00:00:00Z', limits }))).rejects.toMatchObject({
      name: 'SourceAccessError',
      status: 401,
    });
  });

  it('reconciles: tells a deleted issue (410, or 404 in a readable repository) from access lost (403) and a transfer (301)', async () => {
    const { limits } = fakeTime();
    github.deleted.add('octo/api#2');
    github.repo('Octo/API').issues = github.repo('Octo/API').issues.filter((i) => i.number !== 3);
    github.addIssue('Octo/Web', 1, { title: 'moved here' });
    github.moved.set('octo/api#4', `${github.url}/repos/Octo/Web/issues/1`);
    github.addIssue('Octo/Secret', 1);
    github.repo('Octo/Secret').refuse = 403;
    const both = { credentials: { ...settings().credentials, repos: ['Octo/API', 'Octo/Secret'] } };
    const pages = await collect(
      githubBackfill.reconcile!({
        connection: { id: 'con_1', settings: both },
        since: '2026-11-02T00:00:00Z',
        // octo/other#1 belongs to another connection: never checked by this one.
        verify: ['github:octo/api#1', 'github:octo/api#2', 'github:octo/api#3', 'github:octo/api#4', 'github:octo/secret#1', 'github:octo/other#1'],
        limits,
        now: '2026-11-20T12:00:00.000Z',
      }),
    );
    const changes = pages
      .flatMap((p) => p.deliveries)
      .flatMap((d) => {
        const normalized = normalizeGithubDelivery(deliveryOf(d.event, d.payload), context);
        return normalized.outcome === 'changes' ? normalized.changes : [];
      });
    const direct = pages.flatMap((p) => p.changes ?? []).map((c) => c.change);
    expect(changes).toContainEqual(expect.objectContaining({ op: 'delete', ref: 'github:octo/api#2', reason: 'deleted' }));
    expect(changes).toContainEqual(expect.objectContaining({ op: 'delete', ref: 'github:octo/api#3', reason: 'deleted' }));
    expect(changes).toContainEqual(expect.objectContaining({ op: 'delete', ref: 'github:octo/api#4', reason: 'transferred', movedTo: 'github:octo/web#1' }));
    expect(changes).toContainEqual(expect.objectContaining({ op: 'upsert', item: expect.objectContaining({ ref: 'github:octo/web#1', title: 'moved here' }) }));
    expect(direct).toEqual([{ op: 'delete', ref: 'github:octo/secret#1', at: '2026-11-20T12:00:00.000Z', reason: 'access_lost' }]);
    expect(github.requests.map((r) => r.path)).not.toContain('/repos/octo/other/issues/1');
    // Recently changed items come from the `since` listings.
    expect(changes.filter((c) => c.op === 'upsert').map((c) => (c.op === 'upsert' ? c.item.ref : ''))).toEqual(
      expect.arrayContaining(['github:octo/api#6', 'github:octo/api#9']),
    );
  });
});

describe('the backfill progress line', () => {
  const job = {
    id: 'job_1',
    status: 'running' as const,
    counts: { pages: 3, records: 250, applied: 240, duplicates: 10, failed: 0 },
    remaining: 750,
    ratePerSecond: 12.5,
    etaSeconds: 60,
    waitingUntil: null,
    error: null,
  };

  it('shows a bar, counts, rate and ETA when the tool tells how much is left', () => {
    expect(progressLine(job)).toBe('[######..................] 25% 250 records (240 new, 10 known, 0 failed) · 3 pages · 12.5/s · ETA 1m0s');
  });

  it('says when a rate limit holds the job, and leaves the bar out when the total is unknown', () => {
    const now = Date.parse('2026-11-20T12:00:00Z');
    const waiting = { ...job, remaining: null, etaSeconds: null, waitingUntil: '2026-11-20T12:00:30Z' };
    expect(progressLine(waiting, now)).toBe('250 records (240 new, 10 known, 0 failed) · 3 pages · 12.5/s · rate limited, resumes in 30s');
  });

  it('reads --since as a date, a time or a duration back from now', () => {
    const now = new Date('2026-11-20T12:00:00Z');
    expect(parseSince('30d', now)).toBe('2026-10-21T12:00:00.000Z');
    expect(parseSince('12h', now)).toBe('2026-11-20T00:00:00.000Z');
    expect(parseSince('2026-01-01', now)).toBe('2026-01-01');
    expect(() => parseSince('yesterday', now)).toThrow(/not a date/);
  });
});
