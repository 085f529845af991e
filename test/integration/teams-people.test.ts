import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { CLOUD_HISTORY, cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

describe('teams and people', () => {
  let hub: TestHub;
  let token: string;
  let readToken: string;
  const api = (method: string, path: string, body?: unknown, as = token) => hub.api(method, path, body, as);
  const items = async () => (await api('GET', '/v1/items?limit=200')).body.items as any[];

  beforeAll(async () => {
    hub = await startTestHub();
    token = (await hub.api('POST', '/v1/tenants', { name: 'teams' })).body.adminToken;
    readToken = (await api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token;
    const teams = await api('PUT', '/v1/teams', {
      teams: [
        { name: 'web', containers: ['github:codertocat/hello-world'] },
        { name: 'payments', containers: ['jira:ACME'], wipLimit: 1 },
      ],
    });
    expect(teams.status).toBe(200);
    const github = await hub.createConnection('github', token);
    const jira = await hub.createConnection('jira', token, { site: 'acme.atlassian.net' });
    expect((await postGithub(hub.url, github, 'issues', githubExample('issues', 'assigned').payload)).status).toBe(202);
    for (const name of CLOUD_HISTORY.slice(0, 4)) expect((await postJira(hub.url, jira, cloudPayload(name))).status).toBe(202);
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('refuses an invalid team map with 422, naming each bad field, and only from an admin token', async () => {
    const bad = await api('PUT', '/v1/teams', { teams: [{ name: 'a', containers: ['octo/api'] }, { name: 'a' }] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: any) => e.path)).toEqual(expect.arrayContaining(['teams.0.containers.0', 'teams.1.name']));
    expect((await api('PUT', '/v1/teams', { teams: [] }, readToken)).status).toBe(403);
    expect((await api('GET', '/v1/teams', undefined, readToken)).body.teams.map((t: any) => t.name)).toEqual(['web', 'payments']);
  });

  it('sets the team of items from the map as they are ingested, and counts work per team', async () => {
    const all = await items();
    for (const item of all) expect(item.team, item.ref).toBe(item.source === 'github' ? 'web' : 'payments');
    const summary = (await api('GET', '/v1/views/summary')).body;
    expect(summary.byTeam.map((t: any) => t.team).sort()).toEqual(['payments', 'web']);
    const workload = (await api('GET', '/v1/views/workload')).body;
    const payments = workload.teams.find((t: any) => t.team === 'payments');
    expect(payments).toMatchObject({ limit: 1 });
    expect(payments.overLimit).toBe(payments.wip > 1);
  });

  it('lists people seen as owners and requesters, with their handles', async () => {
    const people = (await api('GET', '/v1/people', undefined, readToken)).body.items as any[];
    const handles = people.flatMap((p) => p.handles.map((h: any) => `${h.source}:${h.handle}`));
    expect(handles).toContain('github:Codertocat');
    expect(people.some((p) => p.handles.some((h: any) => h.source === 'jira'))).toBe(true);
    expect(people.every((p) => p.roles.length > 0)).toBe(true);
  });

  it('merges a GitHub and a Jira account into one person, audits it, and splits them again', async () => {
    const people = (await api('GET', '/v1/people')).body.items as any[];
    const octo = people.find((p) => p.handles.some((h: any) => h.handle === 'Codertocat'))!;
    const jiraPerson = people.find((p) => p.handles.some((h: any) => h.source === 'jira'))!;
    expect((await api('POST', '/v1/people/merge', { into: octo.id, people: [jiraPerson.id] }, readToken)).status).toBe(403);

    const merged = await api('POST', '/v1/people/merge', { into: octo.id, people: [jiraPerson.id] });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ action: 'merge', personId: octo.id, others: [jiraPerson.id] });
    expect((await api('POST', '/v1/people/merge', { into: octo.id, people: [jiraPerson.id] })).status).toBe(409);
    const after = (await api('GET', '/v1/people')).body.items as any[];
    expect(after).toHaveLength(people.length - 1);
    const one = after.find((p) => p.id === octo.id);
    expect(one.merged).toEqual([jiraPerson.id]);
    expect(one.handles.map((h: any) => h.source).sort()).toEqual(expect.arrayContaining(['github', 'jira']));
    // Views count people, not accounts.
    const summary = (await api('GET', '/v1/views/summary')).body;
    expect(summary.byOwner.map((o: any) => o.personId)).not.toContain(jiraPerson.id);

    const split = await api('POST', `/v1/people/${octo.id}/split`, {});
    expect(split.body).toMatchObject({ action: 'split', others: [jiraPerson.id] });
    expect((await api('GET', '/v1/people')).body.items).toHaveLength(people.length);
    const audit = (await api('GET', '/v1/people/audit')).body.items as any[];
    expect(audit.map((a) => a.action)).toEqual(['split', 'merge']);
    expect((await api('POST', '/v1/people/p_unknown/split', {})).status).toBe(404);
  });
});
