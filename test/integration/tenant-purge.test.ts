import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { readAllRows } from '../support/table-rows.ts';

describe('DELETE /v1/tenants/{id}: purge', () => {
  let hub: TestHub;
  const tenants: Record<'doomed' | 'kept', { id: string; adminToken: string }> = {} as never;

  /** Rows naming the tenant anywhere (keys, index keys, attributes), except the operator's own record of the purge. */
  const rowsOf = async (tenantId: string) =>
    (await readAllRows(hub.hub.db))
      .filter(({ row }) => !String(row.pk).startsWith('JOB#') && row.pk !== 'T#default#AUDIT' && !String(row.gsi1pk ?? '').startsWith('T#default#'))
      .filter(({ text }) => text.includes(tenantId))
      .map(({ row }) => `${row.pk} ${row.sk}`)
      .sort();

  beforeAll(async () => {
    hub = await startTestHub();
    for (const name of ['doomed', 'kept'] as const) {
      tenants[name] = (await hub.api('POST', '/v1/tenants', { name })).body;
      const token = tenants[name].adminToken;
      const connection = await hub.createConnection('github', token);
      await hub.api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] }, token);
      await hub.api('PUT', '/v1/teams', { teams: [{ name: 'docs', containers: ['github:codertocat/hello-world'] }] }, token);
      expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(1))).status).toBe(202);
      expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(2, { body: 'blocked by #1' }))).status).toBe(202);
    }
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('deletes every row of the tenant in a job with progress, and nothing of another tenant', async () => {
    const doomedBefore = await rowsOf(tenants.doomed.id);
    const keptBefore = await rowsOf(tenants.kept.id);
    expect(doomedBefore.length).toBeGreaterThan(20);
    expect(doomedBefore.some((key) => key.startsWith('TOKEN#'))).toBe(true);
    expect(doomedBefore.some((key) => key.startsWith('CONN#'))).toBe(true);

    const response = await fetch(`${hub.url}/v1/tenants/${tenants.doomed.id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer test-operator-token-0123456789', prefer: 'respond-async' },
    });
    expect(response.status).toBe(202);
    const job = await response.json();
    expect(job).toMatchObject({ kind: 'tenant-purge', status: 'running', target: tenants.doomed.id });
    // Revoked at once, before the job ran.
    expect((await hub.api('GET', '/v1/items', undefined, tenants.doomed.adminToken)).status).toBe(401);
    const done = await eventually(async () => {
      const { body } = await hub.api('GET', `/v1/jobs/${job.id}`);
      return body.status === 'done' ? body : undefined;
    }, { what: 'the purge to finish' });
    expect(done.phase).toBe('done');
    // Tokens and connections were deleted by the request itself; the job deleted the rest.
    expect(done.counts.rowsDeleted).toBeGreaterThan(doomedBefore.length / 2);
    expect(done.counts.rowsScanned).toBeGreaterThan(0);

    expect(await rowsOf(tenants.doomed.id)).toEqual([]);
    expect(await rowsOf(tenants.kept.id)).toEqual(keptBefore);
    expect((await hub.api('GET', '/v1/items', undefined, tenants.kept.adminToken)).body.items).toHaveLength(2);
    expect((await hub.api('DELETE', `/v1/tenants/${tenants.doomed.id}`)).status).toBe(404);
    const audit = (await hub.api('GET', '/v1/audit')).body.items as any[];
    expect(audit.find((e) => e.action === 'tenant.deleted')).toMatchObject({ target: tenants.doomed.id, detail: { jobId: job.id } });
  });
});
