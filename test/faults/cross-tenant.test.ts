import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_OPERATIONS } from '../../functions/http/app.ts';
import type { Operation } from '../../functions/http/openapi-registry.ts';
import { keepEventPayload } from '../../store/event-payloads.ts';
import { emptyCounts, saveJob } from '../../store/jobs.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { emailFixture, tributarySignature } from '../support/email.ts';
import { faultLedger } from '../support/fault-ledger.ts';
import { FIXTURE_REPO, issueOpened } from '../support/fault-payloads.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

/** Written into everything tenant A owns that can carry text: it must never reach tenant B. */
const CANARY = `canary-of-tenant-a-${crypto.randomUUID().slice(0, 8)}`;
const SITE = 'acme.atlassian.net';
const MAILBOX = 'platform@acme.example';

/**
 * Ids of tenant A for collections that have no list route; every other `{param}` is filled from
 * the list at the path before it (`/v1/items/{id}` ← `GET /v1/items`), so routes added later are
 * probed without a change here, as long as their collection can be listed.
 */
const seededIds: Record<string, string> = {};

interface Probe {
  method: string;
  path: string;
  /** the URL with tenant A's ids */
  url: string;
  /** the same URL with ids that exist nowhere */
  unknownUrl: string;
  body?: unknown;
  unknownBody?: unknown;
  /** A's ids the request names: they may be echoed (in `instance` or `detail`), nothing else of A may */
  names: string[];
  expected: number[];
  why: string;
}

interface Answer {
  status: number;
  type: string;
  text: string;
}

const call = async (hub: TestHub, token: string, method: string, url: string, body?: unknown): Promise<Answer> => {
  const controller = new AbortController();
  const response = await fetch(`${hub.url}${url}`, {
    method: method.toUpperCase(),
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: controller.signal,
  });
  const type = response.headers.get('content-type') ?? '';
  let text: string;
  if (type.startsWith('text/event-stream')) {
    // A stream never ends: its first event is enough to see whose it is.
    const reader = response.body!.getReader();
    text = new TextDecoder().decode((await reader.read()).value);
    controller.abort();
  } else {
    text = await response.text();
  }
  return { status: response.status, type, text };
};

/** A made-up id shaped like `id` (same prefix), which no tenant has. */
const unknownLike = (id: string) => {
  const prefix = /^[a-z]+_/.exec(id)?.[0] ?? '';
  return `${prefix}doesnotexist${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
};

describe("fault: tenant B probes every route with tenant A's ids", () => {
  let hub: TestHub;
  let tenantA: { id: string; adminToken: string };
  let tenantB: { id: string; adminToken: string };
  let readerB: string;
  const connectionsA: Record<string, { id: string; secret: string }> = {};
  const connectionsB: Record<string, { id: string; secret: string }> = {};
  /** what of A must never appear in an answer to B: the canary, secrets, and A's ids B does not share */
  const secretsOfA: string[] = [];
  let idsOfA = new Set<string>();
  /** collection path (template) → A's ids in it */
  const listed = new Map<string, string[]>();

  const listIds = async (token: string, path: string): Promise<string[]> => {
    const answer = await call(hub, token, 'get', path);
    // Only JSON lists ({items: [{id}]}): streams and exports (NDJSON, SSE) name no collection.
    if (answer.status !== 200 || !answer.type.startsWith('application/json')) return [];
    const body = JSON.parse(answer.text);
    return Array.isArray(body?.items) ? body.items.map((i: any) => i?.id).filter((id: unknown) => typeof id === 'string') : [];
  };

  beforeAll(async () => {
    hub = await startTestHub();
    tenantA = (await hub.api('POST', '/v1/tenants', { name: `A ${CANARY}` })).body;
    tenantB = (await hub.api('POST', '/v1/tenants', { name: 'B' })).body;
    readerB = (await hub.api('POST', '/v1/tokens', { name: 'B reader', scopes: ['read'] }, tenantB.adminToken)).body.token;

    // Tenant A: work in every tool, a blocker, owners and a requester, a manual link, teams,
    // settings, a merged person, a read token, a backfill job, a kept oversize event and a webhook subscription.
    for (const [tenant, target] of [
      [tenantA, connectionsA],
      [tenantB, connectionsB],
    ] as const) {
      const name = tenant === tenantA ? CANARY : 'B';
      target.github = await hub.createConnection('github', tenant.adminToken, { name: `github ${name}` });
      target.jira = await hub.createConnection('jira', tenant.adminToken, { name: `jira ${name}`, site: SITE });
      target.email = await hub.createConnection('email', tenant.adminToken, { name: `email ${name}`, provider: 'raw', address: MAILBOX });
    }
    const blocker = issueOpened(1, `Blocker ${CANARY}`);
    const blocked = issueOpened(2, `Blocked ${CANARY}`);
    blocked.issue.body = 'Blocked by #1';
    await postGithub(hub.url, connectionsA.github!, 'issues', blocker);
    await postGithub(hub.url, connectionsA.github!, 'issues', blocked);
    await postJira(hub.url, connectionsA.jira!, cloudPayload('issue-created-acme-101'));
    const mail = emailFixture('request-multipart-qp.eml');
    await fetch(`${hub.url}/hooks/email/${connectionsA.email!.id}`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(mail, connectionsA.email!.secret) },
      body: new Uint8Array(mail),
    });
    // B has work of its own (another issue number, so no item id is shared with A).
    await postGithub(hub.url, connectionsB.github!, 'issues', issueOpened(900, 'Work of tenant B'));
    await settled(hub, { timeoutMs: 60_000 });

    const items = (await hub.api('GET', '/v1/items', undefined, tenantA.adminToken)).body.items as any[];
    const [first, second] = items.filter((i) => i.source === 'github');
    const link = await hub.api('POST', '/v1/links', { from: first.id, type: 'relates', to: second.id }, tenantA.adminToken);
    expect(link.status).toBe(201);
    seededIds['/v1/links'] = link.body.id;
    const reader = (await hub.api('POST', '/v1/tokens', { name: `reader ${CANARY}`, scopes: ['read'] }, tenantA.adminToken)).body;
    secretsOfA.push(reader.token, tenantA.adminToken, ...Object.values(connectionsA).map((c) => c.secret));
    expect((await hub.api('PUT', '/v1/teams', { teams: [{ name: `team ${CANARY}`, containers: [`github:${FIXTURE_REPO}`] }] }, tenantA.adminToken)).status).toBe(200);
    expect((await hub.api('PUT', '/v1/settings', { blockerStaleDays: 9 }, tenantA.adminToken)).status).toBe(200);
    const people = (await hub.api('GET', '/v1/people', undefined, tenantA.adminToken)).body.items as any[];
    if (people.length >= 2) await hub.api('POST', '/v1/people/merge', { into: people[0].id, people: [people[1].id] }, tenantA.adminToken);

    // No route creates these on demand: written as the job runner and the EventBridge publisher write them.
    const now = new Date().toISOString();
    seededIds['/v1/jobs'] = `job_${CANARY.replaceAll('-', '')}`;
    await saveJob(hub.hub.db, {
      id: seededIds['/v1/jobs'],
      tenantId: tenantA.id,
      kind: 'backfill',
      connectionId: connectionsA.github!.id,
      source: 'github',
      status: 'done',
      since: now,
      cursor: null,
      counts: emptyCounts(),
      createdAt: now,
      updatedAt: now,
      finishedAt: now,
      attempts: 0,
      rev: 1,
    });
    const event = hub.publishedEvents().find((e) => e.tenantId === tenantA.id)!;
    await keepEventPayload(hub.hub.db, event);
    seededIds['/v1/events'] = event.id;
    seededIds['/v1/tenants'] = tenantA.id;
    // A webhook subscription (its URL an IP literal: nothing is resolved), paused at once: it never sends anything.
    const subscription = await hub.api('POST', '/v1/subscriptions', { url: 'https://203.0.113.10/hooks', types: ['work.digest.ready'], description: `hooks ${CANARY}` }, tenantA.adminToken);
    expect(subscription.status).toBe(201);
    expect((await hub.api('PATCH', `/v1/subscriptions/${subscription.body.id}`, { status: 'paused' }, tenantA.adminToken)).status).toBe(200);
    secretsOfA.push(subscription.body.secret);

    // Every id A can list, and every id B can list: only A's own are secrets.
    const idsOfB = new Set<string>();
    for (const op of ALL_OPERATIONS.filter((o) => o.method === 'get' && !o.path.includes('{') && o.path.startsWith('/v1/'))) {
      listed.set(op.path, await listIds(tenantA.adminToken, op.path));
      for (const id of await listIds(tenantB.adminToken, op.path)) idsOfB.add(id);
    }
    idsOfA = new Set([...listed.values()].flat().concat(Object.values(seededIds), Object.values(connectionsA).map((c) => c.id)).filter((id) => !idsOfB.has(id)));
  }, 120_000);
  afterAll(() => hub.close());

  /** Fills `{param}`s left to right with A's ids from the collection before each. */
  const fill = async (op: Operation): Promise<{ url: string; unknownUrl: string; names: string[] }> => {
    let url = '';
    let unknownUrl = '';
    const names: string[] = [];
    for (const segment of op.path.split('/').slice(1)) {
      if (!segment.startsWith('{')) {
        url += `/${segment}`;
        unknownUrl += `/${segment}`;
        continue;
      }
      const collection = op.path.slice(0, op.path.indexOf(segment) - 1);
      let ids = listed.get(collection)?.length ? listed.get(collection) : seededIds[collection] ? [seededIds[collection]] : undefined;
      if (!ids?.length && collection !== op.path) ids = await listIds(tenantA.adminToken, url);
      const id = ids?.[0];
      if (!id) {
        throw new Error(
          `No id of tenant A for ${segment} in ${op.method.toUpperCase()} ${op.path}: give ${collection} a list route ` +
            '(`{items: [{id}]}`) or seed one in `seededIds` of test/faults/cross-tenant.test.ts.',
        );
      }
      names.push(id);
      url += `/${encodeURIComponent(id)}`;
      unknownUrl += `/${encodeURIComponent(unknownLike(id))}`;
    }
    return { url, unknownUrl, names };
  };

  /** Bodies and queries that name A's resources; every other write is sent `{}`. */
  const requestOf = (op: Operation, ids: { item: string; item2: string; person?: string; person2?: string }) => {
    const key = `${op.method} ${op.path}`;
    if (key === 'post /v1/links') return { body: { from: ids.item, type: 'blocks', to: ids.item2 }, unknownBody: { from: unknownLike(ids.item), type: 'blocks', to: ids.item2 }, names: [ids.item, ids.item2] };
    if (key === 'post /v1/people/merge' && ids.person && ids.person2) {
      return { body: { into: ids.person, people: [ids.person2] }, unknownBody: { into: unknownLike(ids.person), people: [unknownLike(ids.person2)] }, names: [ids.person, ids.person2] };
    }
    if (key === 'get /v1/graph') return { query: `?root=${ids.item}`, unknownQuery: `?root=${unknownLike(ids.item)}`, names: [ids.item] };
    return op.method === 'get' || op.method === 'delete' ? {} : { body: {}, unknownBody: {} };
  };

  const probesFor = async (token: 'admin' | 'read'): Promise<Probe[]> => {
    const items = listed.get('/v1/items')!;
    const people = listed.get('/v1/people') ?? [];
    const ids = { item: items[0]!, item2: items[1]!, person: people[0], person2: people[1] };
    const probes: Probe[] = [];
    for (const op of ALL_OPERATIONS.filter((o) => o.path.startsWith('/v1/'))) {
      const filled = await fill(op);
      const request = requestOf(op, ids);
      const namesA = [...filled.names, ...(request.names ?? [])];
      const lacksScope = op.scope === 'operator' || (token === 'read' && op.scope === 'admin');
      // The scope is checked before anything is looked up, so it answers the same for any id: 403.
      const expected = lacksScope ? [403] : namesA.length > 0 ? [404] : [200, 201, 202, 204, 400, 404, 409, 413, 415, 422];
      const why = lacksScope ? `B's ${token} token lacks the ${op.scope} scope` : namesA.length > 0 ? "names A's resources" : "B's own collection";
      probes.push({
        method: op.method,
        path: op.path,
        url: filled.url + (request.query ?? ''),
        unknownUrl: filled.unknownUrl + (request.unknownQuery ?? request.query ?? ''),
        ...(request.body === undefined ? {} : { body: request.body, unknownBody: request.unknownBody }),
        names: namesA,
        expected,
        why,
      });
    }
    // The item route also takes the URL-encoded ref, and the dashboard's pages take ids too.
    const item = JSON.parse((await call(hub, tenantA.adminToken, 'get', `/v1/items/${ids.item}`)).text);
    probes.push(
      { method: 'get', path: '/v1/items/{ref}', url: `/v1/items/${encodeURIComponent(item.ref)}`, unknownUrl: `/v1/items/${encodeURIComponent(`${item.ref}999`)}`, names: [ids.item, item.ref], expected: [404], why: "names A's item by ref" },
      { method: 'get', path: '/items/{id} (dashboard)', url: `/items/${ids.item}`, unknownUrl: `/items/${unknownLike(ids.item)}`, names: [ids.item], expected: [404], why: "names A's item" },
      { method: 'get', path: '/ (dashboard)', url: '/', unknownUrl: '/', names: [], expected: [200], why: "B's own dashboard" },
      { method: 'get', path: '/items (dashboard)', url: '/items', unknownUrl: '/items', names: [], expected: [200], why: "B's own dashboard" },
      { method: 'get', path: '/people (dashboard)', url: '/people', unknownUrl: '/people', names: [], expected: [200], why: "B's own dashboard" },
    );
    return probes;
  };

  /** What of A an answer must not show, given the ids the request itself named. */
  const leaks = (answer: Answer, names: readonly string[]) =>
    [CANARY, ...secretsOfA, ...[...idsOfA].filter((id) => !names.includes(id))].filter((s) => answer.text.includes(s));

  for (const token of ['admin', 'read'] as const) {
    it(`answers B's ${token} token 404 for A's resources (403 where it lacks the scope), as for ids that exist nowhere, and never shows A's data`, async () => {
      const ledger = faultLedger(`cross-tenant: every route with A's ids, B's ${token} token`, { tracksIndex: false });
      const tokenOfB = token === 'admin' ? tenantB.adminToken : readerB;
      const probes = await probesFor(token);
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      // Reads first: a write that wrongly went through must not hide what the reads would show.
      const ordered = [...probes.filter((p) => p.method === 'get'), ...probes.filter((p) => p.method !== 'get')];
      for (const probe of ordered) {
        ledger.sent();
        const answer = await call(hub, tokenOfB, probe.method, probe.url, probe.body);
        if (process.env.FAULT_VERBOSE) process.stdout.write(`PROBE ${token} ${probe.method} ${probe.url} ${JSON.stringify(probe.body ?? null)} → ${answer.status}\n`);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status < 300 && probe.names.length > 0) ledger.acked(`${probe.method} ${probe.path}`);
        const where = `${probe.method.toUpperCase()} ${probe.url} (${probe.why})`;
        if (!probe.expected.includes(answer.status)) failures.push(`${where}: ${answer.status}, expected ${probe.expected.join('/')}: ${answer.text.slice(0, 200)}`);
        const seen = leaks(answer, probe.names);
        if (seen.length) failures.push(`${where}: shows A's ${seen.map((s) => (s === CANARY ? 'text' : s)).join(', ')}`);
        if (answer.status >= 400 && !answer.type.startsWith('application/problem+json') && !probe.path.includes('dashboard')) failures.push(`${where}: ${answer.status} without problem+json`);
        if (probe.names.length > 0) {
          // Indistinguishable from an id that exists nowhere: same status, same problem type.
          const unknown = await call(hub, tokenOfB, probe.method, probe.unknownUrl, probe.unknownBody);
          const typeOf = (a: Answer) => (a.type.startsWith('application/problem+json') ? JSON.parse(a.text).type : a.status);
          if (unknown.status !== answer.status || typeOf(unknown) !== typeOf(answer)) {
            failures.push(`${where}: ${answer.status} ${typeOf(answer)} for A's id, ${unknown.status} ${typeOf(unknown)} for an unknown one`);
          }
        }
      }
      ledger.note(`${[...statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ')} · ${failures.length} failures`);
      expect(failures).toEqual([]);
      expect(ledger.counts()).toMatchObject({ acked: 0, lost: 0, duplicated: 0 });

      // A still has everything B tried to read, change or delete.
      for (const probe of probes.filter((p) => p.method === 'get' && p.names.length > 0 && !p.path.includes('dashboard'))) {
        expect((await call(hub, tenantA.adminToken, 'get', probe.url)).status, `A's own ${probe.url}`).toBe(200);
      }
      const own = await postGithub(hub.url, connectionsA.github!, 'issues', issueOpened(3, `Still mine ${CANARY}`));
      expect(own.status, "A's connection kept its secret").toBe(202);
      expect((await call(hub, secretsOfA[0]!, 'get', '/v1/items')).status, "A's read token still works").toBe(200);
    });
  }

  it("refuses a delivery to A's connections signed with B's secrets, and stores nothing for A", async () => {
    const ledger = faultLedger("cross-tenant: webhooks to A's connections signed by B", { tracksIndex: false });
    const before = (await hub.api('GET', '/v1/items?limit=200', undefined, tenantA.adminToken)).body.items.length;
    const bodies: Record<string, { body: Uint8Array; headers: (secret: string) => Record<string, string> }> = {
      github: {
        body: new TextEncoder().encode(JSON.stringify(issueOpened(77, 'Injected by B'))),
        headers: (secret) => ({ 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(bodies.github!.body).digest('hex')}` }),
      },
      jira: {
        body: new TextEncoder().encode(JSON.stringify(cloudPayload('issue-created-acme-101'))),
        headers: (secret) => ({ 'content-type': 'application/json', 'x-hub-signature': `sha256=${createHmac('sha256', secret).update(bodies.jira!.body).digest('hex')}` }),
      },
      email: {
        body: Uint8Array.from(emailFixture('reply-from-team.eml')),
        headers: (secret) => ({ 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(bodies.email!.body, secret) }),
      },
    };
    for (const op of ALL_OPERATIONS.filter((o) => o.path.startsWith('/hooks/'))) {
      const source = op.path.split('/')[2]!;
      const payload = bodies[source];
      if (!payload) throw new Error(`No payload for ${op.path}: add one for ${source} in test/faults/cross-tenant.test.ts`);
      ledger.sent();
      const response = await fetch(`${hub.url}/hooks/${source}/${connectionsA[source]!.id}`, { method: 'POST', headers: payload.headers(connectionsB[source]!.secret), body: new Uint8Array(payload.body) });
      if (response.status < 300) ledger.acked(op.path);
      expect(response.status, op.path).toBe(401);
    }
    await settled(hub, { timeoutMs: 60_000 });
    expect((await hub.api('GET', '/v1/items?limit=200', undefined, tenantA.adminToken)).body.items).toHaveLength(before);
    expect(ledger.counts()).toMatchObject({ acked: 0, lost: 0 });
  });
});
