import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemIdForRef } from '../../core/ids.ts';
import { type Scenario, XSS_TITLE, seedDashboardScenario } from '../support/dashboard-scenario.ts';
import { type TestHub, startTestHub } from '../support/hub.ts';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Violations people with disabilities would hit first: axe's `serious` and `critical` impacts. */
const seriousViolations = async (page: Page) => {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
};

/** How far the page scrolls sideways (0: it fits the viewport). */
const sidewaysScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('the dashboard in a real browser', () => {
  let hub: TestHub;
  let browser: Browser;
  let scenario: Scenario;
  const path = (ref: string) => `/items/${itemIdForRef(ref)}`;

  /** A browser context signed in through the form, like a person would. */
  const signedIn = async (viewport: { width: number; height: number }): Promise<BrowserContext & { page: Page }> => {
    const context = await browser.newContext({ viewport });
    // A step that hangs fails with what it waited for, not as the whole test's timeout.
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await page.goto(`${hub.url}/`);
    await page.fill('input[name=token]', scenario.token);
    await Promise.all([page.waitForURL(`${hub.url}/`, { waitUntil: 'load' }), page.click('main button[type=submit]')]);
    // The page stays open for the test (closing one right after its navigation can stall Chromium).
    return Object.assign(context, { page });
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    hub = await startTestHub();
    scenario = await seedDashboardScenario(hub);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('signs in with a token into an HttpOnly, SameSite=Strict cookie and signs out', async () => {
    const context = await signedIn({ width: 1280, height: 900 });
    const { page } = context;
    await page.goto(`${hub.url}/`);
    expect(await page.textContent('h1')).toBe('Overview');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'tributary_token')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await Promise.all([page.waitForURL(`${hub.url}/`), page.click('header button:has-text("Sign out")')]);
    expect(await page.locator('input[name=token]').count()).toBe(1);
    await context.close();
  });

  it("shows the story's whole story: the PR with its state, the customer's email, the work it blocks, its timeline", async () => {
    const context = await signedIn({ width: 1280, height: 900 });
    const { page } = context;
    await page.goto(`${hub.url}${path(scenario.refs.story)}`);
    expect(await page.textContent('h1')).toBe('Checkout fails when the cart holds more than 100 items');

    const pr = page.locator('[data-section="implemented-by"] tr', { hasText: 'ACME-101 Retry checkout' });
    expect(await pr.locator('.status').textContent()).toBe('in review');
    expect(await pr.textContent()).toContain('GitHub');
    expect(await pr.locator(`a[href="${path(scenario.refs.pr)}"]`).count()).toBe(1);
    expect(await pr.locator('a[href^="https://github.com/"]').count()).toBe(1);

    const email = page.locator('[data-section="mentioned-in"] tr', { hasText: 'Checkout fails for our large orders' });
    expect(await email.textContent()).toContain('Ana Lima');
    expect(await email.locator('.status').textContent()).toBe('awaiting the team');

    // What it blocks, followed through open work across tools: ACME-102 → #78 → #79.
    const chain = page.locator('[data-chain="down"]');
    const order = await chain.locator('li[data-chain-node]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-depth')));
    expect(order).toEqual(['1', '2', '3']);
    expect(await chain.textContent()).toContain('Apply bulk discount rules to large carts');
    expect(await chain.textContent()).toContain('Ship the new checkout');
    expect(await chain.locator('li[data-depth="1"]').textContent()).toMatch(/blocked for/);

    // Times read as people read them, the exact time on hover.
    const changed = page.locator('dl.fields time').last();
    expect(await changed.textContent()).toMatch(/ago$/);
    expect(await changed.getAttribute('title')).toMatch(/UTC$/);

    // The commit pushed to the PR's branch, and the branch.
    const development = page.locator('[data-section="development"]');
    expect(await development.locator('table.commits tbody tr').textContent()).toContain(scenario.commit.message);
    expect(await development.locator('ul.branches li').textContent()).toMatch(new RegExp(`^${scenario.commit.branch} in .* · 6 hours ago$`));

    const timeline = page.locator('[data-section="timeline"] li');
    const types = await timeline.evaluateAll((items) => items.map((i) => i.getAttribute('data-event')));
    expect(types).toEqual(expect.arrayContaining(['work.item.created', 'work.item.status_changed', 'work.link.added', 'work.item.development_changed']));
    // Dated by Jira, where the story was created a week ago, not by when the hub first saw it.
    const created = page.locator('[data-section="timeline"] li[data-event="work.item.created"]');
    expect(await created.textContent()).toBe('7 days ago · Created as To Do');
    expect(await created.locator('time').getAttribute('title')).toMatch(/UTC, recorded by the hub .* UTC$/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-item.png'), fullPage: true });
    await context.close();
  });

  it('shows divergence between tools as alerts on the item pages', async () => {
    const context = await signedIn({ width: 1280, height: 900 });
    const { page } = context;
    await page.goto(`${hub.url}${path(scenario.refs.blockedStory)}`);
    const merged = page.locator('[data-section="alerts"] li[data-kind="pr_merged_ticket_open"]');
    expect(await merged.textContent()).toMatch(/was merged .* but ACME-102 .* is still To Do/);
    await page.goto(`${hub.url}${path(scenario.refs.email)}`);
    expect(await page.locator('[data-section="alerts"] li[data-kind="request_unanswered"]').count()).toBe(1);
    await context.close();
  });

  it('draws the overview: headline, alerts, bottlenecks and the flow charts with their numbers', async () => {
    const context = await signedIn({ width: 1280, height: 900 });
    const { page } = context;
    await page.goto(`${hub.url}/`);
    expect(await page.textContent('[data-headline]')).toMatch(/^Last 7 days: \d+ closed/);
    for (const title of ['Throughput', 'Created vs closed', 'Cycle time', 'Work mix', 'WIP by team']) {
      const chart = page.locator('svg[role="img"]', { has: page.locator(`title:text-is("${title}")`) });
      expect(await chart.count(), title).toBe(1);
      // The numbers beside it, as a table.
      expect(await chart.locator('xpath=following-sibling::table').locator('tbody tr').count(), title).toBeGreaterThan(0);
    }
    const throughput = await page.locator('[data-chart="throughput"] tbody td').allTextContents();
    expect(throughput.map(Number).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(await page.locator('[data-section="open-alerts"] li[data-kind]').count()).toBeGreaterThan(0);
    expect(await page.textContent('[data-section="bottlenecks"]')).toContain('Checkout fails when the cart holds more than 100 items');
    // The longest blocked chain, across tools, blocker first: ACME-101 → ACME-102 → #78 → #79.
    const chain = page.locator('section[aria-label="blocked chains"] li', { hasText: 'Ship the new checkout' }).first();
    const links = (await chain.locator('a').allTextContents()).map((l) => l.replace(/^(GitHub|Jira) /, ''));
    expect(links).toEqual(['Checkout fails when the cart holds more than 100 items', 'Apply bulk discount rules to large carts', 'Migrate the tax client', 'Ship the new checkout']);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
    await context.close();
  });

  it('shows titles from the tools as text, never as markup', async () => {
    const context = await signedIn({ width: 1280, height: 900 });
    const { page } = context;
    await page.goto(`${hub.url}${path(scenario.refs.xss)}`);
    expect(await page.textContent('h1')).toBe(XSS_TITLE);
    await page.goto(`${hub.url}${path(`github:${scenario.repo}#78`)}`);
    expect(await page.locator('[data-chain="up"]').textContent()).toContain(XSS_TITLE);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await context.close();
  });

  it('finds an item by key, by owner/repo#number and by words of its title', async () => {
    const context = await signedIn({ width: 1280, height: 900 });
    const { page } = context;
    for (const [query, ref] of [
      ['acme-101', scenario.refs.story],
      [`${scenario.repo}#41`, scenario.refs.pr],
      ['tax cli', `github:${scenario.repo}#78`],
    ] as const) {
      await page.goto(`${hub.url}/`);
      await page.fill('header input[name=q]', query);
      await Promise.all([page.waitForURL(/\/items\?q=/), page.click('header button:has-text("Find")')]);
      expect(await page.locator(`tr[data-ref="${ref}"]`).count(), query).toBe(1);
    }
    await context.close();
  });

  it('shows a team its WIP, blocked work, what it waits on from other teams and the requests waiting for it', async () => {
    const context = await signedIn({ width: 1280, height: 900 });
    const { page } = context;
    await page.goto(`${hub.url}/teams/checkout`);
    expect(await page.textContent('[data-section="wip"] h2')).toMatch(/Work in progress: \d+ of 4/);
    expect(await page.textContent('[data-section="waits-on"]')).toContain('Apply bulk discount rules to large carts');
    await page.goto(`${hub.url}/teams/platform`);
    expect(await page.textContent('[data-section="requests"]')).toContain('Checkout fails for our large orders');
    await context.close();
  });

  it('refuses a sign-in posted from another site', async () => {
    const page = await browser.newPage();
    // A page of another origin (opaque: a data URL) posting the sign-in form to the hub.
    await page.goto(`data:text/html,<form method="post" action="${hub.url}/login"><input name="token" value="${scenario.token}"><button>go</button></form>`);
    const [response] = await Promise.all([page.waitForResponse(`${hub.url}/login`), page.click('button')]);
    expect(response.status()).toBe(403);
    expect((await page.context().cookies()).find((c) => c.name === 'tributary_token')).toBeUndefined();
    await page.close();
  });

  for (const size of WIDTHS) {
    it(`opens every page at ${size.width} px: no serious accessibility violation, no sideways scrolling, no script run`, async () => {
      const context = await signedIn(size);
      const { page } = context;
      const pages = [
        ['overview', '/'],
        ['items', '/items'],
        ['search', '/items?q=checkout'],
        ['item-story', path(scenario.refs.story)],
        ['item-pr', path(scenario.refs.pr)],
        ['item-email', path(scenario.refs.email)],
        ['item-xss', path(scenario.refs.xss)],
        ['alerts', '/alerts'],
        ['people', '/people'],
        ['team', '/teams/checkout'],
      ] as const;
      const failures: string[] = [];
      for (const [name, url] of pages) {
        const response = await page.goto(`${hub.url}${url}`);
        expect(response?.status(), url).toBe(200);
        for (const violation of await seriousViolations(page)) failures.push(`${url} at ${size.width} px: ${violation}`);
        if (size.name === 'phone') {
          const overflow = await sidewaysScroll(page);
          if (overflow > 0) failures.push(`${url} at ${size.width} px scrolls ${overflow} px sideways`);
        }
        expect(await page.evaluate(() => (window as any).__xss), url).toBeUndefined();
        await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}-${size.name}.png`), fullPage: true });
      }
      const anonymous = await browser.newContext({ viewport: size });
      const signIn = await anonymous.newPage();
      await signIn.goto(`${hub.url}/`);
      for (const violation of await seriousViolations(signIn)) failures.push(`/ (sign-in) at ${size.width} px: ${violation}`);
      if (size.name === 'phone' && (await sidewaysScroll(signIn)) > 0) failures.push(`/ (sign-in) at ${size.width} px scrolls sideways`);
      await anonymous.close();
      expect(failures).toEqual([]);
      await context.close();
    }, 180_000);
  }
});
