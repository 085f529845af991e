import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

const XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>';

describe('the dashboard pages', () => {
  let hub: TestHub;
  let token: string;
  let itemId: string;
  const page = (path: string, init: RequestInit = {}) => fetch(`${hub.url}${path}`, { redirect: 'manual', ...init });
  const withCookie = (cookie: string) => ({ headers: { cookie } });

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
    for (const path of ['/items', '/alerts']) {
      const response = await page(path);
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location')).toBe('/');
    }
  });

  it('refuses an unknown token at sign-in', async () => {
    const response = await page('/login', { method: 'POST', body: new URLSearchParams({ token: 'tok_nope.nope' }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('signs in with a token into an HttpOnly, SameSite=Strict cookie and shows the summary', async () => {
    const login = await page('/login', { method: 'POST', body: new URLSearchParams({ token }) });
    expect(login.status).toBe(303);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const overview = await (await page('/', withCookie(cookie))).text();
    expect(overview).toContain('Overview');
    expect(overview).toMatch(/data-metric="Open">Open<b>2<\/b>/);
    expect(overview).toMatch(/data-metric="Blocked">Blocked<b>2<\/b>/);
    expect(overview).toContain('<svg');
  });

  it('accepts a bearer token too, and escapes attacker-controlled titles on every page', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    for (const path of ['/', '/items', `/items/${itemId}`, '/items?source=github&category=project', '/alerts', '/alerts?state=open&kind=dependency_cycle']) {
      const html = await (await page(path, auth)).text();
      expect(html, path).not.toContain('<script>alert');
      expect(html, path).not.toContain('<img src=x');
      expect(html, path).toContain('&lt;script&gt;');
    }
  });

  it('filters items on the server, and draws an item with its dependencies', async () => {
    const auth = { headers: { authorization: `Bearer ${token}` } };
    expect(await (await page('/items?source=jira', auth)).text()).toContain('No items match.');
    const detail = await (await page(`/items/${itemId}`, auth)).text();
    expect(detail).toContain('aria-label="dependency graph"');
    expect(detail).toContain('data-node="upstream"');
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
});
