import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepEventPayload } from '../../store/event-payloads.ts';
import { DANA, DANA_TERMS, issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { readAllRows } from '../support/table-rows.ts';

/** The identifiers of Dana found in a text (lowercased comparison); empty once she is erased. */
const named = (text: string) => DANA_TERMS.filter((term) => text.toLowerCase().includes(term.toLowerCase()));

describe('DELETE /v1/people/{id}: erasure', () => {
  let hub: TestHub;
  let token: string;
  let other: string;
  let connection: { id: string; secret: string };
  let danaId: string;
  let keptEventId: string;
  const api = (method: string, path: string, body?: unknown, as = token) => hub.api(method, path, body, as);

  /** Every API answer of the tenant that could show a person, as one text. */
  const everything = async () => {
    const items = (await api('GET', '/v1/items?limit=200&includeDeleted=true')).body.items as any[];
    const answers: unknown[] = [items];
    for (const item of items) answers.push((await api('GET', `/v1/items/${item.id}`)).body);
    for (const path of ['/v1/people', '/v1/alerts', '/v1/teams', '/v1/views/summary', '/v1/views/workload', '/v1/views/bottlenecks', '/v1/views/flow', '/v1/audit', `/v1/events/${keptEventId}`]) {
      const { status, body } = await api('GET', path);
      expect(status, path).toBe(200);
      answers.push(body);
    }
    const exported = await fetch(`${hub.url}/v1/export`, { headers: { authorization: `Bearer ${token}` } });
    return `${JSON.stringify(answers)}\n${await exported.text()}`;
  };

  beforeAll(async () => {
    hub = await startTestHub();
    token = (await hub.api('POST', '/v1/tenants', { name: 'erasure' })).body.adminToken;
    other = (await hub.api('POST', '/v1/tenants', { name: 'someone else' })).body.adminToken;
    connection = await hub.createConnection('github', token);
    expect((await api('PUT', '/v1/teams', { teams: [{ name: 'docs', containers: [], people: [`github:${DANA.login}`, DANA.email] }] })).status).toBe(200);
    expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(1))).status).toBe(202);
    // #2 (someone else's) waits on Dana's #1: the stale-blocker alert names its owner.
    const blocked = issueAssignedToDana(2, { body: 'blocked by #1' });
    blocked.issue.assignee = blocked.issue.assignees[0] = structuredClone((githubExample('issues', 'assigned').payload as any).issue.assignee);
    expect((await postGithub(hub.url, connection, 'issues', blocked)).status).toBe(202);
    await settled(hub);
    danaId = ((await api('GET', '/v1/people')).body.items as any[]).find((p) => p.handles.some((h: any) => h.handle === DANA.login)).id;
    // An event too large for the bus is kept in the store (the EventBridge publisher does this).
    const event = hub.publishedEvents().find((e) => e.tenantId !== 'default' && named(JSON.stringify(e)).length > 0)!;
    keptEventId = event.id;
    await keepEventPayload(hub.hub.db, event);
  });
  afterAll(() => hub.close());

  it('names Dana everywhere before the erasure (what the next tests check the absence of)', async () => {
    // The API shows her login, address and name; the raw bodies also her account id (in the avatar URL).
    expect(named(await everything())).toEqual(DANA_TERMS.slice(0, 3));
    expect(named((await readAllRows(hub.hub.db)).map(({ text }) => text).join('\n'))).toEqual(DANA_TERMS);
    expect((await api('GET', '/v1/alerts')).body.items.some((a: any) => a.message.includes(DANA.name))).toBe(true);
    expect(named(JSON.stringify(hub.publishedEvents()))).not.toEqual([]);
  });

  it('is refused to another tenant (404) and to a read token (403)', async () => {
    expect((await api('DELETE', `/v1/people/${danaId}`, undefined, other)).status).toBe(404);
    const reader = (await api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token;
    expect((await api('DELETE', `/v1/people/${danaId}`, undefined, reader)).status).toBe(403);
    expect((await api('DELETE', '/v1/people/p_nobody')).status).toBe(404);
  });

  it('erases her from people, items, alerts, views, export, events, raw deliveries and every stored row', async () => {
    const { status, body: job } = await api('DELETE', `/v1/people/${danaId}`);
    expect(status).toBe(200);
    expect(job).toMatchObject({ kind: 'erasure', status: 'done', phase: 'done' });
    expect(job.target).toMatch(/^erased-[0-9a-f]{16}$/);
    expect(job.counts.itemsRewritten).toBe(2);
    expect(job.counts.deliveriesRewritten).toBe(2);

    expect(named(await everything())).toEqual([]);
    expect(named(JSON.stringify(hub.publishedEvents()))).toEqual([]);
    const rows = await readAllRows(hub.hub.db);
    expect(rows.filter(({ text }) => named(text).length > 0).map(({ row }) => `${row.pk} ${row.sk}`)).toEqual([]);

    // The work history stays whole: same items, owned by one pseudonymous person, found by the owner filter.
    const pseudonymId = `p_${job.target.replace('-', '_')}`;
    const owned = (await api('GET', `/v1/items?owner=${pseudonymId}`)).body.items as any[];
    expect(owned.map((i) => i.title).sort()).toEqual([`Spelling error 1, cc @${job.target}`]);
    expect((await api('GET', '/v1/people')).body.items.map((p: any) => p.id)).toContain(pseudonymId);
    expect((await api('GET', `/v1/items?owner=github:${DANA.login}`)).body.items).toEqual([]);
    // Audited, without the personal data.
    const audit = (await api('GET', '/v1/audit')).body.items as any[];
    expect(audit.find((e) => e.action === 'person.erased')).toMatchObject({ target: job.target, detail: { jobId: job.id } });
  });

  it('answers a repeated erasure with the same job', async () => {
    const { status, body } = await api('DELETE', `/v1/people/${danaId}`);
    expect(status).toBe(200);
    expect((await api('GET', `/v1/jobs/${body.id}`)).body).toMatchObject({ id: body.id, kind: 'erasure', status: 'done' });
  });

  it('pseudonymizes a later delivery that names her, in the index, its events and its stored body', async () => {
    const before = hub.publishedEvents().length;
    expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(3))).status).toBe(202);
    await settled(hub);
    const item = ((await api('GET', '/v1/items?limit=200')).body.items as any[]).find((i) => i.title.startsWith('Spelling error 3'));
    expect(item.owners.map((p: any) => p.id)).toEqual([expect.stringMatching(/^p_erased_[0-9a-f]{16}$/)]);
    expect(hub.publishedEvents().length).toBeGreaterThan(before);
    expect(named(await everything())).toEqual([]);
    expect(named(JSON.stringify(hub.publishedEvents()))).toEqual([]);
    const rows = await readAllRows(hub.hub.db);
    expect(rows.filter(({ text }) => named(text).length > 0).map(({ row }) => `${row.pk} ${row.sk}`)).toEqual([]);
  });

  it('pseudonymizes a later delivery whose body is stored in parts: it is processed, and only its new parts remain, with its expiry', async () => {
    // About 600 KB of base64 compresses to some 450 KB: over the 300 KB kept inline, so the body is stored in parts.
    const filler = randomBytes(450_000).toString('base64');
    expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(4, { body: filler }))).status).toBe(202);
    await settled(hub);
    const rows = await readAllRows(hub.hub.db);
    // The only delivery of this suite with a body in parts.
    const record = rows.map(({ row }) => row).find((row) => row.sk === 'DLV' && Number(row.bodyParts) > 0);
    expect(record).toMatchObject({ status: 'processed', erasedAt: expect.any(String) });
    const parts = rows.map(({ row }) => row).filter((row) => row.pk === record!.pk && String(row.sk).startsWith('PART#'));
    expect(parts.map((part) => part.sk).sort()).toEqual(Array.from({ length: Number(record!.bodyParts) }, (_, n) => `PART#${String(record!.bodySha256).slice(0, 16)}#${n}`));
    for (const part of parts) expect(part.expiresAt).toBe(record!.expiresAt);
  });

  it('answers 202 with a job to follow when asked to respond asynchronously', async () => {
    const codertocat = ((await api('GET', '/v1/people')).body.items as any[]).find((p) => p.handles.some((h: any) => h.handle === 'Codertocat'));
    const response = await fetch(`${hub.url}/v1/people/${codertocat.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, prefer: 'respond-async' } });
    expect(response.status).toBe(202);
    const job = await response.json();
    expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    const done = await eventually(async () => {
      const { body } = await api('GET', `/v1/jobs/${job.id}`);
      return body.status === 'done' ? body : undefined;
    }, { what: 'the erasure to finish' });
    expect(done.counts.itemsRewritten).toBeGreaterThan(0);
    expect(JSON.stringify((await api('GET', '/v1/items?limit=200')).body)).not.toContain('Codertocat"');
  });
});
