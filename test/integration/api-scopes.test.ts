import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, startTestHub } from '../support/hub.ts';

/**
 * Where reads and admin writes share a path prefix, the scope follows the method: one check in
 * front of every route (functions/http/auth.ts), before a route reads anything.
 */
describe('scopes on paths shared by reads and admin writes', () => {
  let hub: TestHub;
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    hub = await startTestHub();
    admin = (await hub.api('POST', '/v1/tenants', { name: 'scopes' })).body.adminToken;
    reader = (await hub.api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] }, admin)).body.token;
  });
  afterAll(() => hub.close());

  it('lets a read token read them', async () => {
    for (const path of ['/v1/settings', '/v1/teams', '/v1/people', '/v1/people/audit']) {
      expect((await hub.api('GET', path, undefined, reader)).status, path).toBe(200);
    }
  });

  it('refuses every write to a read token with 403 problem+json, before looking up what it names', async () => {
    const writes: [string, string, unknown?][] = [
      ['PUT', '/v1/settings', { wipLimitPerPerson: 1 }],
      ['POST', '/v1/links', { from: 'github:octo/api#1', type: 'blocks', to: 'github:octo/api#2' }],
      // Unknown ids: an admin token gets 404, a read token 403 (the scope is checked first).
      ['DELETE', '/v1/links/lnk_unknown'],
      ['PUT', '/v1/teams', { teams: [] }],
      ['POST', '/v1/people/merge', { into: 'p_unknown', people: ['p_other'] }],
      ['POST', '/v1/people/p_unknown/split', {}],
      ['DELETE', '/v1/people/p_unknown'],
    ];
    for (const [method, path, body] of writes) {
      const response = await hub.api(method, path, body, reader);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.headers.get('content-type'), `${method} ${path}`).toMatch(/^application\/problem\+json/);
      expect(response.body, `${method} ${path}`).toMatchObject({ type: expect.stringMatching(/forbidden$/), detail: expect.stringContaining('`admin` scope') });
    }
    expect((await hub.api('GET', '/v1/settings', undefined, reader)).body.wipLimitPerPerson).toBe(5);
    expect((await hub.api('DELETE', '/v1/links/lnk_unknown', undefined, admin)).status).toBe(404);
    expect((await hub.api('DELETE', '/v1/people/p_unknown', undefined, admin)).status).toBe(404);
  });

  it('keeps jobs to admin tokens, as documented', async () => {
    expect((await hub.api('GET', '/v1/jobs/job_unknown', undefined, reader)).status).toBe(403);
    expect((await hub.api('GET', '/v1/jobs/job_unknown', undefined, admin)).status).toBe(404);
  });
});
