import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { CLOUD_SITE, cloudPayload } from '../fixtures/jira-examples.ts';
import { OPERATOR_TOKEN, type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

interface Entry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail?: Record<string, unknown>;
}

const tokenIdOf = (token: string) => token.split('.')[0]!;

describe('the audit log of admin actions', () => {
  let hub: TestHub;
  let tenant: { id: string; adminToken: string };
  let other: { id: string; adminToken: string };
  /** Every secret and token handed out during the test: none may appear in any audit entry. */
  const secrets: string[] = [];
  const api = (method: string, path: string, body?: unknown, as = tenant.adminToken) => hub.api(method, path, body, as);
  const audit = async (query = '', as = tenant.adminToken): Promise<Entry[]> => {
    const response = await hub.api('GET', `/v1/audit${query}`, undefined, as);
    expect(response.status).toBe(200);
    return response.body.items;
  };
  /** The one entry of `action` (there must be exactly one). */
  const only = async (action: string, as = tenant.adminToken): Promise<Entry> => {
    const entries = await audit(`?action=${action}&limit=200`, as);
    expect(entries, action).toHaveLength(1);
    return entries[0]!;
  };

  beforeAll(async () => {
    hub = await startTestHub();
    tenant = (await hub.api('POST', '/v1/tenants', { name: 'audited' })).body;
    other = (await hub.api('POST', '/v1/tenants', { name: 'neighbour' })).body;
    secrets.push(tenant.adminToken, other.adminToken);
  });
  afterAll(() => hub.close());

  it('records tenant creation in the operator’s tenant, with the new tenant as target and no token', async () => {
    const entries = (await audit('?action=tenant.created&limit=200', OPERATOR_TOKEN)).filter((e) => e.target === tenant.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'operator', action: 'tenant.created', target: tenant.id, detail: { name: 'audited', adminTokenId: tokenIdOf(tenant.adminToken) } });
  });

  it('records connections created, rotated and deleted, by the token that acted, never with a secret', async () => {
    const actor = tokenIdOf(tenant.adminToken);
    const connection = await hub.createConnection('github', tenant.adminToken);
    secrets.push(connection.secret);
    expect(await only('connection.created')).toMatchObject({ actor, target: connection.id, detail: { source: 'github', name: 'test github' } });

    const rotated = await api('POST', `/v1/connections/${connection.id}/rotate-secret`, { graceSeconds: 60 });
    expect(rotated.status).toBe(200);
    secrets.push(rotated.body.secret);
    expect(await only('connection.secret_rotated')).toMatchObject({ actor, target: connection.id, detail: { graceSeconds: 60 } });

    expect((await api('DELETE', `/v1/connections/${connection.id}`)).status).toBe(204);
    expect(await only('connection.deleted')).toMatchObject({ actor, target: connection.id });
  });

  it('records tokens created and revoked, naming the token by id only', async () => {
    const created = await api('POST', '/v1/tokens', { name: 'ci reader', scopes: ['read'] });
    expect(created.status).toBe(201);
    secrets.push(created.body.token);
    expect(await only('token.created')).toMatchObject({ actor: tokenIdOf(tenant.adminToken), target: created.body.id, detail: { name: 'ci reader', scopes: ['read'] } });
    expect((await api('DELETE', `/v1/tokens/${created.body.id}`)).status).toBe(204);
    expect(await only('token.revoked')).toMatchObject({ actor: tokenIdOf(tenant.adminToken), target: created.body.id });
  });

  it('records settings, the team map, manual links, person merges and splits', async () => {
    const actor = tokenIdOf(tenant.adminToken);
    expect((await api('PUT', '/v1/settings', { blockerStaleDays: 9 })).status).toBe(200);
    expect(await only('settings.updated')).toMatchObject({ actor, target: 'settings', detail: { settings: { blockerStaleDays: 9 } } });
    expect((await api('PUT', '/v1/teams', { teams: [{ name: 'web', containers: ['github:codertocat/hello-world'] }] })).status).toBe(200);
    expect(await only('teams.updated')).toMatchObject({ actor, target: 'teams', detail: { teams: ['web'] } });

    const github = await hub.createConnection('github', tenant.adminToken);
    const jira = await hub.createConnection('jira', tenant.adminToken, { site: CLOUD_SITE });
    secrets.push(github.secret, jira.secret);
    const issue = githubExample('issues', 'assigned').payload as any;
    expect((await postGithub(hub.url, github, 'issues', issue)).status).toBe(202);
    expect((await postJira(hub.url, jira, cloudPayload('issue-created-acme-101'))).status).toBe(202);
    await settled(hub);

    const from = `github:${String(issue.repository.full_name).toLowerCase()}#${issue.issue.number}`;
    const link = await api('POST', '/v1/links', { from, type: 'blocked_by', to: `jira:${CLOUD_SITE}/ACME-101` });
    expect(link.status).toBe(201);
    expect(await only('link.created')).toMatchObject({ actor, target: link.body.id, detail: { from, type: 'blocked_by', to: `jira:${CLOUD_SITE}/ACME-101` } });
    expect((await api('DELETE', `/v1/links/${link.body.id}`)).status).toBe(204);
    expect(await only('link.deleted')).toMatchObject({ actor, target: link.body.id });

    const people = (await api('GET', '/v1/people')).body.items as any[];
    const octo = people.find((p) => p.handles.some((h: any) => h.source === 'github'))!;
    const jiraPerson = people.find((p) => p.handles.some((h: any) => h.source === 'jira'))!;
    expect((await api('POST', '/v1/people/merge', { into: octo.id, people: [jiraPerson.id] })).status).toBe(200);
    expect(await only('person.merged')).toMatchObject({ actor, target: octo.id, detail: { others: [jiraPerson.id] } });
    expect((await api('POST', `/v1/people/${octo.id}/split`, {})).status).toBe(200);
    expect(await only('person.split')).toMatchObject({ actor, target: octo.id, detail: { others: [jiraPerson.id] } });

    // The people view reads the same entries, in its own shape.
    const peopleAudit = (await api('GET', '/v1/people/audit')).body.items as any[];
    expect(peopleAudit.map((a) => a.action).sort()).toEqual(['merge', 'split']);
    expect(peopleAudit.every((a) => a.by === actor && a.personId === octo.id)).toBe(true);
  });

  it('lists newest first, in pages, each action once, and never a secret or a token', async () => {
    const all = await audit('?limit=200');
    expect(all.map((e) => e.action).sort()).toEqual(
      [
        'connection.created',
        'connection.created',
        'connection.created',
        'connection.deleted',
        'connection.secret_rotated',
        'link.created',
        'link.deleted',
        'person.merged',
        'person.split',
        'settings.updated',
        'teams.updated',
        'token.created',
        'token.revoked',
      ].sort(),
    );
    expect(all.map((e) => e.at)).toEqual([...all.map((e) => e.at)].sort().reverse());
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);

    const pages: Entry[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Entry[]; nextCursor: string | null } } = await api('GET', `/v1/audit?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(5);
      pages.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages.map((e) => e.id)).toEqual(all.map((e) => e.id));

    const text = JSON.stringify([...all, ...(await audit('?limit=200', OPERATOR_TOKEN))]);
    for (const secret of secrets) expect(text).not.toContain(secret.split('.').at(-1));
  });

  it('shows a tenant only its own entries, and only to admin tokens', async () => {
    expect(await audit('?limit=200', other.adminToken)).toEqual([]);
    expect(await audit('?action=connection.created', other.adminToken)).toEqual([]);
    const reader = (await api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token as string;
    expect((await hub.api('GET', '/v1/audit', undefined, reader)).status).toBe(403);
    expect((await hub.api('GET', '/v1/audit')).status).toBe(200);
    expect((await hub.api('GET', '/v1/audit?action=Not An Action')).status).toBe(422);
    const foreignCursor = (await api('GET', '/v1/audit?limit=1')).body.nextCursor as string;
    expect((await hub.api('GET', `/v1/audit?limit=1&cursor=${foreignCursor}`, undefined, other.adminToken)).status).toBe(400);
  });
});
