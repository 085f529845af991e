import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '@octokit/webhooks-methods';
import { githubExamples } from '../fixtures/github-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

const expectProblem = (response: { status: number; headers: Headers; body: any }, status: number, type: string) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.body).toMatchObject({ status, type: expect.stringContaining(type), title: expect.any(String) });
};

const rawPost = async (url: string, headers: Record<string, string>, body: string) => {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
};

describe('bad input gets a clear problem+json error and stores nothing', () => {
  let hub: TestHub;
  let connection: { id: string; secret: string };
  const opened = () => githubExamples('issues', { action: 'opened' })[0]!.payload;
  const itemCount = async () => (await hub.api('GET', '/v1/items?includeDeleted=true&limit=200')).body.items.length;

  beforeAll(async () => {
    hub = await startTestHub({ env: { TRIBUTARY_MAX_BODY_BYTES: '100000' } });
    connection = await hub.createConnection('github');
  });
  afterAll(() => hub.close());

  it('answers 401 to a delivery signed with the wrong secret', async () => {
    expectProblem(await postGithub(hub.url, connection, 'issues', opened(), { secret: 'not-the-secret' }), 401, 'invalid-signature');
  });

  it('answers 401 to a tampered body and to a missing signature', async () => {
    const body = JSON.stringify(opened());
    const signature = await sign(connection.secret, body);
    const url = `${hub.url}/hooks/github/${connection.id}`;
    const headers = { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': crypto.randomUUID() };
    expectProblem(await rawPost(url, { ...headers, 'x-hub-signature-256': signature }, body.replace('Spelling', 'Spelunking')), 401, 'signature');
    expectProblem(await rawPost(url, headers, body), 401, 'signature');
    await settled(hub);
    expect(await itemCount()).toBe(0);
  });

  it('answers 404 to an unknown connection and to a connection of another source', async () => {
    expectProblem(await postGithub(hub.url, { id: 'con_doesnotexist', secret: connection.secret }, 'issues', opened()), 404, 'not-found');
    const body = JSON.stringify(opened());
    expectProblem(
      await rawPost(`${hub.url}/hooks/jira/${connection.id}`, { 'content-type': 'application/json', 'x-hub-signature': await sign(connection.secret, body) }, body),
      404,
      'not-found',
    );
  });

  it('answers 400 to malformed JSON with a valid signature', async () => {
    expectProblem(await postGithub(hub.url, connection, 'issues', undefined, { body: '{"action": "opened", ' }), 400, 'malformed');
  });

  it('answers 413 to a body over the limit, naming the limit', async () => {
    const payload = opened() as any;
    payload.issue.body = 'x'.repeat(200_000);
    const response = await postGithub(hub.url, connection, 'issues', payload);
    expectProblem(response, 413, 'payload-too-large');
    expect(response.body.detail).toContain('100000');
  });

  it('records a valid delivery whose body is far larger than the 400 KB item cap', async () => {
    const big = await startTestHub();
    try {
      const bigConnection = await big.createConnection('github');
      const payload = opened() as any;
      // Random text barely compresses: ~3 MB stays well over 400 KB after gzip.
      payload.issue.body = randomBytes(2_200_000).toString('base64');
      const response = await postGithub(big.url, bigConnection, 'issues', payload);
      expect(response.status).toBe(202);
      await settled(big);
      const items = (await big.api('GET', '/v1/items')).body.items;
      expect(items).toHaveLength(1);
    } finally {
      await big.close();
    }
  });

  it('answers 401 without a token, and 403 when the scope is too small', async () => {
    const anonymous = await fetch(`${hub.url}/v1/items`);
    expectProblem({ status: anonymous.status, headers: anonymous.headers, body: await anonymous.json() }, 401, 'missing-token');
    expectProblem(await hub.api('GET', '/v1/items', undefined, 'tok_unknown.secret'), 401, 'invalid-token');
    const reader = (await hub.api('POST', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token;
    expect((await hub.api('GET', '/v1/items', undefined, reader)).status).toBe(200);
    expectProblem(await hub.api('POST', '/v1/connections', { source: 'github', name: 'x' }, reader), 403, 'forbidden');
  });

  it('answers 422 naming each invalid field', async () => {
    const response = await hub.api('POST', '/v1/connections', { source: 'gitlab' });
    expectProblem(response, 422, 'validation-failed');
    expect(response.body.errors.map((e: any) => e.path).sort()).toEqual(['name', 'source']);
    expectProblem(await hub.api('GET', '/v1/items?limit=0&status=nope'), 422, 'validation-failed');
  });

  it('answers 400 to a cursor from another query', async () => {
    const other = Buffer.from(JSON.stringify({ p: 'T#someone-else#items', k: {} })).toString('base64url');
    expectProblem(await hub.api('GET', `/v1/items?cursor=${other}`), 400, 'invalid-cursor');
  });

  it('answers 404 problem+json for unknown routes and items', async () => {
    expectProblem(await hub.api('GET', '/v1/nothing-here'), 404, 'not-found');
    expectProblem(await hub.api('GET', '/v1/items/wi_unknown'), 404, 'not-found');
  });
});
