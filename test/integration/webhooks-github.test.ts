import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExamples } from '../fixtures/github-examples.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';

const SUPPORTED = ['issues', 'pull_request', 'pull_request_review', 'issue_comment'];

describe('GitHub webhooks over HTTP', () => {
  let hub: TestHub;
  let connection: { id: string; secret: string; webhookUrl: string };

  beforeAll(async () => {
    hub = await startTestHub();
    connection = await hub.createConnection('github');
  });
  afterAll(() => hub.close());

  it('creates a connection whose webhook URL points at /hooks/github/{id}', () => {
    expect(connection.webhookUrl).toBe(`${hub.hub.publicUrl}/hooks/github/${connection.id}`);
    expect(connection.secret).toMatch(/^whsec_/);
  });

  it('answers ping with 200 and stores nothing', async () => {
    const [ping] = githubExamples('ping');
    const response = await postGithub(hub.url, connection, 'ping', ping!.payload);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true });
  });

  it('indexes every published example payload of the supported events, and publishes their events', async () => {
    const examples = SUPPORTED.flatMap((event) => githubExamples(event));
    expect(examples.length).toBeGreaterThan(40);
    for (const example of examples) {
      const response = await postGithub(hub.url, connection, example.event, example.payload);
      expect(response.status, example.name).toBe(202);
      expect(response.body).toMatchObject({ status: 'accepted', deliveryId: expect.any(String) });
    }
    await settled(hub);

    const all = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: any[]; nextCursor: string | null } } = await hub.api(
        'GET',
        `/v1/items?includeDeleted=true&limit=20${cursor ? `&cursor=${cursor}` : ''}`,
      );
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    const refs = new Set(all.map((i) => i.ref));
    expect(refs.size).toBe(all.length);
    // Issue events about a pull request update the PR's item: one item per repo + number.
    // Deletions and transfers of items never indexed leave nothing to tombstone.
    for (const example of examples.filter((e) => !['deleted', 'transferred'].includes(e.action ?? ''))) {
      const payload = example.payload as any;
      const subject = payload.pull_request ?? payload.issue;
      const repo = String(payload.repository.full_name).toLowerCase();
      expect(refs, example.name).toContain(`github:${repo}#${subject.number}`);
    }
    const kinds = new Set(all.map((i) => i.kind));
    expect(kinds).toContain('pull_request');
    expect([...kinds].some((k) => k !== 'pull_request')).toBe(true);

    const events = hub.publishedEvents();
    expect(events.filter((e) => e.type === 'work.item.created').length).toBe(all.length);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const event of events) expect(refs).toContain(event.subject);
  });

  it('records other events as ignored without indexing anything', async () => {
    const before = (await hub.api('GET', '/v1/items?includeDeleted=true&limit=200')).body.items.length;
    for (const example of [...githubExamples('star'), ...githubExamples('push').slice(0, 1)]) {
      const response = await postGithub(hub.url, connection, example.event, example.payload);
      expect(response.status).toBe(202);
    }
    await settled(hub);
    expect((await hub.api('GET', '/v1/items?includeDeleted=true&limit=200')).body.items.length).toBe(before);
  });

  it('indexes an issue whose number is a string and whose labels are plain names', async () => {
    const payload = githubExamples('issues', { action: 'opened' })[0]!.payload as any;
    payload.issue.number = '4343';
    payload.issue.labels = ['bug', 'P1'];
    expect((await postGithub(hub.url, connection, 'issues', payload)).status).toBe(202);
    await settled(hub);
    const ref = `github:${String(payload.repository.full_name).toLowerCase()}#4343`;
    const { status, body } = await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ labels: ['bug', 'P1'], kind: 'bug', priority: { name: 'P1', level: 'high' } });
  });

  it('answers a redelivery with the same X-GitHub-Delivery as duplicate', async () => {
    const [opened] = githubExamples('issues', { action: 'opened' });
    const deliveryId = crypto.randomUUID();
    expect((await postGithub(hub.url, connection, 'issues', opened!.payload, { deliveryId })).body.status).toBe('accepted');
    expect((await postGithub(hub.url, connection, 'issues', opened!.payload, { deliveryId })).body).toEqual({ deliveryId, status: 'duplicate' });
  });

  it('follows an issue through its life: opened, labeled, assigned, closed, reopened', async () => {
    const [template] = githubExamples('issues', { action: 'opened' });
    const base = template!.payload as any;
    base.issue.number = 4242;
    base.issue.title = 'Checkout fails; blocked by #7, implements ACME-12';
    base.issue.body = 'Depends on #8.';
    const at = (n: number) => new Date(Date.UTC(2030, 0, 1, 0, n)).toISOString();
    const send = async (action: string, n: number, edit: (issue: any) => void) => {
      const payload = structuredClone(base);
      payload.action = action;
      payload.issue.updated_at = at(n);
      edit(payload.issue);
      expect((await postGithub(hub.url, connection, 'issues', payload)).status).toBe(202);
    };
    const ref = `github:${String(base.repository.full_name).toLowerCase()}#4242`;
    const item = async () => (await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`)).body;

    await send('opened', 1, (i) => {
      i.state = 'open';
      i.labels = [];
      i.assignees = [];
      i.assignee = null;
    });
    await eventually(async () => (await item()).status?.category === 'todo');
    await send('labeled', 2, (i) => {
      i.assignees = [];
      i.assignee = null;
      i.labels = [{ id: 1, name: 'P1', color: 'ff0000', default: false, description: null, node_id: 'x', url: 'x' }];
    });
    await send('assigned', 3, (i) => {
      i.labels = [{ id: 1, name: 'P1', color: 'ff0000', default: false, description: null, node_id: 'x', url: 'x' }];
      i.assignees = [base.issue.user];
    });
    await eventually(async () => (await item()).status?.category === 'in_progress');
    const assigned = await item();
    expect(assigned.priority).toEqual({ name: 'P1', level: 'high' });
    expect(assigned.owners[0].handles[0]).toMatchObject({ source: 'github', handle: base.issue.user.login });
    expect(assigned.links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'blocked_by', target: `github:${String(base.repository.full_name).toLowerCase()}#7` }),
        expect.objectContaining({ type: 'blocked_by', target: `github:${String(base.repository.full_name).toLowerCase()}#8` }),
        expect.objectContaining({ type: 'implements', target: 'jira:ACME-12', origin: 'key_mention' }),
      ]),
    );
    expect(assigned.dependencies.upstream.map((d: any) => d.ref)).toHaveLength(2);

    await send('closed', 4, (i) => {
      i.state = 'closed';
      i.state_reason = 'completed';
      i.closed_at = at(4);
      i.assignees = [base.issue.user];
    });
    await eventually(async () => (await item()).status?.category === 'done');
    expect((await item()).closedAt).toBe(at(4));
    await send('reopened', 5, (i) => {
      i.state = 'open';
      i.closed_at = null;
      i.assignees = [base.issue.user];
    });
    await eventually(async () => (await item()).status?.category === 'in_progress');
    await settled(hub);

    const types = hub.publishedEvents().filter((e) => e.subject === ref).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'work.item.created',
        'work.item.updated',
        'work.item.assigned',
        'work.item.status_changed',
        'work.item.closed',
        'work.item.reopened',
        'work.link.added',
      ]),
    );
    // The blocker learns who waits on it, before it is itself indexed (a pending edge).
    const blocker = await hub.api('GET', `/v1/items/${encodeURIComponent(`github:${String(base.repository.full_name).toLowerCase()}#7`)}`);
    expect(blocker.status).toBe(404);
  });

  it('tombstones a deleted issue and hides it from the default list', async () => {
    const [deleted] = githubExamples('issues', { action: 'deleted' });
    const payload = deleted!.payload as any;
    const ref = `github:${String(payload.repository.full_name).toLowerCase()}#${payload.issue.number}`;
    const opened = structuredClone(payload);
    opened.action = 'opened';
    expect((await postGithub(hub.url, connection, 'issues', opened)).status).toBe(202);
    expect((await postGithub(hub.url, connection, 'issues', payload)).status).toBe(202);
    await settled(hub);
    const item = (await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`)).body;
    expect(item.deleted).toMatchObject({ reason: 'deleted' });
    const visible = (await hub.api('GET', '/v1/items?limit=200')).body.items.map((i: any) => i.ref);
    expect(visible).not.toContain(ref);
    expect(hub.publishedEvents().some((e) => e.subject === ref && e.type === 'work.item.deleted')).toBe(true);
  });
});
