import * as z from 'zod';
import { Summary } from './aggregates.ts';
import { Alert } from './alerts.ts';
import { Bottlenecks } from './bottlenecks.ts';
import { Category, Source, type WorkItem } from './work-item.ts';
import { percentile, weekOf } from './views.ts';

/**
 * The overview (pure parts): "where are we, what is stuck, what changed". Flow over the last weeks
 * is one row per week — created and closed (from the summary counters), throughput and cycle time
 * (from the work done in the window), and the mix of work done by category — so a chart and the
 * table beside it draw from the same numbers.
 */

/** Weeks of flow the overview draws. */
export const OVERVIEW_WEEKS = 12;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const WeekOfFlow = z.object({
  week: z.string().describe('Monday of the week, UTC (YYYY-MM-DD)'),
  created: z.number().int().describe('items created that week (summary counters)'),
  closed: z.number().int().describe('items done or cancelled that week (summary counters)'),
  throughput: z.number().int().describe('items done that week'),
  cycleTimeHours: z.object({
    count: z.number().int(),
    p50: z.number().nullable(),
    p85: z.number().nullable(),
  }),
  mix: z.record(Category, z.number().int()).describe('items done that week, by category'),
});
export type WeekOfFlow = z.infer<typeof WeekOfFlow>;

export const BottleneckDigest = Bottlenecks.extend({ computedAt: z.string() });

export const Overview = z.object({
  asOf: z.string(),
  summary: Summary,
  headline: z.string().describe('the status digest of the last 7 days in one sentence (`GET /v1/views/digest`)'),
  openAlerts: z.object({
    items: z.array(Alert).describe('the newest open alerts, at most 10'),
    more: z.boolean().describe('more open alerts than listed'),
  }),
  bottlenecks: BottleneckDigest.describe('`GET /v1/views/bottlenecks` with its defaults, 5 of each'),
  chains: z.array(z.object({ items: z.array(z.object({ id: z.string(), ref: z.string(), title: z.string(), source: Source })) })).describe('the longest blocked chains, blocker first'),
  weeks: z.array(WeekOfFlow).describe(`the last ${OVERVIEW_WEEKS} weeks, oldest first, the current one last`),
  cycleTimeHours: z.object({ count: z.number().int(), p50: z.number().nullable(), p85: z.number().nullable() }).describe('over the whole window'),
  wipByTeam: z.array(
    z.object({ team: z.string(), wip: z.number().int(), limit: z.number().int().nullable(), overLimit: z.boolean(), byStatus: z.record(z.string(), z.number().int()) }),
  ),
});
export type Overview = z.infer<typeof Overview>;

/** The Mondays of the `weeks` weeks ending with the week of `now`, oldest first. */
export const weeksEnding = (now: Date, weeks: number): string[] => {
  const last = Date.parse(`${weekOf(now)}T00:00:00.000Z`);
  return Array.from({ length: weeks }, (_, i) => new Date(last - (weeks - 1 - i) * 7 * DAY_MS).toISOString().slice(0, 10));
};

const round = (n: number | undefined) => (n === undefined ? null : Math.round(n * 10) / 10);

/**
 * Flow per week: `counters` are the summary counters (`created:{day}`, `closed:{day}`), `done` the
 * items done since the first week's Monday (their `closedAt` places them).
 */
export const weeklyFlow = (counters: Readonly<Record<string, number>>, done: readonly WorkItem[], now: Date, weeks = OVERVIEW_WEEKS): WeekOfFlow[] => {
  const mondays = weeksEnding(now, weeks);
  const rows = new Map(
    mondays.map((week) => [week, { created: 0, closed: 0, cycles: [] as number[], mix: Object.fromEntries(Category.options.map((c) => [c, 0])) as Record<Category, number> }]),
  );
  for (const [key, n] of Object.entries(counters)) {
    const [kind, day] = key.split(':');
    if ((kind !== 'created' && kind !== 'closed') || !day) continue;
    const row = rows.get(weekOf(`${day}T00:00:00.000Z`));
    if (row) row[kind] += n;
  }
  for (const item of done) {
    if (item.deleted || item.status.category !== 'done' || !item.closedAt) continue;
    const row = rows.get(weekOf(item.closedAt));
    if (!row) continue;
    row.mix[item.category] += 1;
    if (item.startedAt) {
      const hours = (Date.parse(item.closedAt) - Date.parse(item.startedAt)) / HOUR_MS;
      if (hours >= 0) row.cycles.push(hours);
    }
  }
  return mondays.map((week) => {
    const row = rows.get(week)!;
    return {
      week,
      created: row.created,
      closed: row.closed,
      throughput: Object.values(row.mix).reduce((a, b) => a + b, 0),
      cycleTimeHours: { count: row.cycles.length, p50: round(percentile(row.cycles, 0.5)), p85: round(percentile(row.cycles, 0.85)) },
      mix: row.mix,
    };
  });
};

/** Cycle time over the whole window, from the items done in it. */
export const windowCycleTime = (done: readonly WorkItem[], since: string) => {
  const hours = done
    .filter((i) => !i.deleted && i.status.category === 'done' && i.closedAt && i.closedAt >= since && i.startedAt)
    .map((i) => (Date.parse(i.closedAt!) - Date.parse(i.startedAt!)) / HOUR_MS)
    .filter((h) => h >= 0);
  return { count: hours.length, p50: round(percentile(hours, 0.5)), p85: round(percentile(hours, 0.85)) };
};
