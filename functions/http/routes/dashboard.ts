import { Hono } from 'hono';
import * as z from 'zod';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { confirmedIncoming, directDependencies } from '../../../core/dependencies.ts';
import { AppError, NotFoundError } from '../../../core/errors.ts';
import { itemIdForRef } from '../../../core/ids.ts';
import { ItemFilter } from '../../../core/item-filter.ts';
import type { Clock } from '../../../core/ports.ts';
import type { Db } from '../../../store/db.ts';
import { getItems, listItems } from '../../../store/item-queries.ts';
import { loadItemWithIncoming } from '../../../store/items.ts';
import { listPersonRecords, peopleViews } from '../../../store/people.ts';
import { ItemPage, type ItemsQuery, ItemsPage, LoginPage, OverviewPage, PeoplePage } from '../../../web/dashboard.tsx';
import type { AuthEnv, authenticate } from '../auth.ts';
import { loadSummary, loadWorkload } from './views.ts';
import { AlertKind, AlertState } from '../../../core/alerts.ts';
import { listAlerts } from '../../../store/alerts.ts';
import { loadBlockedChains } from '../../../pipeline/blocked-chains.ts';
import { type AlertsQuery, AlertsPage } from '../../../web/alerts-page.tsx';

const AlertsFilter = z.object({ state: AlertState.optional(), kind: AlertKind.optional(), team: z.string().max(100).optional() });

export const SESSION_COOKIE = 'tributary_token';

export interface DashboardDeps {
  db: Db;
  clock: Clock;
  publicUrl: string;
  resolve: ReturnType<typeof authenticate>;
}

/**
 * The dashboard's pages. A leader signs in with a tenant token, kept in an HttpOnly, SameSite=Strict
 * cookie (never readable by scripts, never sent by another site's requests); scripts may send
 * `Authorization: Bearer` instead. Without either, `/` shows the sign-in form and the other pages
 * send the browser there.
 */
export const dashboardRoutes = (deps: DashboardDeps) => {
  const session = createMiddleware<AuthEnv>(async function dashboardSession(c, next) {
    const header = c.req.header('authorization') ?? (getCookie(c, SESSION_COOKIE) ? `Bearer ${getCookie(c, SESSION_COOKIE)}` : undefined);
    try {
      c.set('principal', await deps.resolve(header));
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 401) throw error;
      if (c.req.path === '/') return c.html(LoginPage({ publicUrl: deps.publicUrl }));
      return c.redirect('/', 303);
    }
    await next();
  });
  const secure = deps.publicUrl.startsWith('https:');

  return new Hono<AuthEnv>()
    .post('/login', async (c) => {
      const form = await c.req.parseBody();
      const token = typeof form.token === 'string' ? form.token.trim() : '';
      try {
        await deps.resolve(`Bearer ${token}`);
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 401) throw error;
        return c.html(LoginPage({ publicUrl: deps.publicUrl, error: 'That token is unknown or revoked.' }), 401);
      }
      setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure, maxAge: 60 * 60 * 12 });
      return c.redirect('/', 303);
    })
    .post('/logout', (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.redirect('/', 303);
    })
    .get('/', session, async (c) => {
      const { tenantId } = c.get('principal');
      const now = deps.clock();
      const [summary, workload, chains] = await Promise.all([
        loadSummary(deps.db, tenantId, now),
        loadWorkload(deps.db, tenantId, now),
        loadBlockedChains(deps.db, tenantId, now),
      ]);
      return c.html(OverviewPage({ summary, workload, chains }));
    })
    .get('/alerts', session, async (c) => {
      const raw = c.req.query();
      const query: AlertsQuery = Object.fromEntries(['state', 'kind', 'team'].filter((k) => raw[k]).map((k) => [k, raw[k]!]));
      const parsed = AlertsFilter.safeParse(query);
      if (!parsed.success) return c.html(AlertsPage({ alerts: [], query, nextCursor: null, error: 'A filter value is not valid.' }), 422);
      try {
        const page = await listAlerts(deps.db, c.get('principal').tenantId, parsed.data, { limit: 50, ...(raw.cursor ? { cursor: raw.cursor } : {}) });
        return c.html(AlertsPage({ alerts: page.items, query, nextCursor: page.nextCursor }));
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 400) throw error;
        return c.html(AlertsPage({ alerts: [], query, nextCursor: null, error: 'That page link is out of date: filter again.' }), 400);
      }
    })
    .get('/items', session, async (c) => {
      const raw = c.req.query();
      const query: ItemsQuery = Object.fromEntries(
        ['source', 'status', 'category', 'owner', 'container', 'label'].filter((k) => raw[k]).map((k) => [k, raw[k]!]),
      );
      const parsed = ItemFilter.safeParse(query);
      if (!parsed.success) return c.html(ItemsPage({ items: [], query, nextCursor: null, error: 'A filter value is not valid.' }), 422);
      const page = await listItems(deps.db, c.get('principal').tenantId, parsed.data, { limit: 50, cursor: raw.cursor || undefined });
      return c.html(ItemsPage({ items: page.items, query, nextCursor: page.nextCursor }));
    })
    .get('/items/:id', session, async (c) => {
      const { tenantId } = c.get('principal');
      const param = c.req.param('id');
      const id = param.startsWith('wi_') ? param : itemIdForRef(param);
      const { item, incoming } = await loadItemWithIncoming(deps.db, tenantId, id);
      if (!item) throw new NotFoundError(`Item ${param}`);
      const related = await getItems(deps.db, tenantId, [...new Set([...item.links.map((l) => itemIdForRef(l.target)), ...incoming.map((e) => e.fromId)])]);
      const dependencies = directDependencies(item, confirmedIncoming(item.ref, incoming, related), related);
      return c.html(ItemPage({ item, dependencies }));
    })
    .get('/people', session, async (c) => c.html(PeoplePage({ people: peopleViews(await listPersonRecords(deps.db, c.get('principal').tenantId)) })));
};
