import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../../../core/errors.ts';
import type { Clock } from '../../../core/ports.ts';
import { recordSignInFailure, signInBlocked } from '../../../store/sign-in-throttle.ts';
import { onceSucceeded } from '../../../core/once.ts';
import type { AlertsQuery, ItemsQuery } from '../../../web/dashboard.tsx';
import { STYLESHEET, STYLESHEET_PATH } from '../../../web/stylesheet.ts';
import type { AuthEnv, authenticate } from '../auth.ts';
import { clientAddressOf } from '../client-address.ts';
import { AlertListFilter, loadAlertList } from '../views/alerts.ts';
import { type TimelineReader, loadItemView } from '../views/item.ts';
import { ItemListFilter, loadItemList } from '../views/items.ts';
import { loadOverview } from '../views/overview.ts';
import { loadPeople } from '../views/people.ts';
import { loadTeamView } from '../views/team.ts';
import type { ViewDeps } from '../views/viewed.ts';

export const SESSION_COOKIE = 'tributary_token';

export interface DashboardDeps {
  db: ViewDeps['db'];
  clock: Clock;
  publicUrl: string;
  resolve: ReturnType<typeof authenticate>;
  readTimeline: TimelineReader;
}

const ITEM_FILTERS = ['q', 'source', 'status', 'category', 'owner', 'container', 'label'] as const;

/**
 * The pages and hono/jsx, loaded by the first page view rather than by every cold start of the API
 * function: most of its invocations are API calls and webhooks.
 */
const pages = onceSucceeded(() => import('../../../web/dashboard.tsx'));

/**
 * The dashboard's pages. Each page calls the query function its API route calls (functions/http/views/),
 * with the same filter schema, so a page shows exactly what the API answers, rendered by web/. The
 * only read of its own is the sign-in throttle, which is no view. A leader signs in with a tenant
 * token, kept in an HttpOnly, SameSite=Strict cookie (never readable by scripts, never sent by
 * another site's requests); scripts may send `Authorization: Bearer` instead. Without either, `/`
 * shows the sign-in form and the other pages send the browser there. Repeated failed sign-ins from
 * one address are refused for a while (429, `Retry-After`), counted in the table (store/sign-in-throttle.ts).
 */
export const dashboardRoutes = (deps: DashboardDeps) => {
  const session = createMiddleware<AuthEnv>(async function dashboardSession(c, next) {
    const header = c.req.header('authorization') ?? (getCookie(c, SESSION_COOKIE) ? `Bearer ${getCookie(c, SESSION_COOKIE)}` : undefined);
    try {
      c.set('principal', await deps.resolve(header));
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 401) throw error;
      if (c.req.path === '/') return c.html((await pages()).LoginPage({ publicUrl: deps.publicUrl }));
      return c.redirect('/', 303);
    }
    await next();
    // Pages hold the tenant's data: never kept by a shared cache or the browser's history cache.
    c.header('cache-control', 'no-store');
  });
  const secure = () => deps.publicUrl.startsWith('https:');

  return new Hono<AuthEnv>()
    .get(STYLESHEET_PATH, (c) => {
      c.header('content-type', 'text/css; charset=utf-8');
      // The path names the content's hash: a new stylesheet has a new path.
      c.header('cache-control', 'public, max-age=31536000, immutable');
      return c.body(STYLESHEET);
    })
    .post('/login', async (c) => {
      const { LoginPage } = await pages();
      const address = clientAddressOf(c) ?? 'unknown';
      const now = deps.clock();
      const throttled = await signInBlocked(deps.db, address, now);
      if (throttled.blocked) {
        c.header('retry-after', String(throttled.retryAfterSeconds));
        const minutes = Math.ceil(throttled.retryAfterSeconds / 60);
        return c.html(LoginPage({ publicUrl: deps.publicUrl, error: `Too many failed sign-ins from your address: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }), 429);
      }
      const form = await c.req.parseBody();
      const token = typeof form.token === 'string' ? form.token.trim() : '';
      try {
        await deps.resolve(`Bearer ${token}`);
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 401) throw error;
        await recordSignInFailure(deps.db, address, now);
        return c.html(LoginPage({ publicUrl: deps.publicUrl, error: 'That token is unknown or revoked.' }), 401);
      }
      setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure: secure(), maxAge: 60 * 60 * 12 });
      return c.redirect('/', 303);
    })
    .post('/logout', (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.redirect('/', 303);
    })
    .get('/', session, async (c) => {
      const [overview, { OverviewPage }] = await Promise.all([loadOverview(deps, c.get('principal').tenantId), pages()]);
      return c.html(OverviewPage({ overview, now: new Date(overview.asOf) }));
    })
    .get('/alerts', session, async (c) => {
      const { AlertsPage } = await pages();
      const raw = c.req.query();
      const now = deps.clock();
      const query: AlertsQuery = Object.fromEntries(['state', 'kind', 'team'].filter((k) => raw[k]).map((k) => [k, raw[k]!]));
      const parsed = AlertListFilter.safeParse(query);
      if (!parsed.success) return c.html(AlertsPage({ alerts: [], query, nextCursor: null, now, error: 'A filter value is not valid.' }), 422);
      try {
        const page = await loadAlertList(deps.db, c.get('principal').tenantId, parsed.data, { limit: 50, ...(raw.cursor ? { cursor: raw.cursor } : {}) });
        return c.html(AlertsPage({ alerts: page.items, query, nextCursor: page.nextCursor, now }));
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 400) throw error;
        return c.html(AlertsPage({ alerts: [], query, nextCursor: null, now, error: 'That page link is out of date: filter again.' }), 400);
      }
    })
    .get('/items', session, async (c) => {
      const { ItemsPage } = await pages();
      const raw = c.req.query();
      const now = deps.clock();
      const query: ItemsQuery = Object.fromEntries(ITEM_FILTERS.filter((k) => raw[k]?.trim()).map((k) => [k, raw[k]!.trim()]));
      const parsed = ItemListFilter.safeParse(query);
      if (!parsed.success) return c.html(ItemsPage({ items: [], query, nextCursor: null, now, error: 'A filter value is not valid.' }), 422);
      try {
        const page = await loadItemList(deps.db, c.get('principal').tenantId, parsed.data, { limit: 50, ...(raw.cursor ? { cursor: raw.cursor } : {}) });
        return c.html(ItemsPage({ items: page.items, query, nextCursor: page.nextCursor, now }));
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 400) throw error;
        return c.html(ItemsPage({ items: [], query, nextCursor: null, now, error: 'That page link is out of date: filter again.' }), 400);
      }
    })
    .get('/items/:id', session, async (c) => {
      const before = c.req.query('before');
      const [view, { ItemPage }] = await Promise.all([loadItemView(deps, c.get('principal').tenantId, c.req.param('id'), before ? { before } : {}), pages()]);
      const older = view.timeline.nextCursor ? `/items/${encodeURIComponent(view.item.id)}?before=${encodeURIComponent(view.timeline.nextCursor)}` : undefined;
      return c.html(ItemPage({ view, now: deps.clock(), ...(older ? { olderEvents: older } : {}) }));
    })
    .get('/people', session, async (c) => {
      const [people, { PeoplePage }] = await Promise.all([loadPeople(deps.db, c.get('principal').tenantId), pages()]);
      return c.html(PeoplePage({ people: people.items }));
    })
    .get('/teams/:team', session, async (c) => {
      const team = c.req.param('team');
      if (team.length === 0 || team.length > 100) return c.redirect('/', 303);
      const [view, { TeamPage }] = await Promise.all([loadTeamView(deps, c.get('principal').tenantId, team), pages()]);
      return c.html(TeamPage({ view, now: new Date(view.asOf) }));
    });
};
