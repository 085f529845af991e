import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLimits } from '../../core/connector.ts';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { sweepStragglers } from '../../pipeline/sweep.ts';
import { runBackfillCommand } from '../../functions/cli-backfill.ts';
import { OPERATOR_TOKEN, type TestHub, eventually, postGithub, settled, startTestHub, uniqueTable } from '../support/hub.ts';
import { FakeGithub } from '../support/fake-github.ts';

/** Time for the backfill clients that only moves when they wait: no test sleeps for real. */
const fakeTime = (): Partial<RequestLimits> => {
  let now = Date.now();
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
};

const credentialsFor = (github: FakeGithub, repos: string[]) => ({
  token: github.token,
  repos,
  apiUrl: github.url,
  pageSize: 2,
  maxRequestsPerSecond: 50,
});

const jobDone = (hub: TestHub, jobId: string, token = OPERATOR_TOKEN) =>
  eventually(
    async () => {
      const { body } = await hub.api('GET', `/v1/jobs/${jobId}`, undefined, token);
      return body.status === 'running' ? undefined : body;
    },
    { what: `job ${jobId} to finish` },
  );

const item = async (hub: TestHub, ref: string) => (await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`)).body;

const eventsOf = (hubs: TestHub[], type: string) => hubs.flatMap((hub) => hub.publishedEvents()).filter((event) => event.type === type);

describe('GitHub backfill and reconciliation over HTTP', () => {
  let github: FakeGithub;
  let hub: TestHub;

  beforeAll(async () => {
    github = await FakeGithub.start();
    hub = await startTestHub({ limits: fakeTime() });
  });
  afterAll(async () => {
    await hub.close();
    await github.close();
  });

  it('fills the index from 3 pages of issues plus pull requests, reports the job, and masks the token', async () => {
    for (let n = 1; n <= 5; n++) github.addIssue('Octo/API', n, { created_at: `2026-01-0${n}T00:00:00Z` });
    github.addIssue('Octo/API', 6, { state: 'closed', state_reason: 'completed', closed_at: new Date().toISOString(), updated_at: new Date().toISOString() });
    github.addPull('Octo/API', 7, { body: 'Closes #1', draft: false });
    const connection = await hub.createConnection('github', undefined, { credentials: credentialsFor(github, ['Octo/API']) });

    const shown = await hub.api('GET', `/v1/connections/${connection.id}`);
    expect(shown.body.settings.credentials).toMatchObject({ token: '********', repos: ['Octo/API'] });
    expect(JSON.stringify((await hub.api('GET', '/v1/connections')).body)).not.toContain(github.token);

    const started = await hub.api('POST', `/v1/connections/${connection.id}/backfill`, {});
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ id: expect.stringMatching(/^job_/), status: 'running', connectionId: connection.id });
    const job = await jobDone(hub, started.body.id);
    expect(job).toMatchObject({ status: 'done', error: null, etaSeconds: 0, counts: { records: 7, applied: 7, duplicates: 0, failed: 0 } });
    expect(job.counts.pages).toBeGreaterThanOrEqual(5);
    expect(job.ratePerSecond).toBeGreaterThan(0);
    expect(github.requests.filter((r) => r.path === '/repos/Octo/API/issues' && r.query.get('state') === 'open').map((r) => r.query.get('page') ?? '1')).toEqual([
      '1',
      '2',
      '3',
    ]);

    await settled(hub);
    const { body } = await hub.api('GET', '/v1/items?container=github:octo/api&limit=50');
    expect(body.items.map((i: any) => i.ref).sort()).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `github:octo/api#${n}`).sort());
    const pull = await item(hub, 'github:octo/api#7');
    expect(pull).toMatchObject({ kind: 'pull_request', status: { category: 'in_review' }, links: [expect.objectContaining({ type: 'implements', target: 'github:octo/api#1' })] });
    expect(eventsOf([hub], 'work.item.created').filter((e) => e.subject.startsWith('github:octo/api#'))).toHaveLength(7);
  });

  it('re-running a backfill emits nothing new, and a webhook for the same state changes nothing', async () => {
    const before = hub.publishedEvents().length;
    const issueBefore = await item(hub, 'github:octo/api#2');
    const connection = (await hub.api('GET', '/v1/connections')).body.items.find((c: any) => c.settings.credentials?.repos?.[0] === 'Octo/API');
    const again = await hub.api('POST', `/v1/connections/${connection.id}/backfill`, { since: '2026-01-01' });
    expect(again.status).toBe(202);
    const job = await jobDone(hub, again.body.id);
    expect(job.counts).toMatchObject({ records: 7, applied: 0, duplicates: 7 });

    // The webhook GitHub would have sent for issue 2, with the very object the API returned.
    const webhookConnection = await hub.createConnection('github');
    const issue = github.repos.get('octo/api')!.issues.find((i) => i.number === 2);
    const response = await postGithub(hub.url, webhookConnection, 'issues', {
      action: 'opened',
      issue,
      repository: { id: 1, full_name: 'Octo/API', html_url: 'https://github.com/Octo/API', name: 'API' },
      sender: issue!.user,
    });
    expect(response.status).toBe(202);
    await settled(hub);
    expect(await item(hub, 'github:octo/api#2')).toEqual(issueBefore);
    expect(hub.publishedEvents().length).toBe(before);
  });

  it('follows a backfill from the CLI with a progress line until it is done', async () => {
    for (let n = 1; n <= 3; n++) github.addIssue('Octo/Cli', n);
    const connection = await hub.createConnection('github', undefined, { credentials: credentialsFor(github, ['Octo/Cli']) });
    const output: string[] = [];
    const job = await runBackfillCommand({ hubUrl: hub.url, token: OPERATOR_TOKEN, connectionId: connection.id, since: '2026-06-01T00:00:00Z', pollMs: 20, write: (t) => output.push(t) });
    expect(job).toMatchObject({ status: 'done', counts: { records: 3 } });
    const text = output.join('');
    expect(text).toContain(`Backfill ${job.id} of ${connection.id} since 2026-06-01T00:00:00Z`);
    expect(text).toMatch(/\[#{24}\] 100% 3 records \(3 new, 0 known, 0 failed\)/);
    expect(text).toContain('Done.');
  });

  it('processes each page once: the local processor leaves the deliveries of a page to the job processing it', async () => {
    for (let n = 1; n <= 6; n++) github.addIssue('Octo/Once', n, { created_at: `2026-04-0${n}T00:00:00Z` });
    const connection = await hub.createConnection('github', undefined, { credentials: credentialsFor(github, ['Octo/Once']) });
    const completedByProcessor = async () => {
      const response = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
      const lines = (await response.text()).split('\n').filter((line) => line.startsWith('tributary_deliveries_completed_total'));
      return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    };
    const before = await completedByProcessor();
    const started = await hub.api('POST', `/v1/connections/${connection.id}/backfill`, {});
    expect(await jobDone(hub, started.body.id)).toMatchObject({ status: 'done', counts: { records: 6, applied: 6 } });
    await settled(hub);
    expect(await completedByProcessor()).toBe(before);
  });

  it('reads a page again after the store failed between recording and processing it, and applies each record once', async () => {
    for (let n = 1; n <= 2; n++) github.addIssue('Octo/Retry', n, { created_at: `2026-03-0${n}T00:00:00Z` });
    const connection = await hub.createConnection('github', undefined, { credentials: credentialsFor(github, ['Octo/Retry']) });
    // Only the job processes what it records here, so the page it reads again finds its records pending.
    await hub.hub.pipeline.processor.stop();
    const { db } = hub.hub;
    const page = (input: unknown) => JSON.stringify(input).includes('octo/retry#1@');
    let recorded = false;
    let failures = 0;
    db.doc.middlewareStack.add(
      (next, context) => async (args: any) => {
        const request = args.input.RequestItems?.[db.table];
        if (context.commandName === 'BatchWriteItemCommand' && page(args.input)) recorded = true;
        // The read of the page's recorded deliveries for processing (the first one after they were written) fails.
        if (recorded && failures === 0 && context.commandName === 'BatchGetItemCommand' && !request?.ProjectionExpression && page(args.input)) {
          failures++;
          throw new Error('the store failed (test)');
        }
        return next(args);
      },
      { step: 'initialize', name: 'testFailPageProcessing' },
    );
    try {
      const started = await hub.api('POST', `/v1/connections/${connection.id}/backfill`, {});
      const job = await jobDone(hub, started.body.id);
      expect(failures).toBe(1);
      // Read twice: recognized the second time, and applied then.
      expect(job).toMatchObject({ status: 'done', counts: { records: 2, applied: 0, duplicates: 2, failed: 0 } });
      await settled(hub);
      const created = eventsOf([hub], 'work.item.created').filter((e) => e.subject.startsWith('github:octo/retry#'));
      expect(created.map((e) => e.subject).sort()).toEqual(['github:octo/retry#1', 'github:octo/retry#2']);
      expect(await item(hub, 'github:octo/retry#1')).toMatchObject({ version: 1 });
    } finally {
      db.doc.middlewareStack.remove('testFailPageProcessing');
      hub.hub.pipeline.processor.start();
    }
  });

  it("evaluates each person's work in progress once the pages are in, not after each page: one alert, raised with the final count", async () => {
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'backfill-wip' })).body as { id: string; adminToken: string };
    const api = (method: string, path: string, body?: unknown) => hub.api(method, path, body, tenant.adminToken);
    expect((await api('PUT', '/v1/settings', { wipLimitPerPerson: 2 })).status).toBe(200);
    const octocat = { login: 'octocat', id: 1, node_id: 'MDQ6VXNlcjE=', type: 'User', site_admin: false, html_url: 'https://github.com/octocat' };
    for (let n = 1; n <= 5; n++) github.addIssue('Octo/Wip', n, { assignee: octocat, assignees: [octocat], created_at: `2026-03-0${n}T00:00:00Z` });
    const connection = await hub.createConnection('github', tenant.adminToken, { credentials: credentialsFor(github, ['Octo/Wip']) });

    const started = await api('POST', `/v1/connections/${connection.id}/backfill`, {});
    // Three pages of two: evaluated after each, the alert would be raised at page 2 with 4 items.
    expect(await jobDone(hub, started.body.id, tenant.adminToken)).toMatchObject({ status: 'done', counts: { records: 5, applied: 5 } });
    await settled(hub);
    const alerts = (await api('GET', '/v1/alerts?kind=wip_over_limit&state=open')).body.items;
    expect(alerts).toEqual([expect.objectContaining({ subjectType: 'person', message: expect.stringMatching(/^octocat has 5 items in progress, over the WIP limit of 2: /) })]);
    const raised = hub.publishedEvents().filter((e) => e.tenantId === tenant.id && e.type === 'work.alert.raised');
    expect(raised.map((e) => (e.data as any).alert.message)).toEqual([alerts[0].message]);
  });

  it('answers 422 for a connection without read credentials', async () => {
    const plain = await hub.createConnection('github');
    const response = await hub.api('POST', `/v1/connections/${plain.id}/backfill`, {});
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'credentials' })]);
  });

  it('resumes an interrupted backfill after a restart from its checkpoint, without duplicate events', async () => {
    const table = uniqueTable('resume');
    for (let n = 1; n <= 6; n++) github.addIssue('Octo/Resume', n, { created_at: `2026-02-0${n}T00:00:00Z` });
    const first = await startTestHub({ env: { TRIBUTARY_TABLE: table }, limits: fakeTime() });
    const connection = await first.createConnection('github', undefined, { credentials: credentialsFor(github, ['Octo/Resume']) });
    const held = github.hold((r) => r.path === '/repos/Octo/Resume/issues' && r.query.get('state') === 'open' && r.query.get('page') === '2');
    const started = await first.api('POST', `/v1/connections/${connection.id}/backfill`, {});
    await held.reached;
    // The hub stops while page 2 is in flight: page 1 is applied and checkpointed, page 2 is not.
    const closing = first.close();
    held.release();
    await closing;

    const second = await startTestHub({ env: { TRIBUTARY_TABLE: table }, limits: fakeTime() });
    try {
      const job = await jobDone(second, started.body.id);
      expect(job).toMatchObject({ status: 'done', counts: { records: 6, failed: 0 } });
      const openPages = github.requests
        .filter((r) => r.path === '/repos/Octo/Resume/issues' && r.query.get('state') === 'open')
        .map((r) => r.query.get('page') ?? '1');
      expect(openPages).toEqual(['1', '2', '2', '3']);
      await settled(second);
      const created = eventsOf([first, second], 'work.item.created').filter((e) => e.subject.startsWith('github:octo/resume#'));
      expect(created.map((e) => e.subject).sort()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `github:octo/resume#${n}`).sort());
      expect(new Set(created.map((e) => e.id)).size).toBe(6);
    } finally {
      await second.close();
    }
  });

  it('heals a missed webhook in one sweep, and tells a deleted issue from one it can no longer read', async () => {
    github.addIssue('Octo/Heal', 1, { title: 'before' });
    github.addIssue('Octo/Heal', 2);
    github.addIssue('Octo/Locked', 1);
    const connection = await hub.createConnection('github', undefined, { credentials: credentialsFor(github, ['Octo/Heal', 'Octo/Locked']) });
    const started = await hub.api('POST', `/v1/connections/${connection.id}/backfill`, {});
    await jobDone(hub, started.body.id);
    await settled(hub);
    expect(await item(hub, 'github:octo/heal#1')).toMatchObject({ title: 'before' });

    // Meanwhile on GitHub: an edit whose webhook never arrived, a deletion, and a revoked repository.
    Object.assign(github.repos.get('octo/heal')!.issues[0]!, { title: 'after', updated_at: new Date().toISOString() });
    github.deleted.add('octo/heal#2');
    github.repos.get('octo/locked')!.refuse = 403;

    const report = await sweepStragglers(
      { db: hub.hub.db, connectors: createConnectorRegistry(), publisher: { publish: async () => ({ failedIds: [] }) }, clock: () => new Date(), log: { info() {}, warn() {}, error() {} } },
      { reconcile: { verifyLimit: 200 } },
    );
    expect(report.reconcile).toMatchObject({ errors: 0 });
    expect(report.reconcile!.connections).toBeGreaterThanOrEqual(1);
    await settled(hub);

    expect(await item(hub, 'github:octo/heal#1')).toMatchObject({ title: 'after' });
    expect(await item(hub, 'github:octo/heal#2')).toMatchObject({ deleted: { reason: 'deleted' } });
    expect(await item(hub, 'github:octo/locked#1')).toMatchObject({ deleted: { reason: 'access_lost' } });
    const deletedEvents = eventsOf([hub], 'work.item.deleted').map((e) => e.subject);
    expect(deletedEvents).toEqual(expect.arrayContaining(['github:octo/heal#2', 'github:octo/locked#1']));
    const listed = (await hub.api('GET', '/v1/items?container=github:octo/heal')).body.items.map((i: any) => i.ref);
    expect(listed).toEqual(['github:octo/heal#1']);

    // A second sweep finds nothing new to say.
    const eventsBefore = hub.publishedEvents().length;
    await sweepStragglers(
      { db: hub.hub.db, connectors: createConnectorRegistry(), publisher: { publish: async () => ({ failedIds: [] }) }, clock: () => new Date(), log: { info() {}, warn() {}, error() {} } },
      { reconcile: { verifyLimit: 200 } },
    );
    await settled(hub);
    expect(hub.publishedEvents().length).toBe(eventsBefore);
  });
});
