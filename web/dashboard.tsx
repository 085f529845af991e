/**
 * The leaders' dashboard: server-rendered pages (hono/jsx), readable without JavaScript on a laptop
 * or a phone. Components get their data as props — the same view objects the API answers — and
 * import only `core/`. One page per file; this module gathers them.
 */
export { Layout } from './layout.tsx';
export { LoginPage } from './login-page.tsx';
export { OverviewPage } from './overview-page.tsx';
export { type ItemsQuery, ItemsPage } from './items-page.tsx';
export { ItemPage } from './item-page.tsx';
export { PeoplePage } from './people-page.tsx';
export { TeamPage } from './team-page.tsx';
export { type AlertsQuery, AlertsPage } from './alerts-page.tsx';
export { STYLESHEET, STYLESHEET_PATH } from './stylesheet.ts';
