import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

describe('GET /v1/export', () => {
  let hub: TestHub;
  let token: string;
  let otherToken: string;
  const api = (method: string, path: string, body?: unknown, as = token) => hub.api(method, path, body, as);

  beforeAll(async () => {
    hub = await startTestHub();
    token = (await hub.api('POST', '/v1/tenants', { name: 'exported' })).body.adminToken;
    otherToken = (await hub.api('POST', '/v1/tenants', { name: 'other' })).body.adminToken;
    const connection = await hub.createConnection('github', token);
    for (let n = 1; n <= 4; n++) {
      const payload = issueAssignedToDana(n, { body: n > 1 ? `blocked by #${n - 1}` : 'first' });
      expect((await postGithub(hub.url, connection, 'issues', payload)).status).toBe(202);
    }
    const otherConnection = await hub.createConnection('github', otherToken);
    const foreign = issueAssignedToDana(99);
    foreign.repository.full_name = 'elsewhere/secret-repo';
    expect((await postGithub(hub.url, otherConnection, 'issues', foreign)).status).toBe(202);
    await settled(hub);
    const items = (await api('GET', '/v1/items?limit=200')).body.items as any[];
    const link = await api('POST', '/v1/links', { from: items[0].id, type: 'relates', to: items[1].id });
    expect(link.status).toBeLessThan(300);
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('streams items, links and people as NDJSON whose counts equal the index, and nothing of another tenant', async () => {
    const response = await fetch(`${hub.url}/v1/export`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await response.text();
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    expect(lines.every((line) => typeof line.type === 'string')).toBe(true);
    expect(lines[0]).toMatchObject({ type: 'export', schemaVersion: 1 });
    const byType = (type: string) => lines.filter((line) => line.type === type);

    const items = (await api('GET', '/v1/items?limit=200&includeDeleted=true')).body.items as any[];
    expect(byType('item').map((i) => i.id).sort()).toEqual(items.map((i) => i.id).sort());
    const edges = items.flatMap((i) => i.links.map((l: any) => `${i.ref} ${l.type} ${l.target}`)).sort();
    expect(edges.length).toBeGreaterThanOrEqual(4);
    expect(byType('link').map((l) => `${l.from} ${l.linkType} ${l.to}`).sort()).toEqual(edges);
    expect(byType('link').some((l) => l.origin === 'manual')).toBe(true);
    expect(byType('manual_link')).toHaveLength(1);
    const people = (await api('GET', '/v1/people')).body.items as any[];
    expect(byType('person')).toHaveLength(people.length + people.reduce((n, p) => n + p.merged.length, 0));
    // The event log too: every event of the tenant, none of another's.
    expect(byType('event').length).toBeGreaterThanOrEqual(items.length);
    expect(byType('event').every((e) => e.event.tenantId === lines[0]!.tenantId && typeof e.cursor === 'string')).toBe(true);
    expect(lines.at(-1)).toEqual({
      type: 'end',
      counts: { item: items.length, link: edges.length, manual_link: 1, person: byType('person').length, subscription: 0, subscription_delivery: 0, subscription_attempt: 0, event: byType('event').length },
    });
    expect(text).not.toContain('secret-repo');
  });

  it('needs an admin token', async () => {
    const reader = (await api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token;
    expect((await api('GET', '/v1/export', undefined, reader)).status).toBe(403);
  });
});
