import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_OPERATIONS } from '../../functions/http/app.ts';
import { type TestHub, startTestHub } from '../support/hub.ts';

describe('self-description', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it('serves an OpenAPI 3.1 document with every route and its schemas', async () => {
    const document = await (await fetch(`${hub.url}/openapi.json`)).json();
    expect(document.openapi).toBe('3.1.0');
    for (const op of ALL_OPERATIONS) expect(document.paths[op.path]?.[op.method], `${op.method} ${op.path}`).toBeDefined();
    const list = document.paths['/v1/items'].get;
    expect(list.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['source', 'owner', 'label', 'updatedSince', 'limit', 'cursor']));
    expect(list.responses['200'].content['application/json'].schema.properties.items.items.properties.links).toBeDefined();
  });

  it('marks the deprecated people audit and says what each job route serves and needs', async () => {
    const document = await (await fetch(`${hub.url}/openapi.json`)).json();
    const peopleAudit = document.paths['/v1/people/audit'].get;
    expect(peopleAudit.deprecated).toBe(true);
    expect(peopleAudit.summary).toMatch(/GET \/v1\/audit/);
    expect(document.paths['/v1/people'].get.deprecated).toBeUndefined();
    const job = document.paths['/v1/jobs/{id}'].get;
    expect(job.security).toEqual([{ bearer: ['admin'] }]);
    expect(job.summary).toMatch(/backfill/);
    expect(job.summary).toMatch(/erasure/);
    expect(job.summary).toMatch(/purge/);
  });

  it('documents every route the app answers', async () => {
    const documented = new Set(ALL_OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path.replace(/\{\w+\}/g, 'x')}`));
    const probes = ['GET /v1/items/x', 'POST /v1/connections/x/rotate-secret', 'DELETE /v1/tokens/x', 'GET /v1/events/schemas'];
    for (const probe of probes) expect(documented).toContain(probe);
  });

  it('serves the event catalog as JSON Schemas', async () => {
    const { body } = await hub.api('GET', '/v1/events/schemas');
    expect(body.source).toBe('tributary');
    expect(Object.keys(body.types)).toEqual(expect.arrayContaining(['work.item.created', 'work.item.status_changed', 'work.link.added']));
    expect(body.envelope.properties.id).toBeDefined();
  });

  it('answers liveness and the home page without a token', async () => {
    expect(await (await fetch(`${hub.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const home = await fetch(`${hub.url}/`);
    expect(home.headers.get('content-type')).toContain('text/html');
    expect(await home.text()).toContain('/openapi.json');
  });
});
