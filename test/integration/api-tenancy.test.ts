import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExamples } from '../fixtures/github-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

describe('tenants only ever see their own data', () => {
  let hub: TestHub;
  let tenantA: { id: string; adminToken: string };
  let tenantB: { id: string; adminToken: string };
  let itemOfB: { id: string; ref: string };
  let connectionOfB: { id: string; secret: string };
  let tokenOfB: string;

  beforeAll(async () => {
    hub = await startTestHub();
    tenantA = (await hub.api('POST', '/v1/tenants', { name: 'A' })).body;
    tenantB = (await hub.api('POST', '/v1/tenants', { name: 'B' })).body;
    connectionOfB = await hub.createConnection('github', tenantB.adminToken);
    tokenOfB = (await hub.api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] }, tenantB.adminToken)).body.id;
    expect((await postGithub(hub.url, connectionOfB, 'issues', githubExamples('issues', { action: 'opened' })[0]!.payload)).status).toBe(202);
    await settled(hub);
    itemOfB = (await hub.api('GET', '/v1/items', undefined, tenantB.adminToken)).body.items[0];
  });
  afterAll(() => hub.close());

  it('creates tenants only with the operator token', async () => {
    expect(tenantA.id).toMatch(/^ten_/);
    expect((await hub.api('POST', '/v1/tenants', { name: 'C' }, tenantA.adminToken)).status).toBe(403);
  });

  it('indexes a delivery into the tenant that owns the connection', async () => {
    expect(itemOfB.ref).toMatch(/^github:/);
    expect((await hub.api('GET', '/v1/items', undefined, tenantA.adminToken)).body.items).toEqual([]);
    expect((await hub.api('GET', '/v1/items')).body.items).toEqual([]);
  });

  // Every route probed with another tenant's ids, tokens and webhooks: test/faults/cross-tenant.test.ts.

  it('lists only its own connections and tokens', async () => {
    expect((await hub.api('GET', '/v1/connections', undefined, tenantA.adminToken)).body.items).toEqual([]);
    const tokens = (await hub.api('GET', '/v1/tokens', undefined, tenantA.adminToken)).body.items;
    expect(tokens.map((t: any) => t.id)).not.toContain(tokenOfB);
  });

  it("streams only the tenant's own events", async () => {
    const controller = new AbortController();
    const response = await fetch(`${hub.url}/v1/events/stream`, { headers: { authorization: `Bearer ${tenantA.adminToken}` }, signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: ready');
    const payload = githubExamples('issues', { action: 'opened' })[0]!.payload as any;
    payload.issue.number = 99;
    await postGithub(hub.url, connectionOfB, 'issues', payload);
    const ownConnection = await hub.createConnection('github', tenantA.adminToken);
    payload.issue.number = 100;
    await postGithub(hub.url, ownConnection, 'issues', payload);
    let text = '';
    while (!text.includes('#100')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain('event: work.item.created');
    expect(text).not.toContain('#99"');
  });

  it('revokes a deleted tenant’s tokens and connections', async () => {
    const doomed = (await hub.api('POST', '/v1/tenants', { name: 'doomed' })).body;
    const connection = await hub.createConnection('github', doomed.adminToken);
    expect((await hub.api('DELETE', `/v1/tenants/${doomed.id}`)).status).toBe(200);
    expect((await hub.api('GET', '/v1/items', undefined, doomed.adminToken)).status).toBe(401);
    const response = await postGithub(hub.url, connection, 'issues', githubExamples('issues', { action: 'opened' })[0]!.payload);
    expect(response.status).toBe(404);
    expect((await hub.api('DELETE', '/v1/tenants/default')).status).toBe(409);
  });
});

describe('connection secrets', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it('accepts old and new secrets during the rotation window, then only the new one', async () => {
    const connection = await hub.createConnection('github');
    const payload = githubExamples('issues', { action: 'opened' })[0]!.payload;
    const rotated = (await hub.api('POST', `/v1/connections/${connection.id}/rotate-secret`, { graceSeconds: 3600 })).body;
    expect(rotated.secret).not.toBe(connection.secret);
    expect(Date.parse(rotated.previousSecretExpiresAt)).toBeGreaterThan(Date.now());
    expect((await postGithub(hub.url, connection, 'issues', payload)).status).toBe(202);
    expect((await postGithub(hub.url, { id: connection.id, secret: rotated.secret }, 'issues', payload)).status).toBe(202);

    const again = (await hub.api('POST', `/v1/connections/${connection.id}/rotate-secret`, { graceSeconds: 0 })).body;
    expect((await postGithub(hub.url, { id: connection.id, secret: rotated.secret }, 'issues', payload)).status).toBe(401);
    expect((await postGithub(hub.url, connection, 'issues', payload)).status).toBe(401);
    expect((await postGithub(hub.url, { id: connection.id, secret: again.secret }, 'issues', payload)).status).toBe(202);
  });

  it('never shows a secret after creation, and forgets deleted connections', async () => {
    const connection = await hub.createConnection('github');
    const listed = (await hub.api('GET', '/v1/connections')).body.items;
    expect(JSON.stringify(listed)).not.toContain(connection.secret);
    expect((await hub.api('DELETE', `/v1/connections/${connection.id}`)).status).toBe(204);
    expect((await postGithub(hub.url, connection, 'issues', githubExamples('issues')[0]!.payload)).status).toBe(404);
  });
});
