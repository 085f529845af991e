import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { createApp } from '../../functions/http/app.ts';
import { createJsonLogger } from '../../functions/log.ts';
import { ConnectionCache } from '../../pipeline/connection-cache.ts';
import { STYLESHEET_PATH } from '../../web/stylesheet.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type Scenario, seedDashboardScenario } from '../support/dashboard-scenario.ts';
import { OPERATOR_TOKEN, type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

const XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>';

describe('the dashboard pages', () => {
  let hub: TestHub;
  let token: string;
  let itemId: string;
  const page = (path: string, init: RequestInit = {}) => fetch(`${hub.url}${path}`, { redirect: 'manual', ...init });
  const withCookie = (cookie: string) => ({ headers: { cookie } });
  /** A form post from the hub's own pages, as a browser sends it. */
  const formPost = (path: string, fields: Record<string, string>, origin = hub.hub.publicUrl) =>
    page(path, { method: 'POST', headers: { origin }, body: new URLSearchParams(fields) });

  beforeAll(async () => {
    hub = await startTestHub();
    token = (await hub.api('POST', '/v1/tenants', { name: 'dashboard' })).body.adminToken;
    const github = await hub.createConnection('github', token);
    // Two issues of one repository waiting on each other: a blocked chain and a dependency_cycle alert.
    const payload = githubExample('issues', 'opened').payload as any;
    payload.issue.title = XSS;
    payload.issue.body = 'Blocked by #2';
    expect((await postGithub(hub.url, github, 'issues', payload)).status).toBe(202);
    const other = githubExample('issues', 'opened').payload as any;
    other.issue.number = 2;
    other.issue.id += 1;
    other.issue.title = `${XSS} (the other one)`;
    other.issue.body = 'Blocked by #1';
    expect((await postGithub(hub.url, github, 'issues', other)).status).toBe(202);
    await settled(hub);
    itemId = (await hub.api('GET', '/v1/items', undefined, token)).body.items[0].id;
  });
  afterAll(() => hub.close());

  it('shows the sign-in form without a token, and sends other pages there', async () => {
    const home = await page('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('name="token"');
    for (const path of ['/items', '/alerts', '/people', '/teams/checkout']) {
      const response = await page(path);
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location')).toBe('/');
    }
  });

  it('refuses an unknown token at sign-in', async () => {
    const response = await formPost('/login', { token: 'tok_nope.nope' });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('signs in with a token into an HttpOnly, SameSite=Strict cookie and shows the summary', async () => {
    const login = await formPost('/login', { token });
    expect(login.status).toBe(303);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const overview = await page('/', withCookie(cookie));
    expect(overview.headers.get('cache-control')).toBe('no-store');
    const html = await overview.text();
    expect(html).toContain('Overview');
    expect(html).toMatch(/data-metric="Open">Open<b>2<\/b>/);
    expect(html).toMatch(/data-metric="Blocked">Blocked<b>2<\/b>/);
    expect(html).toContain('<svg');
  });

  it('refuses a form posted from another site, on sign-in and sign-out alike', async () => {
    for (const path of ['/login', '/logout']) {
      const response = await formPost(path, { token }, 'https://evil.example');
      expect(response.status, path).toBe(403);
      expect(response.headers.get('set-cookie'), path).toBeNull();
      expect(await response.json()).toMatchObject({ status: 403, detail: expect.stringContaining('Cross-site form posts are refused') });
    }
    // A browser that sends no Origin still says where the post came from.
    const crossSite = await page('/login', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' }, body: new URLSearchParams({ token }) });
    expect(crossSite.status).toBe(403);
  });

  it('leaves the API and the webhooks to their own credentials: posts without an Origin are not refused as forms', async () => {
    const created = await fetch(`${hub.url}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'script', scopes: ['read'] }),
    });
    expect(created.status).toBe(201);
    // SNS posts `text/plain` without an Origin: the connection's signature check answers, not CSRF.
    const email = await hub.createConnection('email', token, { provider: 'ses', address: 'support@acme.example' });
    const sns = await fetch(`${hub.url}/hooks/email/${email.id}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(sns.status).not.toBe(403);
  });

  it('sends the browser protections with every page, the API and the stylesheet', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    for (const path of ['/', `/items/${itemId}`, '/items', '/alerts', '/people', '/teams/checkout', STYLESHEET_PATH, '/v1/items', '/openapi.json']) {
      const response = await page(path, path.startsWith('/assets') ? {} : auth);
      expect(response.status, path).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("style-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toMatch(/script-src|unsafe-inline/);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
    }
    const login = await page('/');
    expect(login.headers.get('content-security-policy')).toContain("form-action 'self'");
  });

  it('carries no inline style or script: the stylesheet comes from the hub', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    for (const path of ['/', `/items/${itemId}`, '/items', '/alerts', '/people', '/teams/checkout']) {
      const html = await (await page(path, auth)).text();
      expect(html, path).not.toMatch(/<style|\sstyle=|<script/i);
      expect(html, path).toContain(`<link rel="stylesheet" href="${STYLESHEET_PATH}"/>`);
    }
    const css = await page(STYLESHEET_PATH);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('cache-control')).toContain('immutable');
    expect(await css.text()).toContain('.visually-hidden');
  });

  it('accepts a bearer token too, and escapes attacker-controlled titles on every page', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    for (const path of ['/', '/items', `/items/${itemId}`, '/items?source=github&category=project', '/items?q=pwned', '/alerts', '/alerts?state=open&kind=dependency_cycle']) {
      const html = await (await page(path, auth)).text();
      expect(html, path).not.toContain('<script>alert');
      expect(html, path).not.toContain('<img src=x');
      expect(html, path).toContain('&lt;script&gt;');
    }
  });

  it('filters items on the server, and draws an item with its dependencies as a picture holding no control', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    expect(await (await page('/items?source=jira', auth)).text()).toContain('No items match.');
    const detail = await (await page(`/items/${itemId}`, auth)).text();
    expect(detail).toContain('aria-label="dependency graph"');
    expect(detail).toContain('data-node="upstream"');
    const graph = /<svg[^>]*aria-label="dependency graph".*?<\/svg>/s.exec(detail)![0];
    expect(graph).not.toContain('<a');
    expect(await (await page('/people', auth)).text()).toContain('github:Codertocat');
  });

  it('shows the blocked chains on the overview, blocker to blocked, linking each item', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const overview = await (await page('/', auth)).text();
    const section = overview.slice(overview.indexOf('aria-label="blocked chains"'));
    const chain = /<li data-chain-length="2">(.*?)<\/li>/s.exec(section)?.[1];
    expect(chain, 'a chain of two items').toBeDefined();
    expect(chain!.match(/href="\/items\/wi_[a-z2-7]+"/g)).toHaveLength(2);
    expect(chain).toContain(' → ');
  });

  it('lists alerts on /alerts with their message and links to the items, filtered on the server', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const open = await (await page('/alerts?state=open', auth)).text();
    expect(open).toContain('data-kind="dependency_cycle"');
    const row = /<tr data-alert="[^"]+" data-kind="dependency_cycle" data-state="open">(.*?)<\/tr>/s.exec(open)?.[1];
    expect(row).toBeDefined();
    expect(row!.match(/href="\/items\/wi_[a-z2-7]+"/g)!.length).toBeGreaterThanOrEqual(2);
    const api = (await hub.api('GET', '/v1/alerts?state=open&kind=dependency_cycle', undefined, token)).body.items;
    expect(api).toHaveLength(1);
    expect(row).toContain(api[0].message.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;'));
    expect(await (await page('/alerts?state=resolved', auth)).text()).toContain('No alerts match.');
    expect((await page('/alerts?kind=nope', auth)).status).toBe(422);
  });

  it('slows repeated failed sign-ins from one address with 429 and Retry-After, counted in the table across instances', async () => {
    // Two API instances on one table, as two Lambda instances would be.
    const instance = () =>
      createApp({
        db: hub.hub.db,
        connectors: createConnectorRegistry(),
        connections: new ConnectionCache(hub.hub.db),
        clock: () => new Date(),
        log: createJsonLogger('silent'),
        publicUrl: 'https://hub.example',
        maxBodyBytes: 1_000_000,
        operatorToken: OPERATOR_TOKEN,
      });
    const [a, b] = [instance(), instance()];
    // `app.request` has no socket: every post comes from the same (unknown) address.
    const signIn = (app: ReturnType<typeof instance>, value: string) =>
      app.request('/login', { method: 'POST', headers: { origin: 'https://hub.example' }, body: new URLSearchParams({ token: value }) });
    for (const app of [a, b, a, b, a]) expect((await signIn(app, 'tok_wrong.guess')).status).toBe(401);
    const refused = await signIn(b, token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.text()).toContain('Too many failed sign-ins');
    // Other addresses are not affected: the hub's own HTTP clients sign in as before.
    expect((await formPost('/login', { token })).status).toBe(303);
  });
});

describe('a page shows what the API answers, no more', () => {
  let hub: TestHub;
  let scenario: Scenario;
  const html = async (path: string) => (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${scenario.token}` } })).text();

  beforeAll(async () => {
    hub = await startTestHub();
    scenario = await seedDashboardScenario(hub);
  }, 120_000);
  afterAll(() => hub.close());

  it('lists on the item page every item of GET /v1/items/{id}/context, with the PR state and the email answer', async () => {
    const { body } = await hub.api('GET', `/v1/items/${encodeURIComponent(scenario.refs.story)}/context`, undefined, scenario.token);
    expect(body.context.implementedBy).toEqual([expect.objectContaining({ ref: scenario.refs.pr, pullRequest: 'in_review', source: 'github', owners: [] })]);
    expect(body.context.mentionedIn).toEqual([expect.objectContaining({ ref: scenario.refs.email, request: { requester: 'Ana Lima', answer: 'waiting' } })]);
    expect(body.context.blocks.nodes.map((n: any) => [n.ref, n.depth])).toEqual([
      [scenario.refs.blockedStory, 1],
      [`github:${scenario.repo}#78`, 2],
      [scenario.refs.chainEnd, 3],
    ]);
    expect(body.timeline.events.map((e: any) => e.type)).toContain('work.item.created');
    const page = await html(`/items/${itemIdForRef(scenario.refs.story)}`);
    for (const entry of [...body.context.implementedBy, ...body.context.mentionedIn]) expect(page).toContain(`data-item="${entry.id}"`);
    for (const node of body.context.blocks.nodes) expect(page).toContain(`data-chain-node="${node.id}"`);
    expect(page.match(/<li data-event=/g)).toHaveLength(body.timeline.events.length);
    // The API answers 404 for what the page would not show either.
    expect((await hub.api('GET', '/v1/items/wi_nothing/context', undefined, scenario.token)).status).toBe(404);
  });

  it('shows the commits and branches that name the story, as GET /v1/items/{id} holds them', async () => {
    const { body } = await hub.api('GET', `/v1/items/${encodeURIComponent(scenario.refs.story)}`, undefined, scenario.token);
    expect(body.development.commits.map((c: any) => [c.sha, c.message, c.branches])).toEqual([[scenario.commit.sha, scenario.commit.message, [scenario.commit.branch]]]);
    expect(body.development.branches.map((b: any) => b.name)).toEqual([scenario.commit.branch]);
    const page = await html(`/items/${itemIdForRef(scenario.refs.story)}`);
    const section = /<section aria-label="development" data-section="development">(.*?)<\/section>/s.exec(page)?.[1];
    expect(section, 'the development section').toBeDefined();
    expect(section).toContain(`href="${body.development.commits[0].url}"`);
    expect(section).toContain(`>${scenario.commit.sha.slice(0, 7)}</a>`);
    expect(section).toContain(scenario.commit.message);
    expect(section).toContain(`href="${body.development.branches[0].url}"`);
    // Times as people read them, exact on hover: the push was six hours ago.
    expect(section).toMatch(new RegExp(`<time datetime="${body.development.commits[0].at}" title="[^"]+ UTC">6 hours ago</time>`));
    // A page without commits or branches has no such section.
    expect(await html(`/items/${itemIdForRef(scenario.refs.blockedStory)}`)).not.toContain('data-section="development"');
  });

  it('shows in the timeline an alert raised, then resolved when the team answered', async () => {
    const { body } = await hub.api('GET', `/v1/items/${encodeURIComponent(scenario.refs.answeredEmail)}/context`, undefined, scenario.token);
    expect(body.item.status).toEqual({ name: 'answered', category: 'in_progress' });
    expect(body.alerts).toEqual([expect.objectContaining({ kind: 'request_unanswered', state: 'resolved' })]);
    const alertEvents = body.timeline.events.filter((e: any) => e.type.startsWith('work.alert.')).map((e: any) => [e.type, e.data.alert.kind]);
    expect(alertEvents).toEqual([
      ['work.alert.resolved', 'request_unanswered'],
      ['work.alert.raised', 'request_unanswered'],
    ]);
    const page = await html(`/items/${itemIdForRef(scenario.refs.answeredEmail)}`);
    const timeline = page.slice(page.indexOf('data-section="timeline"'));
    const entries = [...timeline.matchAll(/<li data-event="(work\.alert\.[a-z]+)">(.*?)<\/li>/gs)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, '')]);
    expect(entries).toEqual([
      ['work.alert.resolved', expect.stringMatching(/^just now · Alert resolved: request_unanswered — .*Our invoices lack the VAT number.* past the 24-hour SLA$/)],
      ['work.alert.raised', expect.stringMatching(/^just now · Alert raised: request_unanswered — /)],
    ]);
    // The alert itself, resolved, above the links.
    expect(page).toMatch(/data-section="alerts".*data-kind="request_unanswered"/s);
  });

  it('says of each root blocker of a blocked chain for how long it has been open', async () => {
    const { body } = await hub.api('GET', `/v1/items/${encodeURIComponent(scenario.refs.chainEnd)}/context`, undefined, scenario.token);
    const roots = body.context.blockedBy.nodes.filter((n: any) => n.root);
    // #79 waits on #78, which waits on #77 (open 4 days) and on ACME-102, which waits on ACME-101 (open 7 days).
    expect(roots.map((n: any) => n.ref).sort()).toEqual([scenario.refs.story, scenario.refs.xss].sort());
    const page = await html(`/items/${itemIdForRef(scenario.refs.chainEnd)}`);
    const chain = page.slice(page.indexOf('data-chain="up"'));
    for (const [ref, days] of [
      [scenario.refs.story, 7],
      [scenario.refs.xss, 4],
    ] as const) {
      const root = roots.find((n: any) => n.ref === ref);
      const entry = new RegExp(`<li data-chain-node="${root.id}" data-depth="\\d" data-root="true">(.*?)</li>`, 's').exec(chain)?.[1];
      expect(entry, ref).toBeDefined();
      expect(entry, ref).toContain(`root blocker, open <time datetime="${root.createdAt}" title="since `);
      expect(entry, ref).toContain(`>for ${days} days</time>`);
    }
    // What is blocked says since when instead, and is no root.
    const blocked = body.context.blockedBy.nodes.find((n: any) => n.ref === `github:${scenario.repo}#78`);
    expect(blocked.root).toBe(false);
    expect(new RegExp(`<li data-chain-node="${blocked.id}" data-depth="1">(.*?)<ul>`, 's').exec(chain)?.[1]).toMatch(/ · blocked <time[^>]*>for [^<]+<\/time>/);
  });

  it('dates the timeline by the tools: the story created seven days ago, not when the hub saw it', async () => {
    const { body } = await hub.api('GET', `/v1/items/${encodeURIComponent(scenario.refs.story)}/context`, undefined, scenario.token);
    const created = body.timeline.events.find((e: any) => e.type === 'work.item.created');
    expect(created.at).toBe(body.item.createdAt);
    expect(Date.parse(created.time) - Date.parse(created.at)).toBeGreaterThan(6 * 86_400_000);
    const pushed = body.timeline.events.find((e: any) => e.type === 'work.item.development_changed');
    const reported = [body.item.development.commits[0].at, body.item.development.branches[0].at].sort().at(-1);
    expect(pushed.at).toBe(reported);
    const page = await html(`/items/${itemIdForRef(scenario.refs.story)}`);
    expect(page).toMatch(new RegExp(`<li data-event="work.item.created"><time datetime="${created.at}" title="[^"]+, recorded by the hub [^"]+">7 days ago</time> · Created as To Do</li>`));
    expect(page).toMatch(/<li data-event="work.item.development_changed"><time [^>]+>6 hours ago<\/time> · Development: 1 commit pushed, 1 branch named after it<\/li>/);
  });

  it('draws the overview from GET /v1/views/overview', async () => {
    const { body } = await hub.api('GET', '/v1/views/overview', undefined, scenario.token);
    expect(body.weeks).toHaveLength(12);
    expect(body.weeks.reduce((sum: number, w: any) => sum + w.throughput, 0)).toBeGreaterThan(0);
    expect(body.openAlerts.items.map((a: any) => a.kind)).toEqual(expect.arrayContaining(['request_unanswered', 'pr_merged_ticket_open']));
    const page = await html('/');
    expect(page).toContain(body.headline);
    for (const week of body.weeks) expect(page).toContain(`<th scope="row">${week.week}</th>`);
    for (const team of body.wipByTeam) expect(page).toContain(`href="/teams/${encodeURIComponent(team.team)}"`);
  });

  it('shows a team page from GET /v1/views/team', async () => {
    const { body } = await hub.api('GET', '/v1/views/team?team=checkout', undefined, scenario.token);
    expect(body.waitsOn.map((g: any) => g.team)).toEqual(['payments']);
    const page = await html('/teams/checkout');
    expect(page).toContain(`Work in progress: ${body.wip.count} of ${body.wip.limit}`);
    for (const item of body.wip.items) expect(page).toContain(`data-item="${item.id}"`);
    const platform = (await hub.api('GET', '/v1/views/team?team=platform', undefined, scenario.token)).body;
    expect(platform.requests.map((r: any) => r.ref)).toEqual([scenario.refs.email]);
    expect((await hub.api('GET', '/v1/views/team', undefined, scenario.token)).status).toBe(422);
  });

  it('lists on /alerts what GET /v1/alerts answers, the filters read by the same schema', async () => {
    const ids = (page: string) => [...page.matchAll(/<tr data-alert="([^"]+)"/g)].map((m) => m[1]);
    for (const query of ['', 'state=open', 'state=resolved', 'kind=pr_merged_ticket_open', 'team=payments', 'state=open&team=platform', `team=${'x'.repeat(150)}`]) {
      const api = await hub.api('GET', `/v1/alerts?${query}&limit=50`, undefined, scenario.token);
      expect(api.status, query).toBe(200);
      const response = await fetch(`${hub.url}/alerts?${query}`, { headers: { authorization: `Bearer ${scenario.token}` } });
      expect(response.status, query).toBe(200);
      expect(ids(await response.text()), query).toEqual(api.body.items.map((a: any) => a.id));
    }
    for (const query of ['kind=nope', 'state=closed']) {
      expect((await hub.api('GET', `/v1/alerts?${query}`, undefined, scenario.token)).status, query).toBe(422);
      expect((await fetch(`${hub.url}/alerts?${query}`, { headers: { authorization: `Bearer ${scenario.token}` } })).status, query).toBe(422);
    }
  });

  it('lists on /people everyone GET /v1/people answers', async () => {
    const { body } = await hub.api('GET', '/v1/people', undefined, scenario.token);
    expect(body.items.length).toBeGreaterThan(2);
    const page = await html('/people');
    expect([...page.matchAll(/<tr data-person="([^"]+)"/g)].map((m) => m[1])).toEqual(body.items.map((p: any) => p.id));
  });

  it('finds items by key, by owner/repo#number, by URL and by title words, through GET /v1/items?q=', async () => {
    for (const [q, ref] of [
      ['ACME-101', scenario.refs.story],
      ['acme-102', scenario.refs.blockedStory],
      [`${scenario.repo}#41`, scenario.refs.pr],
      [`https://github.com/${scenario.repo}/pull/42`, scenario.refs.mergedPr],
      ['https://acme.atlassian.net/browse/ACME-101', scenario.refs.story],
      ['tax cli', `github:${scenario.repo}#78`],
    ] as const) {
      const { body } = await hub.api('GET', `/v1/items?q=${encodeURIComponent(q)}`, undefined, scenario.token);
      expect(body.items.map((i: any) => i.ref), q).toContain(ref);
      expect(await html(`/items?q=${encodeURIComponent(q)}`), q).toContain(`data-ref="${ref}"`);
    }
    const filtered = (await hub.api('GET', '/v1/items?q=checkout&source=jira', undefined, scenario.token)).body.items;
    expect(filtered.map((i: any) => i.source)).toEqual(['jira']);
    expect((await hub.api('GET', '/v1/items?q=nothing-matches-this', undefined, scenario.token)).body).toEqual({ items: [], nextCursor: null });
  });
});
