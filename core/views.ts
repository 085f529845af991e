import * as z from 'zod';
import { NO_TEAM } from './aggregates.ts';
import { type Person, type StatusCategory, type WorkItem } from './work-item.ts';

/** Work in progress: started and not finished. */
export const WIP_STATUSES: readonly StatusCategory[] = ['in_progress', 'in_review', 'blocked'];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const WorkloadEntry = z.object({
  wip: z.number().int(),
  limit: z.number().int().nullable().describe('the configured WIP limit, null when none'),
  overLimit: z.boolean(),
  byStatus: z.record(z.string(), z.number().int()),
  items: z.array(z.object({ id: z.string(), ref: z.string(), title: z.string(), status: z.string(), source: z.string() })),
});

export const Workload = z.object({
  asOf: z.string(),
  people: z.array(WorkloadEntry.extend({ personId: z.string(), name: z.string().optional(), handles: z.array(z.string()) })),
  teams: z.array(WorkloadEntry.extend({ team: z.string() })),
  unowned: z.number().int().describe('work in progress without an owner'),
});
export type Workload = z.infer<typeof Workload>;

export interface WorkloadLimits {
  /** WIP limit of every person, unless `people` names one */
  person?: number;
  people?: Record<string, number>;
  /** WIP limit of every team (work without a team excepted), unless `teams` names one */
  team?: number;
  teams?: Record<string, number>;
}

/** WIP per person (every tool's accounts of one person count together) and per team, against limits. */
export const computeWorkload = (wip: readonly WorkItem[], limits: WorkloadLimits, now: Date): Workload => {
  type Acc = { items: WorkItem[]; person?: Person };
  const people = new Map<string, Acc>();
  const teams = new Map<string, Acc>();
  let unowned = 0;
  for (const item of wip) {
    if (item.deleted) continue;
    if (item.owners.length === 0) unowned++;
    for (const owner of new Map(item.owners.map((p) => [p.id, p])).values()) {
      const acc = people.get(owner.id) ?? { items: [], person: owner };
      acc.items.push(item);
      people.set(owner.id, acc);
    }
    const team = item.team ?? NO_TEAM;
    const acc = teams.get(team) ?? { items: [] };
    acc.items.push(item);
    teams.set(team, acc);
  }
  const entry = (items: WorkItem[], limit: number | undefined) => {
    const byStatus: Record<string, number> = {};
    for (const item of items) byStatus[item.status.category] = (byStatus[item.status.category] ?? 0) + 1;
    return {
      wip: items.length,
      limit: limit ?? null,
      overLimit: limit !== undefined && items.length > limit,
      byStatus,
      items: items.map((i) => ({ id: i.id, ref: i.ref, title: i.title, status: i.status.category, source: i.source })),
    };
  };
  return {
    asOf: now.toISOString(),
    people: [...people.entries()]
      .map(([personId, acc]) => ({
        personId,
        ...(acc.person?.name ? { name: acc.person.name } : {}),
        handles: (acc.person?.handles ?? []).map((h) => `${h.source}:${h.handle}`),
        ...entry(acc.items, limits.people?.[personId] ?? limits.person),
      }))
      .sort((a, b) => b.wip - a.wip || a.personId.localeCompare(b.personId)),
    teams: [...teams.entries()]
      .map(([team, acc]) => ({ team, ...entry(acc.items, limits.teams?.[team] ?? (team === NO_TEAM ? undefined : limits.team)) }))
      .sort((a, b) => b.wip - a.wip || a.team.localeCompare(b.team)),
    unowned,
  };
};

/** The q-th percentile (0..1) by nearest rank; undefined for no values. */
export const percentile = (values: readonly number[], q: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
};

/** Monday (UTC) of the week of `time`, as YYYY-MM-DD. */
export const weekOf = (time: string | Date): string => {
  const date = new Date(time);
  const monday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - ((date.getUTCDay() + 6) % 7)));
  return monday.toISOString().slice(0, 10);
};

const FlowStats = z.object({
  closed: z.number().int().describe('items done in the window'),
  throughputPerWeek: z.array(z.object({ week: z.string().describe('Monday, UTC'), closed: z.number().int() })),
  cycleTimeHours: z.object({
    count: z.number().int().describe('done items with both startedAt and closedAt'),
    p50: z.number().nullable(),
    p85: z.number().nullable(),
  }),
  aging: z.object({
    open: z.number().int().describe('work in progress'),
    buckets: z.record(z.string(), z.number().int()).describe('work in progress by days since it started'),
    oldest: z.array(z.object({ id: z.string(), ref: z.string(), title: z.string(), ageDays: z.number() })),
  }),
});

export const Flow = z.object({
  asOf: z.string(),
  weeks: z.number().int(),
  since: z.string(),
  overall: FlowStats,
  byTeam: z.record(z.string(), FlowStats),
  byCategory: z.record(z.string(), FlowStats),
});
export type Flow = z.infer<typeof Flow>;

const AGE_BUCKETS: readonly [string, number][] = [
  ['<1d', 1],
  ['1-3d', 3],
  ['3-7d', 7],
  ['7-14d', 14],
  ['14-30d', 30],
  ['>30d', Number.POSITIVE_INFINITY],
];

/**
 * Throughput, cycle time (startedAt → closedAt) and aging over `weeks` weeks ending at `now`.
 * `done` are the items done (at least) in the window, `wip` the work in progress.
 */
export const computeFlow = (done: readonly WorkItem[], wip: readonly WorkItem[], weeks: number, now: Date): Flow => {
  const firstWeek = weekOf(new Date(now.getTime() - (weeks - 1) * 7 * DAY_MS));
  const since = `${firstWeek}T00:00:00.000Z`;
  const finished = done.filter((i) => !i.deleted && i.status.category === 'done' && i.closedAt && i.closedAt >= since);
  const started = wip.filter((i) => !i.deleted);
  const stats = (closedItems: WorkItem[], open: WorkItem[]) => {
    const perWeek = new Map<string, number>();
    for (let w = 0; w < weeks; w++) perWeek.set(weekOf(new Date(Date.parse(since) + w * 7 * DAY_MS)), 0);
    for (const item of closedItems) {
      const week = weekOf(item.closedAt!);
      perWeek.set(week, (perWeek.get(week) ?? 0) + 1);
    }
    const cycle = closedItems
      .filter((i) => i.startedAt)
      .map((i) => (Date.parse(i.closedAt!) - Date.parse(i.startedAt!)) / HOUR_MS)
      .filter((h) => h >= 0);
    const ages = open.map((i) => ({ item: i, days: (now.getTime() - Date.parse(i.startedAt ?? i.createdAt)) / DAY_MS }));
    const buckets = Object.fromEntries(AGE_BUCKETS.map(([name]) => [name, 0]));
    for (const { days } of ages) {
      const [name] = AGE_BUCKETS.find(([, max]) => days < max)!;
      buckets[name]! += 1;
    }
    const round = (n: number | undefined) => (n === undefined ? null : Math.round(n * 10) / 10);
    return {
      closed: closedItems.length,
      throughputPerWeek: [...perWeek.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([week, closed]) => ({ week, closed })),
      cycleTimeHours: { count: cycle.length, p50: round(percentile(cycle, 0.5)), p85: round(percentile(cycle, 0.85)) },
      aging: {
        open: open.length,
        buckets,
        oldest: ages
          .sort((a, b) => b.days - a.days)
          .slice(0, 10)
          .map(({ item, days }) => ({ id: item.id, ref: item.ref, title: item.title, ageDays: Math.round(days * 10) / 10 })),
      },
    };
  };
  const groupBy = (key: (i: WorkItem) => string) => {
    const names = new Set([...finished.map(key), ...started.map(key)]);
    return Object.fromEntries(
      [...names].sort().map((name) => [
        name,
        stats(
          finished.filter((i) => key(i) === name),
          started.filter((i) => key(i) === name),
        ),
      ]),
    );
  };
  return {
    asOf: now.toISOString(),
    weeks,
    since,
    overall: stats(finished, started),
    byTeam: groupBy((i) => i.team ?? NO_TEAM),
    byCategory: groupBy((i) => i.category),
  };
};
