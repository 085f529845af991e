import * as z from 'zod';
import { CLOSED_STATUSES, Category, Source, StatusCategory, type WorkItem } from './work-item.ts';

/**
 * Per-tenant counters behind `GET /v1/views/summary`. Each item *contributes* a set of counter
 * keys (each worth 1) that is a pure function of its state, so the counters are the sum of the
 * contributions of every item, and a change moves the counters by `contribution(after) −
 * contribution(before)`. Keys:
 *
 * - `all`, `status:{category}`, `source:{source}`, `category:{category}`: every item not deleted
 * - `created:{day}`, `closed:{day}`: UTC day of createdAt / closedAt (closed items only), for windows
 * - `open`, `unowned`, `open.category:{c}`, `open.team:{team}`, `open.owner:{personId}`:
 *   open work only (not done, not cancelled)
 * - `blocked.flag`: open items with the derived blocked flag (an open blocker in any tool). It is
 *   not part of an item's contribution: the flag changes when a *blocker* changes, so it is counted
 *   from the item's dependency state (store/dependency-state.ts, store/aggregates.ts
 *   `recordBlockedContribution`). The `blocked` status category is counted in `status:blocked`.
 * - `active:{day}`: UTC day of the latest activity of open work; stale work is the sum of the days
 *   before the threshold, so "stale" needs no write when time passes
 */
export type Contribution = string[];

const day = (time: string): string => new Date(time).toISOString().slice(0, 10);

/** The counter of open items with the derived blocked flag (see the comment above). */
export const BLOCKED_FLAG = 'blocked.flag';

export const NO_TEAM = '(none)';

export const contributionOf = (item: WorkItem | undefined): Contribution => {
  if (!item || item.deleted) return [];
  const keys = ['all', `status:${item.status.category}`, `source:${item.source}`, `category:${item.category}`, `created:${day(item.createdAt)}`];
  if (CLOSED_STATUSES.has(item.status.category)) {
    if (item.closedAt) keys.push(`closed:${day(item.closedAt)}`);
    return keys;
  }
  keys.push('open', `open.category:${item.category}`, `open.team:${item.team ?? NO_TEAM}`, `active:${day(item.activityAt)}`);
  const owners = [...new Set(item.owners.map((p) => p.id))];
  if (owners.length === 0) keys.push('unowned');
  for (const owner of owners) keys.push(`open.owner:${owner}`);
  return keys;
};

/** What moving from one contribution to another adds to each counter (zeros left out). */
export const contributionDelta = (before: Contribution, after: Contribution): Record<string, number> => {
  const delta: Record<string, number> = {};
  for (const key of before) delta[key] = (delta[key] ?? 0) - 1;
  for (const key of after) delta[key] = (delta[key] ?? 0) + 1;
  for (const [key, value] of Object.entries(delta)) if (value === 0) delete delta[key];
  return delta;
};

/** Sums contributions (the repair's recompute). */
export const sumContributions = (contributions: Iterable<Contribution>): Record<string, number> => {
  const totals: Record<string, number> = {};
  for (const contribution of contributions) for (const key of contribution) totals[key] = (totals[key] ?? 0) + 1;
  return totals;
};

const countMap = <K extends string>(values: readonly K[]) => z.record(z.enum(values as [K, ...K[]]), z.number().int());

export const Summary = z.object({
  asOf: z.string(),
  total: z.number().int().describe('items in the index, not deleted'),
  open: z.number().int().describe('not done, not cancelled'),
  unowned: z.number().int().describe('open items without an owner'),
  blocked: z.number().int().describe('open items with an open blocker in any tool (the derived blocked flag, as `GET /v1/items?blocked=true`); the `blocked` status category is in `byStatus`'),
  stale: z.number().int().describe('open items without activity for `staleAfterDays` days'),
  staleAfterDays: z.number().int(),
  byStatus: countMap(StatusCategory.options),
  bySource: countMap(Source.options),
  byCategory: countMap(Category.options).describe('all items: project (planned) vs operational and request (unplanned)'),
  openByCategory: countMap(Category.options),
  unplannedShare: z.number().describe('share of open work that is operational or a request (0..1)'),
  byTeam: z.array(z.object({ team: z.string(), open: z.number().int() })).describe('open items per team, `(none)` without a team'),
  byOwner: z.array(z.object({ personId: z.string(), open: z.number().int() })).describe('open items per owner (a shared item counts for each)'),
  createdVsClosed: z.object({
    last7Days: z.object({ created: z.number().int(), closed: z.number().int() }),
    last30Days: z.object({ created: z.number().int(), closed: z.number().int() }),
  }),
});
export type Summary = z.infer<typeof Summary>;

const DAY_MS = 86_400_000;

/** The summary from the counters, at `now`. */
export const summarize = (counters: Record<string, number>, now: Date, options: { staleAfterDays?: number } = {}): Summary => {
  const staleAfterDays = options.staleAfterDays ?? 14;
  const get = (key: string) => counters[key] ?? 0;
  const prefixed = (prefix: string) =>
    Object.entries(counters)
      .filter(([key, value]) => key.startsWith(prefix) && value !== 0)
      .map(([key, value]) => [key.slice(prefix.length), value] as const);
  const sinceDays = (prefix: string, days: number) => {
    const from = day(new Date(now.getTime() - (days - 1) * DAY_MS).toISOString());
    return prefixed(prefix).reduce((sum, [d, n]) => (d >= from ? sum + n : sum), 0);
  };
  const staleBefore = day(new Date(now.getTime() - staleAfterDays * DAY_MS).toISOString());
  const byValues = <K extends string>(prefix: string, values: readonly K[]) =>
    Object.fromEntries(values.map((v) => [v, get(`${prefix}${v}`)])) as Record<K, number>;
  const openByCategory = byValues('open.category:', Category.options);
  const open = get('open');
  const descending = (a: { open: number }, b: { open: number }) => b.open - a.open;
  return {
    asOf: now.toISOString(),
    total: get('all'),
    open,
    unowned: get('unowned'),
    blocked: get(BLOCKED_FLAG),
    stale: prefixed('active:').reduce((sum, [d, n]) => (d < staleBefore ? sum + n : sum), 0),
    staleAfterDays,
    byStatus: byValues('status:', StatusCategory.options),
    bySource: byValues('source:', Source.options),
    byCategory: byValues('category:', Category.options),
    openByCategory,
    unplannedShare: open === 0 ? 0 : Math.round(((openByCategory.operational + openByCategory.request) / open) * 1000) / 1000,
    byTeam: prefixed('open.team:').map(([team, n]) => ({ team, open: n })).sort(descending),
    byOwner: prefixed('open.owner:').map(([personId, n]) => ({ personId, open: n })).sort(descending),
    createdVsClosed: {
      last7Days: { created: sinceDays('created:', 7), closed: sinceDays('closed:', 7) },
      last30Days: { created: sinceDays('created:', 30), closed: sinceDays('closed:', 30) },
    },
  };
};
