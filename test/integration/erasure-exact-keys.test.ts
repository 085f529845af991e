import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { readAllRows } from '../support/table-rows.ts';

/**
 * An erasure deletes exactly the rows whose key is built from the person's identifiers, never a
 * row whose key merely contains one of them: logins `def` (part of the tenant id `default`),
 * `team` (of `TEAMS`) and `agg` (of the counters' `AGG`) are erased in the operator's tenant,
 * `default`, next to a team map, settings, a manual link, a dependency and other people's items.
 */
const LOGINS = ['def', 'team', 'agg'] as const;

const githubUser = (login: string, id: number) => ({
  login,
  id,
  node_id: `U_${id}`,
  avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
  url: `https://api.github.com/users/${login}`,
  html_url: `https://github.com/${login}`,
  type: 'User',
  site_admin: false,
});

/** A real `issues.assigned` payload as issue `number`, assigned to `login`, mentioning them in its title. */
const issueAssignedTo = (number: number, login: string, id: number) => {
  const payload = issueAssignedToDana(number, { body: 'Found while proofreading' });
  payload.issue.title = `Spelling error ${number}, cc @${login}`;
  payload.issue.assignee = payload.assignee = githubUser(login, id);
  payload.issue.assignees = [githubUser(login, id)];
  payload.sender = githubUser(login, id);
  return payload;
};

type Row = { row: Record<string, unknown>; text: string };
/** The partitions of owner entries in the operator's tenant: `T#default#owner#{person id | source:handle | address}`. */
const OWNER_ENTRIES = 'T#default#owner#';
const keyOf = (row: Record<string, unknown>) => `${String(row.pk)} | ${String(row.sk)}`;

describe('erasure deletes by exact keys, never by substring', () => {
  let hub: TestHub;
  const api = (method: string, path: string, body?: unknown) => hub.api(method, path, body);

  beforeAll(async () => {
    hub = await startTestHub();
    const connection = await hub.createConnection('github');
    for (const [n, login] of LOGINS.entries()) expect((await postGithub(hub.url, connection, 'issues', issueAssignedTo(n + 1, login, 9_100_000 + n))).status).toBe(202);
    // #4 is someone else's and waits on #1: a dependency state and a reverse edge next to the erased people's items.
    const blocked = issueAssignedToDana(4, { body: 'blocked by #1' });
    blocked.issue.title = 'Spelling error 4';
    blocked.issue.assignee = blocked.issue.assignees[0] = structuredClone((githubExample('issues', 'assigned').payload as any).issue.assignee);
    blocked.sender = blocked.issue.assignee;
    expect((await postGithub(hub.url, connection, 'issues', blocked)).status).toBe(202);
    await settled(hub);
    expect((await api('PUT', '/v1/teams', { teams: [{ name: 'docs', containers: ['github:codertocat/hello-world'], people: ['github:codertocat'] }] })).status).toBe(200);
    expect((await api('PUT', '/v1/settings', { wipLimitPerPerson: 7 })).status).toBe(200);
    const items = (await api('GET', '/v1/items?limit=200')).body.items as any[];
    const ref = (n: number) => items.find((i) => i.title.startsWith(`Spelling error ${n}`)).ref;
    expect((await api('POST', '/v1/links', { from: ref(2), type: 'relates', to: ref(4) })).status).toBe(201);
    await settled(hub);
  });
  afterAll(() => hub?.close());

  for (const login of LOGINS) {
    it(`erasing login "${login}" deletes only the rows keyed by that person, and changes only rows naming them`, async () => {
      const person = ((await api('GET', '/v1/people')).body.items as any[]).find((p) => p.handles.some((h: any) => h.handle === login));
      expect(person).toBeDefined();
      const owned = ((await api('GET', `/v1/items?owner=${person.id}`)).body.items as any[]).map((i) => i.id as string);
      expect(owned).toHaveLength(1);
      const before = await readAllRows(hub.hub.db);

      const { status, body: job } = await api('DELETE', `/v1/people/${person.id}`);
      expect(status).toBe(200);
      expect(job).toMatchObject({ kind: 'erasure', status: 'done' });
      const after = await readAllRows(hub.hub.db);

      // Rows whose key is built from the person: their record, owner facets, work in progress.
      const ownerKeys = new Set([person.id, `github:${login}`]);
      const keyedByPerson = ({ row }: Row) => {
        const [pk, sk] = [String(row.pk), String(row.sk)];
        return (
          sk === `P#${person.id}` ||
          (pk.startsWith(OWNER_ENTRIES) && ownerKeys.has(pk.slice(OWNER_ENTRIES.length))) ||
          sk.startsWith(`person:${person.id}#`) ||
          (pk.endsWith('#WIPSEQ') && sk === `person:${person.id}`)
        );
      };
      const afterKeys = new Set(after.map(({ row }) => keyOf(row)));
      const deleted = before.filter(({ row }) => !afterKeys.has(keyOf(row)));
      expect(deleted.filter((r) => !keyedByPerson(r)).map(({ row }) => keyOf(row))).toEqual([]);
      expect(deleted.map(({ row }) => String(row.sk))).toEqual(expect.arrayContaining([`P#${person.id}`]));
      expect(deleted.map(({ row }) => String(row.pk))).toEqual(expect.arrayContaining([`${OWNER_ENTRIES}github:${login}`, `${OWNER_ENTRIES}${person.id}`]));

      // Rows kept but changed: the owned item's partition and counters, or rows whose content named the person.
      const afterByKey = new Map(after.map((r) => [keyOf(r.row), r.text]));
      const namesPerson = ({ row, text }: Row) =>
        owned.some((id) => String(row.pk).endsWith(`#ITEM#${id}`) || String(row.sk).endsWith(`#${id}`)) ||
        String(row.pk).endsWith('#AGG') ||
        [person.id, `"${login}"`, `github:${login}`, `@${login}`].some((term) => text.toLowerCase().includes(term.toLowerCase()));
      const changed = before.filter((r) => afterByKey.has(keyOf(r.row)) && afterByKey.get(keyOf(r.row)) !== r.text);
      expect(changed.filter((r) => !namesPerson(r)).map(({ row }) => keyOf(row))).toEqual([]);

      // What the tenant shows besides the person is whole: team map, settings, the link, the other items.
      expect((await api('GET', '/v1/teams')).body.teams).toEqual([{ name: 'docs', containers: ['github:codertocat/hello-world'], people: ['github:codertocat'] }]);
      expect((await api('GET', '/v1/settings')).body).toMatchObject({ wipLimitPerPerson: 7 });
      expect((await api('GET', '/v1/items?limit=200')).body.items).toHaveLength(4);
    });
  }
});
