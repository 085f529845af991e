import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { markerOf, readMarkedEvents } from '../../store/event-log.ts';
import { listQueued } from '../../store/queue.ts';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { createJsonLogger } from '../../functions/log.ts';
import { startReplay, runReplayJob } from '../../pipeline/replay.ts';
import { listAuditLog } from '../../store/audit.ts';
import { createDb } from '../../store/db.ts';
import { loadItem } from '../../store/items.ts';
import { type ReplayJobRecord, getJob } from '../../store/jobs.ts';
import { type CloudFixture, cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, eventually, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const SITE = 'acme.atlassian.net';
const ref = (key: string) => `jira:${SITE}/${key}`;
/** ACME-101 created (Payments Team, To Do), ACME-102 created (no team), ACME-101 moved to In Progress. */
const HISTORY: CloudFixture[] = ['issue-created-acme-101', 'issue-created-acme-102', 'issue-updated-acme-101-in-progress'];
/** The mapping changed after the fact: the team custom field, and "In Progress" counted as review. */
const MAPPING = { customFields: { customfield_10001: 'team' }, statusRules: { 'In Progress': 'in_review' } };

/** The state two runs must agree on: everything but the version, which counts writes. */
const comparable = ({ version: _version, ...rest }: any) => rest;

type Connection = { id: string; secret: string };

const newTenant = async (hub: TestHub, name: string) => {
  const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { id: string; adminToken: string };
  const token = tenant.adminToken;
  return {
    id: tenant.id,
    token,
    api: (method: string, path: string, body?: unknown) => hub.api(method, path, body, token),
    jira: (extra: Record<string, unknown> = {}) => hub.createConnection('jira', token, { site: SITE, ...extra }) as Promise<Connection>,
    item: async (key: string) => (await hub.api('GET', `/v1/items/${encodeURIComponent(ref(key))}`, undefined, token)).body,
    events: () => hub.publishedEvents().filter((e) => e.tenantId === tenant.id),
  };
};

const deliverHistory = async (hub: TestHub, connection: Connection) => {
  for (const name of HISTORY) expect((await postJira(hub.url, connection, cloudPayload(name))).status).toBe(202);
  await settled(hub);
};

const finished = (hub: TestHub, token: string, jobId: string) =>
  eventually(async () => {
    const job = (await hub.api('GET', `/v1/jobs/${jobId}`, undefined, token)).body;
    return job.status === 'running' ? undefined : job;
  }, { what: `replay ${jobId} to finish` });

describe('replay after a mapping change', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it('updates a connection\'s mapping rules, validated by its source\'s settings schema, and audits it', async () => {
    const tenant = await newTenant(hub, 'patch');
    const connection = await tenant.jira({ credentials: { email: 'bot@acme.example', apiToken: 'secret-token-1234' } });
    const patched = await tenant.api('PATCH', `/v1/connections/${connection.id}`, { name: 'Acme Jira', ...MAPPING });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Acme Jira', settings: { site: SITE, ...MAPPING, credentials: { email: 'bot@acme.example', apiToken: '********' } } });
    expect(patched.body.secret).toBeUndefined();
    // Merge patch: null removes a rule, other settings stay.
    const removed = await tenant.api('PATCH', `/v1/connections/${connection.id}`, { statusRules: { 'In Progress': null } });
    expect(removed.body.settings).toMatchObject({ statusRules: {}, customFields: MAPPING.customFields });

    const invalid = await tenant.api('PATCH', `/v1/connections/${connection.id}`, { customFields: { story_points: 'storyPoints' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors).toEqual([expect.objectContaining({ path: 'customFields.story_points' })]);
    const secret = await tenant.api('PATCH', `/v1/connections/${connection.id}`, { credentials: { apiToken: 'another-token-5678' } });
    expect(secret.status).toBe(422);
    expect(secret.body.errors).toEqual([expect.objectContaining({ path: 'credentials.apiToken' })]);
    expect((await tenant.api('PATCH', `/v1/connections/${connection.id}`, { source: 'github' })).status).toBe(422);
    expect((await tenant.api('GET', `/v1/connections/${connection.id}`)).body.settings.credentials).toMatchObject({ email: 'bot@acme.example' });

    const audit = await listAuditLog(hub.hub.db, tenant.id, { limit: 10 });
    expect(audit.items.filter((e) => e.action === 'connection.updated')).toHaveLength(2);
    expect(audit.items[0]).toMatchObject({ target: connection.id, detail: { changed: ['statusRules'] } });
  });

  it('re-derives items with the new rules, publishing only the resulting changes, as fresh deliveries would have', async () => {
    const tenant = await newTenant(hub, 'replayed');
    const connection = await tenant.jira();
    await deliverHistory(hub, connection);
    const before = { acme101: await tenant.item('ACME-101'), acme102: await tenant.item('ACME-102') };
    expect(before.acme101).toMatchObject({ status: { category: 'in_progress' } });
    expect(before.acme101.team).toBeUndefined();
    const eventsBefore = tenant.events().length;

    expect((await tenant.api('PATCH', `/v1/connections/${connection.id}`, MAPPING)).status).toBe(200);
    const started = await tenant.api('POST', '/v1/replay', { connectionId: connection.id });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ kind: 'replay', status: 'running', connectionId: connection.id, id: expect.stringMatching(/^job_/) });
    const job = await finished(hub, tenant.token, started.body.id);
    expect(job).toMatchObject({ status: 'done', counts: { total: 3, processed: 3, ignored: 0, failed: 0 }, remaining: 0, error: null });
    await settled(hub);

    const after = { acme101: await tenant.item('ACME-101'), acme102: await tenant.item('ACME-102') };
    expect(after.acme101).toMatchObject({ team: 'Payments Team', status: { name: 'In Progress', category: 'in_review' } });
    expect(after.acme102).toEqual(before.acme102);

    const replayed = tenant.events().slice(eventsBefore);
    expect(replayed.length).toBeGreaterThan(0);
    expect(new Set(replayed.map((e) => e.subject))).toEqual(new Set([ref('ACME-101')]));
    expect(replayed).toContainEqual(expect.objectContaining({ type: 'work.item.status_changed', data: expect.objectContaining({ to: expect.objectContaining({ category: 'in_review' }) }) }));
    expect(replayed.find((e) => e.type === 'work.item.updated')?.data).toMatchObject({ changes: { team: { after: 'Payments Team' } } });
    // Not mistaken for the first processing's events by consumers deduping on ids.
    const firstIds = new Set(tenant.events().slice(0, eventsBefore).map((e) => e.id));
    expect(replayed.filter((e) => firstIds.has(e.id))).toEqual([]);

    // The same deliveries to a connection that had the rules from the start give the same items.
    const fresh = await newTenant(hub, 'fresh');
    await deliverHistory(hub, await fresh.jira(MAPPING));
    expect(comparable(after.acme101)).toEqual(comparable(await fresh.item('ACME-101')));
    expect(comparable(after.acme102)).toEqual(comparable(await fresh.item('ACME-102')));

    // Replaying again changes nothing and publishes nothing.
    const eventsAfter = tenant.events().length;
    const again = await finished(hub, tenant.token, (await tenant.api('POST', '/v1/replay', {})).body.id);
    expect(again.counts).toMatchObject({ total: 3, processed: 3 });
    await settled(hub);
    expect(tenant.events().length).toBe(eventsAfter);
    expect((await tenant.item('ACME-101')).version).toBe(after.acme101.version);

    const audit = await listAuditLog(hub.hub.db, tenant.id, { limit: 10 });
    expect(audit.items.filter((e) => e.action === 'replay.started').map((e) => e.target)).toEqual([again.id, job.id]);
  });

  it('replays only the deliveries received in the window, and checks what it is asked', async () => {
    const tenant = await newTenant(hub, 'window');
    const connection = await tenant.jira();
    await deliverHistory(hub, connection);
    const past = await finished(hub, tenant.token, (await tenant.api('POST', '/v1/replay', { until: '2020-01-01' })).body.id);
    expect(past).toMatchObject({ status: 'done', until: '2020-01-01T00:00:00.000Z', counts: { total: 0, processed: 0 } });
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const recent = await finished(hub, tenant.token, (await tenant.api('POST', '/v1/replay', { since, connectionId: connection.id })).body.id);
    expect(recent.counts).toMatchObject({ total: 3, processed: 3 });

    expect((await tenant.api('POST', '/v1/replay', { since: '2026-02-01', until: '2026-01-01' })).status).toBe(422);
    expect((await tenant.api('POST', '/v1/replay', { since: 'yesterday' })).status).toBe(422);
    expect((await tenant.api('POST', '/v1/replay', { connectionId: 'con_unknown' })).status).toBe(404);
    const stranger = await newTenant(hub, 'stranger');
    expect((await stranger.api('POST', '/v1/replay', { connectionId: connection.id })).status).toBe(404);
    expect((await stranger.api('GET', `/v1/jobs/${recent.id}`)).status).toBe(404);
  });

  it('fails a delivery whose stored body this version cannot read, and replays the others', async () => {
    const tenant = await newTenant(hub, 'unreadable');
    const connection = await tenant.jira();
    await deliverHistory(hub, connection);
    // As a newer version would have stored one of them.
    const { Items } = await hub.hub.db.doc.send(
      new ScanCommand({ TableName: hub.hub.db.table, FilterExpression: 'tenantId = :t AND sk = :s', ExpressionAttributeValues: { ':t': tenant.id, ':s': 'DLV' } }),
    );
    await hub.hub.db.doc.send(
      new UpdateCommand({ TableName: hub.hub.db.table, Key: { pk: Items![0]!.pk, sk: 'DLV' }, UpdateExpression: 'SET bodyEncoding = :e', ExpressionAttributeValues: { ':e': 'deflate-raw:jira-9' } }),
    );

    const job = await finished(hub, tenant.token, (await tenant.api('POST', '/v1/replay', { connectionId: connection.id })).body.id);
    expect(job).toMatchObject({ status: 'done', counts: { total: 3, processed: 3, failed: 1 } });
    const failed = (await tenant.api('GET', '/v1/deliveries?status=failed')).body.items;
    expect(failed).toHaveLength(1);
    expect(failed[0].reason).toMatch(/cannot read: upgrade it, then retry the delivery/);
  });
});

describe('asking for a replay that is running already', () => {
  it('answers 200 with the running replay of the same connection and window, and starts a new one once it finished', async () => {
    const hub = await startTestHub();
    try {
      const tenant = await newTenant(hub, 'twice');
      const connection = await tenant.jira();
      await deliverHistory(hub, connection);
      // The job runner is held, so the replay is still running when it is asked for again.
      await hub.hub.jobs.queue.stop();
      const first = await tenant.api('POST', '/v1/replay', { connectionId: connection.id });
      expect(first).toMatchObject({ status: 202, body: { status: 'running' } });
      const again = await tenant.api('POST', '/v1/replay', { connectionId: connection.id });
      expect(again).toMatchObject({ status: 200, body: { id: first.body.id, status: 'running' } });
      // Another window, or every connection, is another replay.
      const windowed = await tenant.api('POST', '/v1/replay', { connectionId: connection.id, since: '2020-01-01' });
      expect(windowed.status).toBe(202);
      expect(windowed.body.id).not.toBe(first.body.id);
      const everything = await tenant.api('POST', '/v1/replay', {});
      expect(everything.status).toBe(202);
      // Only the replays started are audited.
      const audit = await listAuditLog(hub.hub.db, tenant.id, { limit: 20 });
      expect(audit.items.filter((e) => e.action === 'replay.started').map((e) => e.target).sort()).toEqual(
        [first.body.id, windowed.body.id, everything.body.id].sort(),
      );

      hub.hub.jobs.queue.start();
      expect(await finished(hub, tenant.token, first.body.id)).toMatchObject({ status: 'done', counts: { processed: 3 } });
      const later = await tenant.api('POST', '/v1/replay', { connectionId: connection.id });
      expect(later.status).toBe(202);
      expect(later.body.id).not.toBe(first.body.id);
      await finished(hub, tenant.token, later.body.id);
    } finally {
      hub.hub.jobs.queue.start();
      await hub.close();
    }
  });
});

describe('a replay interrupted before its checkpoint', () => {
  it('resumes from the saved position and re-runs only the unsaved batch, which changes nothing twice', async () => {
    const hub = await startTestHub();
    const tenant = await newTenant(hub, 'resume');
    const connection = await tenant.jira();
    await deliverHistory(hub, connection);
    expect((await tenant.api('PATCH', `/v1/connections/${connection.id}`, MAPPING)).status).toBe(200);
    const table = hub.hub.db.table;
    await hub.close(); // no hub runs the job: this test does, step by step

    const db = createDb({ endpoint: inject('dynamodbEndpoint'), table });
    const deps = { db, connectors: createConnectorRegistry(), clock: () => new Date(), log: createJsonLogger('silent') };
    const { job } = await startReplay(deps, tenant.id, { connectionId: connection.id });
    // The storage fails the checkpoint after the third batch, as a crash right before it would.
    let failures = 0;
    db.doc.middlewareStack.add(
      (next) => async (args: any) => {
        const input = JSON.stringify(args.input ?? {});
        if (failures === 0 && input.includes(`JOB#${job.id}`) && input.includes('\\"processed\\":3')) {
          failures++;
          throw new Error('storage unavailable (test)');
        }
        return next(args);
      },
      { step: 'initialize', name: 'failReplayCheckpoint' },
    );

    expect(await runReplayJob(deps, job.id, undefined, { batchSize: 1 })).toBe(false);
    const interrupted = (await getJob<ReplayJobRecord>(db, job.id))!;
    expect(failures).toBe(1);
    expect(interrupted).toMatchObject({ status: 'running', attempts: 1, error: 'storage unavailable (test)', counts: { total: 3, processed: 2 } });
    expect(interrupted.cursor).toEqual(expect.any(String));

    expect(await runReplayJob(deps, job.id, undefined, { batchSize: 1 })).toBe(true);
    expect(await getJob<ReplayJobRecord>(db, job.id)).toMatchObject({ status: 'done', attempts: 0, counts: { total: 3, processed: 3 } });
    // Nothing publishes here, so the replay's events wait in the outbox: each once.
    const record = await loadItem(db, tenant.id, itemIdForRef(ref('ACME-101')));
    expect(record.item).toMatchObject({ team: 'Payments Team', status: { category: 'in_review' } });
    const waiting = await readMarkedEvents(db, (await listQueued(db, 'outbox', { limit: 1000 })).map(markerOf));
    const replayed = waiting.filter((l) => l.event.subject === ref('ACME-101') && l.event.type === 'work.item.status_changed');
    expect(replayed).toHaveLength(1);
    expect(new Set(waiting.map((l) => l.event.id)).size).toBe(waiting.length);
    expect(waiting.filter((l) => l.event.subject === ref('ACME-102'))).toEqual([]);
  });
});
