import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { email } from '../../connectors/email/index.ts';
import { github } from '../../connectors/github/index.ts';
import { jira } from '../../connectors/jira/index.ts';
import type { Connector } from '../../core/connector.ts';
import { listAuditLog } from '../../store/audit.ts';
import { githubExample, githubExamples } from '../fixtures/github-examples.ts';
import { OPERATOR_TOKEN, type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';

/**
 * The GitHub connector with a bug that can be fixed while the hub runs: while `bug.on`, its
 * normalizer rejects `issues` deliveries the way a too-strict payload schema would (a zod error on
 * `issue.number`). Pull requests normalize as usual.
 */
const bug = { on: true };
const buggyGithub: Connector = {
  ...github,
  normalize(delivery, context) {
    if (bug.on && delivery.event === 'issues') {
      z.object({ issue: z.object({ number: z.string() }) }).parse(JSON.parse(new TextDecoder().decode(delivery.body)));
    }
    return github.normalize(delivery, context);
  },
};

type Connection = { id: string; secret: string };

/** An `issues.opened` delivery for issue `number`, updated at minute `minute` of 2031. */
const issueOpened = (number: number, minute = 0) => {
  const payload = githubExample('issues', 'opened').payload as any;
  payload.issue.number = number;
  payload.issue.title = `Issue ${number}`;
  payload.issue.updated_at = new Date(Date.UTC(2031, 0, 1, 0, minute)).toISOString();
  return payload;
};
const issueRef = (payload: any) => `github:${String(payload.repository.full_name).toLowerCase()}#${payload.issue.number}`;

const pullRequestOpened = (number: number) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = number;
  payload.pull_request.title = `Pull request ${number}`;
  return payload;
};
const pullRequestRef = (payload: any) => `github:${String(payload.repository.full_name).toLowerCase()}#${payload.pull_request.number}`;

describe('failed deliveries and retries', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ connectors: [buggyGithub, jira, email] });
  });
  afterAll(() => hub.close());

  /** Counts the Query calls the hub sends about `subject` (a connection id) until `stop()`. */
  const countQueries = (subject: string) => {
    let count = 0;
    const name = `countQueries${Math.random()}`;
    hub.hub.appDb.doc.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand' && JSON.stringify(args.input).includes(subject)) count++;
        return next(args);
      },
      { step: 'initialize', name },
    );
    return {
      stop: () => {
        hub.hub.appDb.doc.middlewareStack.remove(name);
        return count;
      },
    };
  };

  /** A tenant of its own, so the listings of one case do not see another's deliveries. */
  const newTenant = async (name: string) => {
    const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { id: string; adminToken: string };
    const token = tenant.adminToken;
    return {
      id: tenant.id,
      token,
      github: () => hub.createConnection('github', token) as Promise<Connection>,
      api: (method: string, path: string, body?: unknown) => hub.api(method, path, body, token),
      deliveries: async (query = '') => (await hub.api('GET', `/v1/deliveries${query}`, undefined, token)).body,
    };
  };

  it('parks a delivery its normalizer rejects as failed, with the field path, and processes the ones behind it', async () => {
    bug.on = true;
    const tenant = await newTenant('parks');
    const connection = await tenant.github();
    const issue = issueOpened(501);
    const pullRequest = pullRequestOpened(502);
    const rejected = await postGithub(hub.url, connection, 'issues', issue);
    expect(rejected.status).toBe(202);
    expect((await postGithub(hub.url, connection, 'pull_request', pullRequest)).status).toBe(202);
    await settled(hub);

    // The pull request behind the failed delivery is indexed.
    expect((await tenant.api('GET', `/v1/items/${encodeURIComponent(pullRequestRef(pullRequest))}`)).status).toBe(200);
    expect((await tenant.api('GET', `/v1/items/${encodeURIComponent(issueRef(issue))}`)).status).toBe(404);

    const failed = await tenant.deliveries('?status=failed');
    expect(failed.items).toHaveLength(1);
    expect(failed.items[0]).toMatchObject({
      id: expect.stringMatching(/^dlv_/),
      source: 'github',
      connectionId: connection.id,
      event: 'issues',
      deliveryId: rejected.body.deliveryId,
      status: 'failed',
      attempts: 0,
      processedAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    expect(failed.items[0].reason).toContain('issue.number');
    const processed = await tenant.deliveries('?status=processed');
    expect(processed.items.map((d: any) => d.event)).toEqual(['pull_request']);
    // One delivery, by its id.
    expect((await tenant.api('GET', `/v1/deliveries/${failed.items[0].id}`)).body).toEqual(failed.items[0]);
  });

  it('processes a failed delivery again after the fix, once, and answers 409 to a retry of what is processed', async () => {
    bug.on = true;
    const tenant = await newTenant('retry');
    const connection = await tenant.github();
    const issue = issueOpened(601);
    await postGithub(hub.url, connection, 'issues', issue);
    await settled(hub);
    const [failed] = (await tenant.deliveries('?status=failed')).items;
    expect(failed).toBeDefined();

    bug.on = false; // the fix is deployed
    const retried = await tenant.api('POST', `/v1/deliveries/${failed.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: failed.id, status: 'pending', attempts: 0, reason: null, expiresAt: null });
    await settled(hub);

    const item = await eventually(async () => {
      const response = await tenant.api('GET', `/v1/items/${encodeURIComponent(issueRef(issue))}`);
      return response.status === 200 ? response.body : undefined;
    });
    expect(item).toMatchObject({ ref: issueRef(issue), title: 'Issue 601' });
    expect((await tenant.api('GET', `/v1/deliveries/${failed.id}`)).body).toMatchObject({ status: 'processed', reason: null });
    expect(hub.publishedEvents().filter((e) => e.tenantId === tenant.id && e.type === 'work.item.created')).toHaveLength(1);

    const again = await tenant.api('POST', `/v1/deliveries/${failed.id}/retry`);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body).toMatchObject({ type: expect.stringContaining('delivery-processed'), detail: expect.stringContaining('/v1/replay') });

    const audit = await listAuditLog(hub.hub.db, tenant.id, { limit: 10 });
    expect(audit.items).toContainEqual(expect.objectContaining({ action: 'delivery.retried', target: failed.id, actor: expect.any(String) }));
  });

  it('re-queues every failed delivery of one connection, then the rest, saying how many', async () => {
    bug.on = true;
    const tenant = await newTenant('bulk');
    const [first, second] = [await tenant.github(), await tenant.github()];
    for (const n of [1, 2, 3]) await postGithub(hub.url, first, 'issues', issueOpened(700 + n));
    for (const n of [4, 5]) await postGithub(hub.url, second, 'issues', issueOpened(700 + n));
    await settled(hub);
    expect((await tenant.deliveries('?status=failed')).items).toHaveLength(5);
    expect((await tenant.deliveries(`?status=failed&connectionId=${first.id}`)).items).toHaveLength(3);

    bug.on = false;
    const one = await tenant.api('POST', '/v1/deliveries/retry', { connectionId: first.id });
    // Done within the request: 200, and no cursor to carry on with.
    expect(one).toMatchObject({ status: 200, body: { retried: 3, skipped: 0, nextCursor: null } });
    await settled(hub);
    expect((await tenant.deliveries('?status=failed')).items.map((d: any) => d.connectionId)).toEqual([second.id, second.id]);
    expect((await tenant.deliveries(`?status=processed&connectionId=${first.id}`)).items).toHaveLength(3);

    const rest = await tenant.api('POST', '/v1/deliveries/retry', {});
    expect(rest.body).toEqual({ retried: 2, skipped: 0, nextCursor: null });
    await settled(hub);
    expect((await tenant.deliveries('?status=failed')).items).toHaveLength(0);
    expect((await tenant.api('GET', '/v1/items?limit=50')).body.items).toHaveLength(5);
    // Nothing left to retry.
    expect((await tenant.api('POST', '/v1/deliveries/retry', { source: 'github' })).body).toEqual({ retried: 0, skipped: 0, nextCursor: null });
    // Like replay: a connection that does not exist here is named as such.
    const unknown = await tenant.api('POST', '/v1/deliveries/retry', { connectionId: 'con_unknown' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
  });

  it('re-queues a bounded page per request, oldest first, carrying on with nextCursor, each page audited', async () => {
    bug.on = true;
    const tenant = await newTenant('bulk-pages');
    const connection = await tenant.github();
    for (const n of [1, 2, 3, 4, 5]) await postGithub(hub.url, connection, 'issues', issueOpened(1000 + n));
    await settled(hub);
    expect((await tenant.deliveries('?status=failed')).items).toHaveLength(5);

    bug.on = false;
    const pages: any[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await tenant.api('POST', '/v1/deliveries/retry', { connectionId: connection.id, limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      pages.push(page.body);
      cursor = page.body.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.retried)).toEqual([2, 2, 1]);
    await settled(hub);
    expect((await tenant.deliveries('?status=failed')).items).toHaveLength(0);
    expect((await tenant.deliveries('?status=processed')).items).toHaveLength(5);

    const audit = await listAuditLog(hub.hub.db, tenant.id, { limit: 20 });
    const entries = audit.items.filter((e) => e.action === 'deliveries.retried');
    expect(entries.map((e) => (e.detail as any).retried)).toEqual([1, 2, 2]);
    // A cursor belongs to its request's filters, and more than a page per request is refused.
    const first = await tenant.api('POST', '/v1/deliveries/retry', { limit: 1, status: 'ignored' });
    expect(first.body.nextCursor).toBeNull();
    expect((await tenant.api('POST', '/v1/deliveries/retry', { limit: 501 })).status).toBe(422);
  });

  it('lists deliveries newest first in pages, filtered by status, connection and source', async () => {
    bug.on = false;
    const tenant = await newTenant('list');
    const connection = await tenant.github();
    for (const n of [1, 2, 3, 4]) await postGithub(hub.url, connection, 'issues', issueOpened(800 + n));
    const [star] = githubExamples('star');
    await postGithub(hub.url, connection, 'star', star!.payload);
    await settled(hub);

    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await tenant.deliveries(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((d) => d.id)).size).toBe(5);
    const times = seen.map((d) => d.receivedAt);
    expect([...times].sort().reverse()).toEqual(times);

    const ignored = await tenant.deliveries('?status=ignored&source=github');
    expect(ignored.items).toEqual([expect.objectContaining({ event: 'star', status: 'ignored', reason: expect.any(String) })]);
    expect((await tenant.deliveries('?source=jira')).items).toEqual([]);
    expect((await tenant.deliveries(`?connectionId=${connection.id}&source=github&status=processed`)).items).toHaveLength(4);
    // A source that is not the connection's matches nothing, and nothing is read to say so.
    const queries = countQueries(connection.id);
    expect(await tenant.deliveries(`?connectionId=${connection.id}&source=jira`)).toEqual({ items: [], nextCursor: null });
    expect(queries.stop()).toBe(0);

    // A cursor belongs to its query.
    const page = await tenant.deliveries('?limit=1');
    const other = await tenant.api('GET', `/v1/deliveries?status=processed&cursor=${page.nextCursor}`);
    expect(other.status).toBe(400);
    expect(other.body.type).toContain('invalid-cursor');
  });

  it('reads a bounded number of pages per request when a filter matches little (a deleted connection and another source)', async () => {
    bug.on = false;
    const tenant = await newTenant('bounded');
    const connection = await tenant.github();
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) await postGithub(hub.url, connection, 'issues', issueOpened(1100 + n));
    await settled(hub);
    // Its deliveries stay listable after the connection is deleted, until they expire.
    expect((await tenant.api('DELETE', `/v1/connections/${connection.id}`)).status).toBeLessThan(300);
    expect((await tenant.deliveries(`?connectionId=${connection.id}&status=processed&limit=20`)).items).toHaveLength(12);

    const query = `?connectionId=${connection.id}&source=jira&status=processed&limit=1`;
    let cursor: string | null = null;
    let requests = 0;
    do {
      const queries = countQueries(connection.id);
      const page: any = await tenant.deliveries(`${query}${cursor ? `&cursor=${cursor}` : ''}`);
      const read = queries.stop();
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThanOrEqual(5);
      expect(page.items).toEqual([]);
      cursor = page.nextCursor;
      requests++;
    } while (cursor && requests < 20);
    // A filtered partition is read 200 rows a page at least, five pages per request at most: the
    // twelve rows in one request, which answers an empty page without a cursor.
    expect(requests).toBe(1);
    expect(cursor).toBeNull();
  });

  it('keeps deliveries to their tenant and their admins', async () => {
    const owner = await newTenant('owner');
    const stranger = await newTenant('stranger');
    const connection = await owner.github();
    await postGithub(hub.url, connection, 'pull_request', pullRequestOpened(901));
    await settled(hub);
    const [delivery] = (await owner.deliveries()).items;
    expect((await stranger.api('GET', `/v1/deliveries/${delivery.id}`)).status).toBe(404);
    expect((await stranger.api('POST', `/v1/deliveries/${delivery.id}/retry`)).status).toBe(404);
    expect((await stranger.deliveries()).items).toEqual([]);
    const read = (await owner.api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token;
    expect((await hub.api('GET', '/v1/deliveries', undefined, read)).status).toBe(403);
    expect((await hub.api('GET', '/v1/deliveries/dlv_bm90LWEta2V5', undefined, OPERATOR_TOKEN)).status).toBe(404);
  });

  it('answers 409 to a retry of a delivery still waiting for the processor', async () => {
    bug.on = false;
    const tenant = await newTenant('pending');
    const connection = await tenant.github();
    await hub.hub.pipeline.processor.stop();
    try {
      await postGithub(hub.url, connection, 'pull_request', pullRequestOpened(950));
      const [pending] = (await tenant.deliveries('?status=pending')).items;
      expect(pending).toMatchObject({ status: 'pending', expiresAt: null });
      const response = await tenant.api('POST', `/v1/deliveries/${pending.id}/retry`);
      expect(response.status).toBe(409);
      expect(response.body.type).toContain('delivery-pending');
    } finally {
      hub.hub.pipeline.processor.start();
    }
    await settled(hub);
    expect((await tenant.deliveries('?status=processed')).items).toHaveLength(1);
  });
});
