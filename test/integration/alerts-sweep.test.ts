import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../core/events.ts';
import { sweepAlerts } from '../../pipeline/alerts.ts';
import { keys } from '../../store/keys.ts';
import { acquireSweepLease, readSweepLease } from '../../store/sweep-lease.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const SILENT = { info: () => {}, warn: () => {}, error: () => {} };
const PRS = [41, 42, 43];
const LEASE_MS = 60_000;

/** A real pull_request payload blocked by ACME-101, created 2024-03-01 (after the Jira issue). */
const pullRequest = (number: number) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = number;
  payload.pull_request.title = `Retry the tax service, part ${number}`;
  payload.pull_request.body = 'Blocked by ACME-101: the tax service must batch first.';
  payload.pull_request.head.ref = `feature/retry-tax-${number}`;
  payload.pull_request.created_at = new Date(Date.UTC(2024, 2, 1, 10, 0)).toISOString();
  payload.pull_request.updated_at = new Date(Date.UTC(2024, 2, 1, 10, number)).toISOString();
  return payload;
};

describe('the alert sweep: exclusive and resumable', () => {
  let hub: TestHub;
  let now = new Date('2024-03-01T11:00:00.000Z');
  const clock = () => now;
  let tenantId = '';
  let token = '';
  /** What a second scheduled run in another process would use: the same table, its own clock reading. */
  const deps = () => ({ db: hub.hub.db, clock, log: SILENT, onEvents: () => hub.hub.pipeline.publisher.kick() });
  const staleAlerts = async () => (await hub.api('GET', '/v1/alerts?kind=blocker_stale&limit=200', undefined, token)).body.items as any[];
  const staleEvents = (): EventEnvelope[] =>
    hub.publishedEvents().filter((e) => e.tenantId === tenantId && e.type.startsWith('work.alert.') && (e.data as any).alert.kind === 'blocker_stale');

  beforeAll(async () => {
    // A hub of its own: the sweep walks every tenant's open items, and this file counts them.
    hub = await startTestHub({ clock, env: { TRIBUTARY_SWEEP_INTERVAL_SECONDS: '0' } });
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'sweep' })).body as { id: string; adminToken: string };
    tenantId = tenant.id;
    token = tenant.adminToken;
    const jira = await hub.createConnection('jira', token, { site: 'acme.atlassian.net' });
    const github = await hub.createConnection('github', token);
    expect((await postJira(hub.url, jira, cloudPayload('issue-created-acme-101'))).status).toBe(202);
    for (const number of PRS) expect((await postGithub(hub.url, github, 'pull_request', pullRequest(number))).status).toBe(202);
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('keeps a dependency state row only for items that need one: the blocked pull requests, not the issue that blocks them', async () => {
    const items = (await hub.api('GET', '/v1/items?limit=50', undefined, token)).body.items as { id: string; source: string }[];
    const hasState = async (id: string) =>
      (await hub.hub.db.doc.send(new GetCommand({ TableName: hub.hub.db.table, Key: keys.dependencyState(tenantId, id), ConsistentRead: true }))).Item !== undefined;
    expect(await Promise.all(items.filter((i) => i.source === 'github').map((i) => hasState(i.id)))).toEqual(PRS.map(() => true));
    expect(await Promise.all(items.filter((i) => i.source === 'jira').map((i) => hasState(i.id)))).toEqual([false]);
  });

  it('lets one of two sweeps started at once walk the open items; the other stands down, and no alert is raised twice', async () => {
    now = new Date('2024-03-07T10:00:00.000Z');
    const reports = await Promise.all([sweepAlerts(deps(), { owner: 'run-a', leaseMs: LEASE_MS }), sweepAlerts(deps(), { owner: 'run-b', leaseMs: LEASE_MS })]);
    await settled(hub);

    expect(reports.filter((r) => r.skipped === 'busy')).toHaveLength(1);
    const [ran] = reports.filter((r) => r.skipped === undefined);
    // The Jira issue (which has no dependency state row) and the three pull requests: each evaluated once.
    expect(ran).toMatchObject({ evaluated: 1 + PRS.length, errors: 0, complete: true });
    expect(await staleAlerts()).toHaveLength(PRS.length);
    expect(staleEvents().map((e) => e.type)).toEqual(PRS.map(() => 'work.alert.raised'));
    // Released: the next run need not wait for the lease to expire.
    expect((await readSweepLease(hub.hub.db, 'alerts')).owner).toBeUndefined();
  });

  it('stays idempotent when two sweeps do run back to back over the same items', async () => {
    now = new Date('2024-03-08T10:00:00.000Z');
    const first = await sweepAlerts(deps(), { owner: 'run-c', leaseMs: LEASE_MS });
    const second = await sweepAlerts(deps(), { owner: 'run-d', leaseMs: LEASE_MS });
    await settled(hub);
    expect([first.evaluated, second.evaluated]).toEqual([1 + PRS.length, 1 + PRS.length]);
    expect(await staleAlerts()).toHaveLength(PRS.length);
    expect(staleEvents()).toHaveLength(PRS.length);
  });

  it('resumes after the last item a run recorded: when it stopped at its limit, and when it died holding the lease', async () => {
    now = new Date('2024-03-09T10:00:00.000Z');
    // A run that may evaluate two items records where it stopped.
    const partial = await sweepAlerts(deps(), { owner: 'run-e', leaseMs: LEASE_MS, limit: 2, pageSize: 1 });
    expect(partial).toMatchObject({ evaluated: 2, complete: false });
    const { cursor } = await readSweepLease(hub.hub.db, 'alerts');
    expect(cursor).toBeDefined();

    // The next run takes the lease and dies after recording nothing more: its lease stays.
    expect(await acquireSweepLease(hub.hub.db, 'alerts', 'run-crashed', now, LEASE_MS)).toMatchObject({ cursor });
    // While it is live, another run stands down.
    expect(await sweepAlerts(deps(), { owner: 'run-f', leaseMs: LEASE_MS })).toMatchObject({ skipped: 'busy', evaluated: 0 });

    // Once it expired, the next run takes over after the cursor and finishes the round.
    now = new Date(now.getTime() + LEASE_MS + 1000);
    const resumed = await sweepAlerts(deps(), { owner: 'run-g', leaseMs: LEASE_MS });
    expect(resumed).toMatchObject({ resumedFrom: cursor, evaluated: 1 + PRS.length - 2, complete: true });

    // A complete round starts the next one from the beginning.
    const fresh = await sweepAlerts(deps(), { owner: 'run-h', leaseMs: LEASE_MS });
    expect(fresh).toMatchObject({ evaluated: 1 + PRS.length, complete: true });
    expect(fresh.resumedFrom).toBeUndefined();
    await settled(hub);
    expect(staleEvents()).toHaveLength(PRS.length);
  });
});
