import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { CLOUD_HISTORY, type CloudFixture, cloudPayload, dataCenterPayload, jiraFixture } from '../fixtures/jira-examples.ts';
import { seededRandom, shuffled } from '../fixtures/work-items.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const SITE = 'acme.atlassian.net';
const ref = (key: string) => `jira:${SITE}/${key}`;
type Connection = { id: string; secret: string; webhookUrl: string };

/** A tenant of its own, so scenarios with the same issues do not meet. */
const newTenant = async (hub: TestHub, name: string) => {
  const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { id: string; adminToken: string };
  const token = tenant.adminToken;
  return {
    token,
    jira: (extra: Record<string, unknown> = { site: SITE }) => hub.createConnection('jira', token, extra) as Promise<Connection>,
    github: () => hub.createConnection('github', token) as Promise<Connection>,
    item: async (itemRef: string) => (await hub.api('GET', `/v1/items/${encodeURIComponent(itemRef)}`, undefined, token)).body,
    items: async (query = '') => (await hub.api('GET', `/v1/items?limit=200${query}`, undefined, token)).body.items as any[],
    events: () => hub.publishedEvents().filter((e) => e.tenantId === tenant.id),
    deliveries: async (query = '') => (await hub.api('GET', `/v1/deliveries${query}`, undefined, token)).body.items as any[],
  };
};

/** A pull request of the GitHub examples whose title names a Jira key, updated at minute `n` of 2030. */
const pullRequestNaming = (key: string, n: number) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.title = `${key}: retry the tax service on large carts`;
  payload.pull_request.body = 'Splits the tax call into batches of 50.';
  payload.pull_request.head.ref = 'feature/batch-tax-calls';
  payload.pull_request.updated_at = new Date(Date.UTC(2030, 0, 1, 0, n)).toISOString();
  return payload;
};
const prRefOf = (payload: any) => `github:${String(payload.repository.full_name).toLowerCase()}#${payload.pull_request.number}`;

/** The state two runs must agree on: everything but the version, which counts writes. */
const comparable = ({ version: _version, ...rest }: any) => rest;

describe('Jira webhooks over HTTP', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it('creates a Jira connection for a site, whose webhook URL points at /hooks/jira/{id}', async () => {
    const tenant = await newTenant(hub, 'connection');
    const connection = await tenant.jira({ site: 'https://Acme.atlassian.net/' });
    expect(connection.webhookUrl).toBe(`${hub.hub.publicUrl}/hooks/jira/${connection.id}`);
    expect(connection.secret).toMatch(/^whsec_/);
    const stored = (await hub.api('GET', `/v1/connections/${connection.id}`, undefined, tenant.token)).body;
    expect(stored.settings).toMatchObject({ site: SITE, auth: 'hmac' });
  });

  it('refuses a Jira connection without a site with 422, naming the field', async () => {
    const tenant = await newTenant(hub, 'no site');
    const response = await hub.api('POST', '/v1/connections', { source: 'jira', name: 'Acme Jira' }, tenant.token);
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'site' })]);
  });

  it('indexes a Cloud story delivered in order, and publishes its events', async () => {
    const tenant = await newTenant(hub, 'story');
    const connection = await tenant.jira();
    const post = async (name: CloudFixture) => {
      const response = await postJira(hub.url, connection, cloudPayload(name));
      expect(response.status, name).toBe(202);
      expect(response.body).toEqual({ deliveryId: expect.any(String), status: 'accepted' });
    };
    for (const name of CLOUD_HISTORY.slice(0, 4)) await post(name);
    await settled(hub);

    // After issuelink_created: the blocker and the blocked issue both know.
    const blocked = await tenant.item(ref('ACME-102'));
    expect(blocked.links).toEqual(expect.arrayContaining([{ type: 'blocked_by', target: ref('ACME-101'), origin: 'source_link', confidence: 1 }]));
    expect(blocked.dependencies.upstream).toEqual([expect.objectContaining({ ref: ref('ACME-101'), indexed: true, status: { name: 'In Progress', category: 'in_progress' } })]);
    expect((await tenant.item(ref('ACME-101'))).dependencies.downstream.map((d: any) => d.ref)).toEqual([ref('ACME-102')]);

    for (const name of CLOUD_HISTORY.slice(4)) await post(name);
    await settled(hub);

    const done = await tenant.item(ref('ACME-101'));
    expect(done).toMatchObject({
      source: 'jira',
      kind: 'bug',
      status: { name: 'Done', category: 'done' },
      priority: { name: 'Highest', level: 'urgent' },
      url: 'https://acme.atlassian.net/browse/ACME-101',
      startedAt: '2024-03-01T10:30:00.000Z',
      closedAt: '2024-03-02T16:00:00.000Z',
      activityAt: '2024-03-02T16:00:00.000Z',
      links: [
        { type: 'child', target: ref('ACME-100'), origin: 'source_link', confidence: 1 },
        // "Blocked on ACME-102" in the comment: a mention stated by the comment, which the issue's updates leave.
        { type: 'mentions', target: ref('ACME-102'), origin: 'comment:jira:acme.atlassian.net/10050', confidence: 0.9 },
      ],
    });
    expect(done.owners[0].handles[0]).toMatchObject({ source: 'jira', handle: '5b10ac8d82e05b22cc7d4ef5' });
    expect((await tenant.item(ref('ACME-102'))).dependencies.upstream).toEqual([]);
    expect((await tenant.item(ref('ACME-103'))).deleted).toEqual({ at: '2024-03-01T13:05:00.333Z', reason: 'deleted' });

    const listed = (await tenant.items('&source=jira')).map((i) => i.ref).sort();
    expect(listed).toEqual([ref('ACME-101'), ref('ACME-102')]);
    const byOwner = await tenant.items('&owner=jira:5b10ac8d82e05b22cc7d4ef5');
    expect(byOwner.map((i) => i.ref)).toEqual([ref('ACME-101')]);

    const events = tenant.events();
    const of = (subject: string) => events.filter((e) => e.subject === subject).map((e) => e.type);
    expect(of(ref('ACME-101'))).toEqual(
      expect.arrayContaining(['work.item.created', 'work.item.assigned', 'work.item.status_changed', 'work.item.closed', 'work.link.added', 'work.link.removed']),
    );
    expect(of(ref('ACME-103'))).toEqual(['work.item.created', 'work.link.added', 'work.item.updated', 'work.item.deleted']);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('answers a retry with the same X-Atlassian-Webhook-Identifier as duplicate, and applies it once', async () => {
    const tenant = await newTenant(hub, 'retries');
    const connection = await tenant.jira();
    const identifier = crypto.randomUUID();
    const payload = cloudPayload('issue-created-acme-101');
    expect((await postJira(hub.url, connection, payload, { identifier })).body).toEqual({ deliveryId: identifier, status: 'accepted' });
    for (const retry of [1, 2]) {
      expect((await postJira(hub.url, connection, payload, { identifier, retry })).body).toEqual({ deliveryId: identifier, status: 'duplicate' });
    }
    await settled(hub);
    expect((await tenant.item(ref('ACME-101'))).version).toBe(1);
    expect(tenant.events().filter((e) => e.type === 'work.item.created')).toHaveLength(1);
  });

  it('dedupes a delivery without an identifier by the hash of its body', async () => {
    const tenant = await newTenant(hub, 'no identifier');
    const connection = await tenant.jira();
    const payload = dataCenterPayload();
    payload.issue.self = 'https://acme.atlassian.net/rest/api/2/issue/20317';
    const first = await postJira(hub.url, connection, payload, { identifier: null });
    expect(first.body).toEqual({ deliveryId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), status: 'accepted' });
    expect((await postJira(hub.url, connection, payload, { identifier: null })).body).toEqual({ ...first.body, status: 'duplicate' });
  });

  it('answers 401 to an unsigned or wrongly signed delivery, and indexes nothing', async () => {
    const tenant = await newTenant(hub, 'unsigned');
    const connection = await tenant.jira();
    const payload = cloudPayload('issue-created-acme-101');
    const unsigned = await postJira(hub.url, connection, payload, { unsigned: true });
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(unsigned.body.detail).toMatch(/X-Hub-Signature/);
    expect((await postJira(hub.url, connection, payload, { secret: 'whsec_wrong' })).status).toBe(401);
    await settled(hub);
    expect(await tenant.items()).toEqual([]);
  });

  it('accepts a signed delivery whatever its content, and judges it in processing: ignored or failed, with the field named', async () => {
    const tenant = await newTenant(hub, 'content judged later');
    const connection = await tenant.jira();
    const noEvent = cloudPayload('issue-created-acme-101');
    delete noEvent.webhookEvent;
    const noKey = cloudPayload('issue-created-acme-101');
    delete noKey.issue.key;
    for (const payload of [noEvent, noKey]) {
      const response = await postJira(hub.url, connection, payload);
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ deliveryId: expect.any(String), status: 'accepted' });
    }
    expect((await postJira(hub.url, connection, undefined, { body: 'not json' })).status).toBe(400);
    await settled(hub);
    expect(await tenant.items('&includeDeleted=true')).toEqual([]);
    expect(await tenant.deliveries('?status=ignored')).toEqual([
      expect.objectContaining({ source: 'jira', event: '(none)', reason: expect.stringContaining('no `webhookEvent`') }),
    ]);
    expect(await tenant.deliveries('?status=failed')).toEqual([
      expect.objectContaining({ source: 'jira', event: 'jira:issue_created', reason: expect.stringContaining('issue.key') }),
    ]);
  });

  it('indexes a signed delivery whose envelope timestamp cannot be read, ordered by fields.updated', async () => {
    const tenant = await newTenant(hub, 'unreadable timestamp');
    const connection = await tenant.jira({ site: 'jira.acme.com' });
    const payload = jiraFixture('data-center/issue-updated-ops-17-ambiguous-timestamp');
    expect(payload.timestamp).toBe('6/7/2019, 12:51:58 PM,687');
    const response = await postJira(hub.url, connection, payload);
    expect(response.status).toBe(202);
    await settled(hub);
    expect(await tenant.item('jira:jira.acme.com/OPS-17')).toMatchObject({
      status: { name: 'In Review', category: 'in_review' },
      updatedAt: '2019-06-07T17:51:58.687Z',
      orderedBy: { field: 'fields.updated', zoned: true },
    });
    expect(await tenant.deliveries('?status=processed')).toEqual([expect.objectContaining({ deliveryId: response.body.deliveryId })]);
  });

  it('indexes a delivery from an old server: locale timestamp, users known only by their self URL', async () => {
    const tenant = await newTenant(hub, 'old server');
    const connection = await tenant.jira({ site: 'jira.acme.com' });
    for (const name of ['issue-updated-ops-17-locale-timestamp', 'issue-updated-ops-17-users-self-only']) {
      expect((await postJira(hub.url, connection, jiraFixture(`data-center/${name}`))).status).toBe(202);
    }
    await settled(hub);
    // The self-only delivery is the newer state (2024), so its owner is the one the index holds.
    const item = await tenant.item('jira:jira.acme.com/OPS-17');
    expect(item.owners[0].handles[0]).toMatchObject({ source: 'jira', handle: 'jonas.weber' });
    expect(item.requester.handles[0]).toMatchObject({ source: 'jira', handle: 'mira' });
  });

  it('answers 202 to jira:issue_updated without an issue, and lists it as ignored with its reason', async () => {
    const tenant = await newTenant(hub, 'no issue');
    const connection = await tenant.jira();
    const response = await postJira(hub.url, connection, jiraFixture('cloud/issue-updated-without-issue'));
    expect(response.status).toBe(202);
    await settled(hub);
    expect(await tenant.deliveries('?status=ignored')).toEqual([
      expect.objectContaining({
        deliveryId: response.body.deliveryId,
        event: 'jira:issue_updated',
        status: 'ignored',
        reason: 'The Jira jira:issue_updated payload has no `issue`: there is nothing to index.',
      }),
    ]);
    expect(await tenant.items('&includeDeleted=true')).toEqual([]);
  });

  it('acknowledges events it does not index and records them as ignored', async () => {
    const tenant = await newTenant(hub, 'ignored');
    const connection = await tenant.jira();
    for (const webhookEvent of ['worklog_created', 'sprint_started', 'jira:version_released']) {
      expect((await postJira(hub.url, connection, { timestamp: 1709283600000, webhookEvent })).status).toBe(202);
    }
    await settled(hub);
    expect(await tenant.items('&includeDeleted=true')).toEqual([]);
  });

  it('ends deliveries that arrive shuffled and concurrently in the in-order state', async () => {
    const inOrder = await newTenant(hub, 'in order');
    const inOrderConnection = await inOrder.jira();
    for (const name of CLOUD_HISTORY) expect((await postJira(hub.url, inOrderConnection, cloudPayload(name))).status).toBe(202);
    await settled(hub);
    const expected = await Promise.all([ref('ACME-101'), ref('ACME-102'), ref('ACME-103')].map(inOrder.item));

    for (const seed of [1, 2, 3]) {
      const run = await newTenant(hub, `shuffled ${seed}`);
      const connection = await run.jira();
      const order = shuffled(CLOUD_HISTORY, seededRandom(seed));
      // Three at a time: concurrent deliveries race for the same items.
      for (let i = 0; i < order.length; i += 3) {
        const batch = order.slice(i, i + 3).map((name) => postJira(hub.url, connection, cloudPayload(name)));
        for (const response of await Promise.all(batch)) expect(response.status).toBe(202);
      }
      await settled(hub);
      for (const want of expected) {
        const got = await run.item(want.ref);
        expect(comparable(got), `${want.ref} after ${order.join(', ')}`).toEqual(comparable(want));
      }
    }
  });

  it('indexes a Data Center delivery on a connection with Basic credentials', async () => {
    const tenant = await newTenant(hub, 'data center');
    const connection = await tenant.jira({ site: 'jira.acme.com', auth: 'basic', customFields: { customfield_10101: 'epicLink' } });
    const payload = dataCenterPayload();
    expect((await postJira(hub.url, connection, payload, { basic: { user: 'tributary', password: 'wrong' } })).status).toBe(401);
    expect((await postJira(hub.url, connection, payload, { unsigned: true })).status).toBe(401);
    const accepted = await postJira(hub.url, connection, payload, { basic: { user: 'tributary', password: connection.secret } });
    expect(accepted.status).toBe(202);
    await settled(hub);
    const item = await tenant.item('jira:jira.acme.com/OPS-17');
    expect(item).toMatchObject({
      status: { name: 'In Review', category: 'in_review' },
      category: 'operational',
      container: { key: 'OPS', sprint: 'OPS Sprint 9' },
      updatedAt: '2024-03-04T10:20:00.000Z',
    });
    expect(item.owners[0].handles[0]).toMatchObject({ source: 'jira', handle: 'jonas.weber', externalId: 'JIRAUSER10100' });
    expect(item.links).toEqual(expect.arrayContaining([{ type: 'child', target: 'jira:jira.acme.com/OPS-1', origin: 'source_link', confidence: 1 }]));
  });

  describe('a GitHub pull request naming ACME-101 links to the Jira issue, whichever arrives first', () => {
    const expectLinked = async (tenant: Awaited<ReturnType<typeof newTenant>>, prRef: string) => {
      const pr = await eventually(async () => {
        const item = await tenant.item(prRef);
        return item.links?.some((l: any) => l.target === ref('ACME-101')) ? item : undefined;
      }, { what: 'the pull request to link ACME-101' });
      expect(pr.links).toEqual([expect.objectContaining({ type: 'implements', target: ref('ACME-101'), origin: 'key_mention' })]);
      const issue = await tenant.item(ref('ACME-101'));
      expect(issue.incomingLinks).toEqual([expect.objectContaining({ type: 'implemented_by', target: prRef })]);
      const listed = await tenant.items();
      expect(new Set(listed.map((i) => i.source))).toEqual(new Set(['github', 'jira']));
      for (const item of listed) expect(Object.keys(item)).toEqual(expect.arrayContaining(['ref', 'kind', 'status', 'priority', 'owners', 'links']));
    };

    it('the Jira issue first', async () => {
      const tenant = await newTenant(hub, 'jira first');
      const jiraConnection = await tenant.jira();
      const githubConnection = await tenant.github();
      expect((await postJira(hub.url, jiraConnection, cloudPayload('issue-created-acme-101'))).status).toBe(202);
      await settled(hub);
      const payload = pullRequestNaming('ACME-101', 1);
      expect((await postGithub(hub.url, githubConnection, 'pull_request', payload)).status).toBe(202);
      await settled(hub);
      await expectLinked(tenant, prRefOf(payload));
      const pr = await tenant.item(prRefOf(payload));
      expect(pr.links[0].confidence).toBe(0.9);
    });

    it('the pull request first, with the Jira connection already made', async () => {
      const tenant = await newTenant(hub, 'pr first');
      const jiraConnection = await tenant.jira();
      const githubConnection = await tenant.github();
      const payload = pullRequestNaming('ACME-101', 1);
      expect((await postGithub(hub.url, githubConnection, 'pull_request', payload)).status).toBe(202);
      await settled(hub);
      expect((await postJira(hub.url, jiraConnection, cloudPayload('issue-created-acme-101'))).status).toBe(202);
      await settled(hub);
      await expectLinked(tenant, prRefOf(payload));
    });

    it('the pull request first, before the tenant had any Jira connection', async () => {
      const tenant = await newTenant(hub, 'pr before jira');
      const githubConnection = await tenant.github();
      const payload = pullRequestNaming('ACME-101', 1);
      expect((await postGithub(hub.url, githubConnection, 'pull_request', payload)).status).toBe(202);
      await settled(hub);
      const provisional = await tenant.item(prRefOf(payload));
      expect(provisional.links).toEqual([{ type: 'implements', target: 'jira:ACME-101', origin: 'key_mention', confidence: 0.5 }]);

      const jiraConnection = await tenant.jira();
      expect((await postJira(hub.url, jiraConnection, cloudPayload('issue-created-acme-101'))).status).toBe(202);
      await settled(hub);
      await expectLinked(tenant, prRefOf(payload));
      const types = tenant.events().filter((e) => e.subject === prRefOf(payload)).map((e) => [e.type, (e.data as any).link?.target]);
      expect(types).toEqual(
        expect.arrayContaining([
          ['work.link.removed', 'jira:ACME-101'],
          ['work.link.added', ref('ACME-101')],
        ]),
      );

      // The pull request's next update keeps the resolved link, now with the confidence of a known project.
      expect((await postGithub(hub.url, githubConnection, 'pull_request', pullRequestNaming('ACME-101', 2))).status).toBe(202);
      await settled(hub);
      expect((await tenant.item(prRefOf(payload))).links).toEqual([
        { type: 'implements', target: ref('ACME-101'), origin: 'key_mention', confidence: 0.9 },
      ]);
    });
  });
});
