import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { issueOpened } from '../support/fault-payloads.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';
import { type Receiver, startReceiver, verifyWebhook } from '../support/webhook-receiver.ts';

const SITE = 'acme.atlassian.net';

/** A tenant of its own, so each scenario sees only its own events. */
const newTenant = async (hub: TestHub, name: string) => {
  const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { id: string; adminToken: string };
  const token = tenant.adminToken;
  return {
    ...tenant,
    api: (method: string, path: string, body?: unknown) => hub.api(method, path, body, token),
    github: await hub.createConnection('github', token),
    jira: await hub.createConnection('jira', token, { site: SITE }),
  };
};
type Tenant = Awaited<ReturnType<typeof newTenant>>;

const subscribe = async (tenant: Tenant, body: Record<string, unknown>) => {
  const response = await tenant.api('POST', '/v1/subscriptions', body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { id: string; secret: string; status: string; url: string };
};

/** A real pull_request payload that says it is blocked by ACME-101. */
const pullRequestBlockedByAcme101 = (number: number) => {
  const payload = structuredClone(githubExample('pull_request', 'opened').payload) as any;
  payload.pull_request.number = number;
  payload.pull_request.title = 'Retry the tax service on large carts';
  payload.pull_request.body = 'Blocked by ACME-101';
  payload.pull_request.created_at = '2024-03-01T10:00:00.000Z';
  payload.pull_request.updated_at = '2024-03-01T10:00:00.000Z';
  return payload;
};

describe('webhook subscriptions: signed, retried, resumable deliveries to a receiver on loopback', () => {
  let hub: TestHub;
  const receivers: Receiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  };

  beforeAll(async () => {
    hub = await startTestHub({ env: { TRIBUTARY_ALLOW_PRIVATE_TARGETS: 'true' } });
  });
  afterAll(async () => {
    // Receivers first: a send to one that hangs ends at once instead of at its 15 s timeout.
    for (const r of receivers) await r.close();
    await hub.close();
  });

  it('sends the event again after a 500, with the same webhook-id and a signature that verifies, and lists both attempts', async () => {
    const tenant = await newTenant(hub, 'retry');
    const target = await receiver((_request, n) => (n === 1 ? 500 : 204));
    const subscription = await subscribe(tenant, { url: target.url, types: ['work.item.created'], description: 'ci bot' });
    expect(subscription.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(subscription.status).toBe('active');

    expect((await postGithub(hub.url, tenant.github, 'issues', issueOpened(1, 'Flaky login'))).status).toBe(202);
    await eventually(() => target.delivered().length === 1, { what: 'the retried delivery', timeoutMs: 20_000 });

    const [first, second] = target.received;
    expect(target.received).toHaveLength(2);
    expect(first!.answered).toBe(500);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    // Signed at every attempt: each verifies on its own, with its own timestamp.
    const event = verifyWebhook(second!, subscription.secret) as any;
    expect(verifyWebhook(first!, subscription.secret)).toEqual(event);
    expect(Number(second!.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(Number(first!.headers['webhook-timestamp']));
    expect(event).toMatchObject({ id: first!.headers['webhook-id'], type: 'work.item.created', tenantId: tenant.id, schemaVersion: 1 });
    expect(event.data.item.title).toBe('Flaky login');
    expect(second!.headers['content-type']).toBe('application/json');
    // About 5 s between the attempts (±20 % jitter).
    expect(second!.at - first!.at).toBeGreaterThan(3_500);

    const attempts = (await tenant.api('GET', `/v1/subscriptions/${subscription.id}/attempts`)).body.items;
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ eventId: event.id, eventType: 'work.item.created', attempt: 2, status: 204, outcome: 'delivered' });
    expect(attempts[0].nextAttemptAt).toBeUndefined();
    expect(attempts[1]).toMatchObject({ eventId: event.id, attempt: 1, status: 500, outcome: 'retrying', error: 'HTTP 500' });
    expect(Date.parse(attempts[1].nextAttemptAt) - Date.parse(attempts[1].at)).toBeGreaterThan(3_500);
    expect(attempts[1].durationMs).toBeGreaterThanOrEqual(0);
    const listed = (await tenant.api('GET', `/v1/subscriptions/${subscription.id}`)).body;
    expect(listed).toMatchObject({ id: subscription.id, lastSuccessAt: expect.any(String) });
    expect(listed.failingSince).toBeUndefined();
  }, 40_000);

  it('sends a work.alert.* subscription the alerts and no item events, and a Slack subscription a Slack message for the unblocked alert', async () => {
    const tenant = await newTenant(hub, 'alerts');
    const alertsReceiver = await receiver();
    const slackReceiver = await receiver();
    const everything = await receiver();
    const alerts = await subscribe(tenant, { url: alertsReceiver.url, types: ['work.alert.*'] });
    const slack = await subscribe(tenant, { url: slackReceiver.url, types: ['work.alert.raised'], format: 'slack', filter: { sources: ['github'] } });
    await subscribe(tenant, { url: everything.url, types: ['*'] });

    expect((await postJira(hub.url, tenant.jira, cloudPayload('issue-created-acme-101'))).status).toBe(202);
    const pr = pullRequestBlockedByAcme101(60);
    expect((await postGithub(hub.url, tenant.github, 'pull_request', pr)).status).toBe(202);
    await eventually(async () => (await tenant.api('GET', '/v1/items?blocked=true')).body.items.length === 1, { what: 'the PR to be blocked' });
    expect((await postJira(hub.url, tenant.jira, cloudPayload('issue-updated-acme-101-done'))).status).toBe(202);
    await settled(hub);
    await eventually(() => alertsReceiver.delivered().length >= 1 && slackReceiver.delivered().length >= 1, { what: 'the alert deliveries' });
    await eventually(() => everything.deliveredBodies().some((e) => e.type === 'work.alert.raised'), { what: 'every event to the catch-all' });

    await eventually(() => alertsReceiver.deliveredBodies().some((e) => e.data.alert.kind === 'unblocked'), { what: 'the unblocked alert' });
    const alertEvents = alertsReceiver.received.map((r) => verifyWebhook(r, alerts.secret) as any);
    expect(alertEvents.every((e) => e.type === 'work.alert.raised' || e.type === 'work.alert.resolved')).toBe(true);
    expect(alertEvents.filter((e) => e.data.alert.kind === 'unblocked').map((e) => e.type)).toEqual(['work.alert.raised']);
    // The catch-all got the item events the alert subscription did not.
    expect(everything.deliveredBodies().some((e) => e.type === 'work.item.created')).toBe(true);

    const prItem = (await tenant.api('GET', `/v1/items?source=github`)).body.items[0];
    const messages = await eventually(() => {
      const found = slackReceiver.received.map((r) => verifyWebhook(r, slack.secret) as any).filter((m) => m.text.startsWith('Unblocked'));
      return found.length > 0 ? found : undefined;
    }, { what: 'the Slack message of the unblocked alert' });
    expect(messages).toHaveLength(1);
    const message = messages[0];
    expect(Object.keys(message).sort()).toEqual(['blocks', 'text']);
    expect(message.text).toMatch(/^Unblocked: /);
    expect(message.text).toContain('ACME-101');
    const blocks = JSON.stringify(message.blocks);
    // What happened, to which item, whose it is, with links to the tool and to the dashboard.
    expect(blocks).toContain(`<${prItem.url}|`);
    expect(blocks).toContain(`<${hub.hub.publicUrl}/items/${prItem.id}|open in Tributary>`);
    expect(blocks).toContain('*Owner:*');
    expect(blocks).toContain(pr.pull_request.user.login);
    expect(message.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
  }, 40_000);

  it('lets a receiver that never answers hold up neither ingest nor another subscription: two sends in flight for it at most', async () => {
    const tenant = await newTenant(hub, 'slow');
    const stuck = await receiver(() => 'hang');
    const healthy = await receiver();
    await subscribe(tenant, { url: stuck.url, types: ['work.item.created'] });
    await subscribe(tenant, { url: healthy.url, types: ['work.item.created'] });
    const started = Date.now();
    for (const n of [51, 52, 53, 54, 55, 56]) expect((await postGithub(hub.url, tenant.github, 'issues', issueOpened(n))).status).toBe(202);
    const ackMs = Date.now() - started;
    await eventually(() => healthy.delivered().length === 6, { what: 'every event at the healthy receiver' });
    // Well before the stuck sends time out (15 s).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ackMs).toBeLessThan(5_000);
    expect(stuck.received).toHaveLength(2);
    await stuck.close();
  });

  it('sends the weekly digest to a Slack subscription as a short summary, and keeps it in the event log', async () => {
    const tenant = await newTenant(hub, 'digest');
    const slackReceiver = await receiver();
    const slack = await subscribe(tenant, { url: slackReceiver.url, types: ['work.digest.ready'], format: 'slack' });
    expect((await postGithub(hub.url, tenant.github, 'issues', issueOpened(41, 'Open work'))).status).toBe(202);
    await settled(hub);
    await hub.hub.sweepViews();
    await eventually(() => slackReceiver.delivered().length === 1, { what: 'the digest' });
    const message = verifyWebhook(slackReceiver.received[0]!, slack.secret) as any;
    expect(message.text).toMatch(/^Weekly digest \d{4}-W\d{2} \(everyone\): /);
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: expect.stringMatching(/^Weekly digest /) } });
    expect(JSON.stringify(message.blocks)).toContain('*Closed:* 0');
    // Published without a cursor by the sweep, it was logged on the way: a replay reaches it.
    const replay = await tenant.api('POST', `/v1/subscriptions/${slack.id}/replay`, { since: new Date(Date.now() - 60_000).toISOString() });
    expect(replay.body.queued).toBe(1);
  });

  it('refuses a loopback target without TRIBUTARY_ALLOW_PRIVATE_TARGETS with a problem+json, before and after name resolution', async () => {
    const strict = await startTestHub({
      resolver: async (name) => (name === 'rebind.example.test' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '203.0.113.7', family: 4 }]),
    });
    try {
      const refused = async (url: string, reason: string) => {
        const response = await fetch(`${strict.url}/v1/subscriptions`, {
          method: 'POST',
          headers: { authorization: 'Bearer test-operator-token-0123456789', 'content-type': 'application/json' },
          body: JSON.stringify({ url, types: ['*'] }),
        });
        expect(response.status, url).toBe(422);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        const problem = await response.json();
        expect(problem, url).toMatchObject({ type: 'https://tributary.dev/problems/target-refused', status: 422, reason, errors: [{ path: 'url' }] });
        return problem.detail as string;
      };
      expect(await refused('https://127.0.0.1:8443/hook', 'loopback')).toContain('TRIBUTARY_ALLOW_PRIVATE_TARGETS');
      await refused('http://hooks.example.test/hook', 'scheme');
      await refused('https://rebind.example.test/hook', 'loopback');
      await refused('https://2130706433/hook', 'loopback');
      await refused('https://0x7f.1/hook', 'loopback');
      await refused('https://[::ffff:127.0.0.1]/hook', 'loopback');
      await refused('https://0.0.0.0/hook', 'unspecified');
      await refused('https://169.254.169.254/latest/meta-data', 'metadata');
      await refused('https://10.1.2.3/hook', 'private');
      await refused('https://user:pw@hooks.example.test/hook', 'credentials');
      const accepted = await strict.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.test/hook', types: ['*'] });
      expect(accepted.status).toBe(201);
    } finally {
      await strict.close();
    }
    // With the setting, loopback is allowed, and cloud metadata still is not.
    const response = await hub.api('POST', '/v1/subscriptions', { url: 'http://169.254.169.254/latest', types: ['*'] });
    expect(response.status).toBe(422);
    expect(response.body.reason).toBe('metadata');
  });

  it('lists, reads, pauses, resumes, rotates and deletes subscriptions, never showing a secret, all audited and documented', async () => {
    const tenant = await newTenant(hub, 'crud');
    const target = await receiver();
    const created = await subscribe(tenant, { url: target.url, types: ['work.item.*'], filter: { projects: ['GitHub:Codertocat/Hello-World'] }, description: 'triage' });
    const listed = (await tenant.api('GET', '/v1/subscriptions')).body;
    expect(listed.items).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(listed.items[0]).toMatchObject({ id: created.id, types: ['work.item.*'], format: 'json', status: 'active', description: 'triage' });
    expect(listed.items[0].secret).toBeUndefined();
    expect(JSON.stringify((await tenant.api('GET', `/v1/subscriptions/${created.id}`)).body)).not.toContain(created.secret);

    const paused = await tenant.api('PATCH', `/v1/subscriptions/${created.id}`, { status: 'paused', description: null });
    expect(paused.body).toMatchObject({ status: 'paused' });
    expect(paused.body.description).toBeUndefined();
    expect((await postGithub(hub.url, tenant.github, 'issues', issueOpened(7, 'While paused'))).status).toBe(202);
    await settled(hub);
    await hub.hub.webhooks.kickAll();
    expect(target.received).toHaveLength(0);

    // Resumed: what it missed is sent; after a rotation both secrets sign.
    const rotated = await tenant.api('POST', `/v1/subscriptions/${created.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(created.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.parse(rotated.body.secretRotatedAt)).toBe(86_400_000);
    expect((await tenant.api('PATCH', `/v1/subscriptions/${created.id}`, { status: 'active' })).body.status).toBe('active');
    await eventually(() => target.delivered().length === 1, { what: 'the event queued while paused' });
    const delivered = target.received[0]!;
    expect(String(delivered.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect((verifyWebhook(delivered, created.secret) as any).data.item.title).toBe('While paused');
    expect(verifyWebhook(delivered, rotated.body.secret)).toEqual(verifyWebhook(delivered, created.secret));

    const refused = await tenant.api('PATCH', `/v1/subscriptions/${created.id}`, { types: ['work.itme.*'] });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].path).toBe('types.0');

    expect((await tenant.api('DELETE', `/v1/subscriptions/${created.id}`)).status).toBe(204);
    expect((await tenant.api('GET', `/v1/subscriptions/${created.id}`)).status).toBe(404);
    expect((await tenant.api('GET', `/v1/subscriptions/${created.id}/attempts`)).status).toBe(404);

    const audit = (await tenant.api('GET', '/v1/audit?limit=50')).body.items.map((e: any) => e.action);
    expect(audit).toEqual(
      expect.arrayContaining(['subscription.created', 'subscription.paused', 'subscription.secret_rotated', 'subscription.resumed', 'subscription.deleted']),
    );
    const auditText = JSON.stringify((await tenant.api('GET', '/v1/audit?limit=50')).body);
    expect(auditText).not.toContain(created.secret);
    expect(auditText).not.toContain('/hooks/tributary');

    const paths = Object.keys((await (await fetch(`${hub.url}/openapi.json`)).json()).paths);
    for (const path of ['/v1/subscriptions', '/v1/subscriptions/{id}', '/v1/subscriptions/{id}/rotate-secret', '/v1/subscriptions/{id}/attempts', '/v1/subscriptions/{id}/replay']) {
      expect(paths).toContain(path);
    }
    // Admin only: a read token is refused.
    const reader = (await tenant.api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token;
    expect((await hub.api('GET', '/v1/subscriptions', undefined, reader)).status).toBe(403);
  });

  it('disables a subscription at once on 410 Gone with an alert in /v1/alerts and on the dashboard; resuming delivers what it missed', async () => {
    const tenant = await newTenant(hub, 'gone');
    let gone = true;
    const target = await receiver(() => (gone ? 410 : 200));
    const subscription = await subscribe(tenant, { url: target.url, types: ['work.item.created'], description: 'retired bot' });
    await postGithub(hub.url, tenant.github, 'issues', issueOpened(11, 'First'));
    const disabled = await eventually(async () => {
      const body = (await tenant.api('GET', `/v1/subscriptions/${subscription.id}`)).body;
      return body.status === 'disabled' ? body : undefined;
    }, { what: 'the subscription to be disabled' });
    expect(disabled.disabledReason).toContain('410 Gone');
    expect(target.received).toHaveLength(1);

    const alert = await eventually(async () => (await tenant.api('GET', '/v1/alerts?kind=subscription_disabled')).body.items[0], { what: 'the alert' });
    expect(alert).toMatchObject({ state: 'open', severity: 'critical', subjectType: 'subscription', subject: { id: subscription.id, title: 'retired bot' } });
    expect(alert.message).toContain('410 Gone');
    const page = await fetch(`${hub.url}/alerts`, { headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(await page.text()).toContain(`Webhook subscription ${subscription.id}`);

    // Events go on queuing while it is disabled; nothing is sent.
    await postGithub(hub.url, tenant.github, 'issues', issueOpened(12, 'Second'));
    await settled(hub);
    await hub.hub.webhooks.kickAll();
    expect(target.received).toHaveLength(1);

    gone = false;
    expect((await tenant.api('PATCH', `/v1/subscriptions/${subscription.id}`, { status: 'active' })).body).toMatchObject({ status: 'active' });
    await eventually(() => target.delivered().length === 2, { what: 'what it missed' });
    expect(target.deliveredBodies().map((e) => e.data.item.title).sort()).toEqual(['First', 'Second']);
    await eventually(async () => (await tenant.api('GET', '/v1/alerts?kind=subscription_disabled')).body.items[0]?.state === 'resolved', { what: 'the alert resolved' });
    const actions = (await tenant.api('GET', '/v1/audit?action=subscription.disabled')).body.items;
    expect(actions[0]).toMatchObject({ actor: 'system', target: subscription.id });
  });

  it('replays every matching event since a time from the event log, under the same webhook-ids', async () => {
    const tenant = await newTenant(hub, 'replay');
    const target = await receiver();
    const since = new Date(Date.now() - 1000).toISOString();
    const subscription = await subscribe(tenant, { url: target.url, types: ['work.item.created'] });
    for (const n of [21, 22, 23]) await postGithub(hub.url, tenant.github, 'issues', issueOpened(n));
    await eventually(() => target.delivered().length === 3, { what: 'the first deliveries' });
    const firstIds = target.received.map((r) => r.headers['webhook-id']).sort();

    const replay = await tenant.api('POST', `/v1/subscriptions/${subscription.id}/replay`, { since });
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ queued: 3, nextCursor: null });
    await eventually(() => target.delivered().length === 6, { what: 'the replayed deliveries' });
    expect(target.received.slice(3).map((r) => r.headers['webhook-id']).sort()).toEqual(firstIds);
    for (const request of target.received) verifyWebhook(request, subscription.secret);
    expect((await tenant.api('GET', '/v1/audit?action=subscription.replayed')).body.items).toHaveLength(1);
  });

  it('matches a filter on the project and the team, reading the team from the index when the event has none', async () => {
    const tenant = await newTenant(hub, 'filters');
    const mine = await receiver();
    const other = await receiver();
    const repo = String(issueOpened(1).repository.full_name);
    expect((await tenant.api('PUT', '/v1/teams', { teams: [{ name: 'web', containers: [`github:${repo.toLowerCase()}`] }] })).status).toBe(200);
    await subscribe(tenant, { url: mine.url, types: ['work.item.*'], filter: { teams: ['web'], projects: [`github:${repo.toUpperCase()}`], categories: ['project'] } });
    await subscribe(tenant, { url: other.url, types: ['work.item.*'], filter: { projects: ['jira:OPS'] } });
    await postGithub(hub.url, tenant.github, 'issues', issueOpened(31));
    await settled(hub);
    await eventually(() => mine.delivered().length >= 1, { what: 'the matching subscription' });
    await hub.hub.webhooks.kickAll();
    expect(other.received).toHaveLength(0);
  });
});
