import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExamples } from '../fixtures/github-examples.ts';
import { OPERATOR_TOKEN, type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
const XSS_TITLE = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script> Checkout fails';

describe('the dashboard in a real browser', () => {
  let hub: TestHub;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    hub = await startTestHub();
    const connection = await hub.createConnection('github');
    for (const example of [...githubExamples('issues'), ...githubExamples('pull_request')]) {
      await postGithub(hub.url, connection, example.event, example.payload);
    }
    const blocked = githubExamples('issues', { action: 'opened' })[0]!.payload as any;
    blocked.issue.number = 77;
    blocked.issue.title = XSS_TITLE;
    blocked.issue.body = 'Blocked by #1';
    blocked.issue.updated_at = '2030-01-01T00:00:00Z';
    await postGithub(hub.url, connection, 'issues', blocked);
    // A chain across three issues: #77 blocks #78, which blocks #79.
    for (const [number, title, body] of [
      [78, 'Migrate the tax client', 'Blocked by #77'],
      [79, 'Ship the new checkout', 'Depends on #78'],
    ] as const) {
      const issue = structuredClone(githubExamples('issues', { action: 'opened' })[0]!.payload) as any;
      Object.assign(issue.issue, { number, id: issue.issue.id + number, title, body, updated_at: '2030-01-01T00:00:00Z' });
      await postGithub(hub.url, connection, 'issues', issue);
    }
    await settled(hub);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('signs in with a token, shows the summary, filters items and draws an item graph', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${hub.url}/`);
    await page.fill('input[name=token]', OPERATOR_TOKEN);
    await Promise.all([page.waitForURL(`${hub.url}/`), page.click('button[type=submit]')]);
    await expect.poll(() => page.textContent('h1')).toBe('Overview');
    expect(await page.textContent('body')).toContain('Work mix');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'tributary_token')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    await page.goto(`${hub.url}/items`);
    const all = await page.$$eval('tbody .status', (cells) => cells.map((c) => c.textContent!));
    expect(new Set(all).size).toBeGreaterThan(1);
    const wanted = all[0]!;
    await page.selectOption('select[name=status]', wanted);
    await Promise.all([page.waitForURL(new RegExp(`status=${wanted}`)), page.click('form.filters button[type=submit]')]);
    const statuses = await page.$$eval('tbody .status', (cells) => cells.map((c) => c.textContent));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([wanted]));

    await page.goto(`${hub.url}/items`);
    await Promise.all([page.waitForURL(/\/items\/wi_/), page.click('tr[data-ref$="#77"] a')]);
    expect(await page.textContent('h1')).toBe(XSS_TITLE);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    expect(await page.locator('svg').count()).toBeGreaterThan(0);
    expect(await page.textContent('body')).toContain('Waits on 1');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-item.png'), fullPage: true });
    await page.goto(`${hub.url}/`);
    // The blocked chain on the overview: blocker first, each item a link, the attacker's title shown as text.
    const chain = page.locator('section[aria-label="blocked chains"] li', { hasText: 'Ship the new checkout' });
    const links = await chain.locator('a').allTextContents();
    expect(links.map((l) => l.replace(/^GitHub /, ''))).toEqual(expect.arrayContaining([XSS_TITLE, 'Migrate the tax client', 'Ship the new checkout']));
    expect(links.at(-1)).toContain('Ship the new checkout');
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/items\/wi_/), chain.locator('a').last().click()]);
    expect(await page.textContent('h1')).toBe('Ship the new checkout');

    // Alerts: each with its message and links to its items; filtered on the server without JavaScript.
    const alerts = (await hub.api('GET', '/v1/alerts?state=open&limit=50')).body.items as { message: string }[];
    expect(alerts.length).toBeGreaterThan(0);
    await page.goto(`${hub.url}/`);
    await Promise.all([page.waitForURL(`${hub.url}/alerts`), page.click('header a[href="/alerts"]')]);
    expect(await page.textContent('h1')).toBe('Alerts');
    await page.selectOption('select[name=state]', 'open');
    await Promise.all([page.waitForURL(/state=open/), page.click('form.filters button[type=submit]')]);
    const rows = page.locator('tbody tr[data-state="open"]');
    expect(await rows.count()).toBe(alerts.length);
    expect(await rows.first().textContent()).toContain(alerts[0]!.message);
    expect(await rows.first().locator('a[data-role="subject"]').getAttribute('href')).toMatch(/^\/items\/wi_/);
    expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alerts.png'), fullPage: true });
    await page.goto(`${hub.url}/`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
  }, 120_000);
});
