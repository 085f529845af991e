import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLimits } from '../../core/connector.ts';
import { CLOUD_SITE, cloudPayload } from '../fixtures/jira-examples.ts';
import { postJira } from '../support/jira.ts';
import { type TestHub, eventually, settled, startTestHub } from '../support/hub.ts';
import { FakeJira } from '../support/fake-jira.ts';

const fakeTime = (): Partial<RequestLimits> => {
  let now = Date.now();
  return { now: () => now, sleep: async (ms) => void (now += ms) };
};

const item = async (hub: TestHub, ref: string) => (await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`)).body;

describe('Jira backfill and reconciliation over HTTP', () => {
  let jira: FakeJira;
  let hub: TestHub;

  beforeAll(async () => {
    jira = await FakeJira.start();
    hub = await startTestHub({ limits: fakeTime() });
  });
  afterAll(async () => {
    await hub.close();
    await jira.close();
  });

  it('fills the index from the search pages, identical to the webhooks, then heals deletions and access loss', async () => {
    for (let n = 1; n <= 5; n++) jira.addIssue(`ACME-${n}`, { created: `2026-01-0${n}T09:00:00.000+0000` });
    jira.addIssue('OPS-1', { created: '2026-01-09T09:00:00.000+0000' });
    const connection = await hub.createConnection('jira', undefined, {
      site: CLOUD_SITE,
      credentials: { email: jira.email, apiToken: jira.apiToken, apiUrl: jira.url, search: 'classic', pageSize: 2, maxRequestsPerSecond: 100 },
    });
    expect((await hub.api('GET', `/v1/connections/${connection.id}`)).body.settings.credentials).toMatchObject({ email: jira.email, apiToken: '********' });

    const started = await hub.api('POST', `/v1/connections/${connection.id}/backfill`, { since: '2026-10-01' });
    expect(started.status).toBe(202);
    const job = await eventually(async () => {
      const { body } = await hub.api('GET', `/v1/jobs/${started.body.id}`);
      return body.status === 'running' ? undefined : body;
    });
    expect(job).toMatchObject({ status: 'done', counts: { pages: 3, records: 6, applied: 6, failed: 0 } });
    await settled(hub);
    expect(await item(hub, `jira:${CLOUD_SITE}/ACME-1`)).toMatchObject({ source: 'jira', title: 'Issue ACME-1' });

    // The webhook of the same state is recognized as nothing new.
    const before = await item(hub, `jira:${CLOUD_SITE}/ACME-2`);
    const eventsBefore = hub.publishedEvents().length;
    const webhook = { ...cloudPayload('issue-updated-acme-101-in-progress'), issue: jira.issues.find((i) => i.key === 'ACME-2') };
    expect((await postJira(hub.url, connection, webhook)).status).toBe(202);
    await settled(hub);
    expect(await item(hub, `jira:${CLOUD_SITE}/ACME-2`)).toEqual(before);
    expect(hub.publishedEvents().length).toBe(eventsBefore);

    // A missed update, a deletion, and a project the account can no longer read.
    Object.assign(jira.issues.find((i) => i.key === 'ACME-1')!.fields, { summary: 'renamed', updated: new Date().toISOString().replace('Z', '+0000') });
    jira.issues.splice(jira.issues.findIndex((i) => i.key === 'ACME-3'), 1);
    jira.refusedProjects.add('OPS');
    const report = await hub.hub.reconcile({ verifyLimit: 100 });
    expect(report).toMatchObject({ errors: 0 });
    await settled(hub);
    expect(await item(hub, `jira:${CLOUD_SITE}/ACME-1`)).toMatchObject({ title: 'renamed' });
    expect(await item(hub, `jira:${CLOUD_SITE}/ACME-3`)).toMatchObject({ deleted: { reason: 'deleted' } });
    expect(await item(hub, `jira:${CLOUD_SITE}/OPS-1`)).toMatchObject({ deleted: { reason: 'access_lost' } });
  });
});
