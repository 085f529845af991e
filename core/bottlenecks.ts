import * as z from 'zod';
import { isClosed, type WorkItem } from './work-item.ts';

export const BottleneckSettings = z.object({
  /** an item in progress longer than this is long-running */
  longRunningDays: z.coerce.number().positive().max(365).default(7),
  /** a pull request waiting in review longer than this is listed */
  reviewWaitHours: z.coerce.number().positive().max(24 * 90).default(24),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export const BottlenecksQuery = BottleneckSettings.extend({
  maxAgeSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(30)
    .describe('serve a snapshot computed at most this long ago (0: compute now); the analysis reads all blocked and in-progress work'),
});
export type BottleneckSettings = z.infer<typeof BottleneckSettings>;

const Entry = z.object({ id: z.string(), ref: z.string(), title: z.string(), url: z.string().optional(), team: z.string().optional() });

export const Bottlenecks = z.object({
  holders: z.array(Entry.extend({ blockedCount: z.number().int(), directlyBlocked: z.number().int(), ageDays: z.number() })),
  longRunning: z.array(Entry.extend({ inProgressDays: z.number() })),
  waitingForReview: z.array(Entry.extend({ waitingHours: z.number() })),
  teamsWithIncomingCrossTeamBlockers: z.array(z.object({ team: z.string(), blockers: z.number().int() })),
});
export type Bottlenecks = z.infer<typeof Bottlenecks>;

/** The response of GET /v1/views/bottlenecks: the analysis, and when it ran. */
export const BottlenecksView = Bottlenecks.extend({ computedAt: z.string().describe('when this analysis ran (see `maxAgeSeconds`)') });

/** A blocked item and the open items it waits on, as the dependency state records them. */
export interface BlockedBy {
  blocked: string;
  blockers: readonly string[];
}

const DAY = 86_400_000;
/** What the ranking reads of work in progress and in review: an analysis holds tens of thousands of these, not whole items. */
export type RankedItem = Pick<WorkItem, 'id' | 'ref' | 'title' | 'url' | 'team' | 'kind' | 'createdAt' | 'startedAt'>;

export const rankedItemOf = (item: WorkItem): RankedItem => ({
  id: item.id,
  ref: item.ref,
  title: item.title,
  kind: item.kind,
  createdAt: item.createdAt,
  ...(item.url !== undefined ? { url: item.url } : {}),
  ...(item.team !== undefined ? { team: item.team } : {}),
  ...(item.startedAt !== undefined ? { startedAt: item.startedAt } : {}),
});

const entry = (item: RankedItem) => ({ id: item.id, ref: item.ref, title: item.title, url: item.url, team: item.team });
const round = (n: number) => Math.round(n * 10) / 10;

/** How many open items wait on `id`, directly or through other blocked items (each counted once, cycles safe). */
const downstreamCount = (id: string, dependents: ReadonlyMap<string, readonly string[]>): number => {
  const seen = new Set<string>([id]);
  const queue = [...(dependents.get(id) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(dependents.get(next) ?? []));
  }
  return seen.size - 1;
};

/**
 * What holds work up (pure): items ranked by how much open work waits on them transitively, then
 * by age; work in progress for too long; pull requests waiting for review; and the teams that
 * receive the most blockers from other teams.
 */
export const rankBottlenecks = (
  input: { blockedBy: readonly BlockedBy[]; items: ReadonlyMap<string, WorkItem>; inProgress: readonly RankedItem[]; inReview: readonly RankedItem[] },
  settings: BottleneckSettings,
  now: Date,
): Bottlenecks => {
  const dependents = new Map<string, string[]>();
  for (const { blocked, blockers } of input.blockedBy) {
    for (const blocker of blockers) dependents.set(blocker, [...(dependents.get(blocker) ?? []), blocked]);
  }
  const ageDays = (item: RankedItem) => (now.getTime() - Date.parse(item.createdAt)) / DAY;
  const holders = [...dependents.keys()]
    .map((id) => input.items.get(id))
    .filter((item): item is WorkItem => item !== undefined && !isClosed(item.status) && !item.deleted)
    .map((item) => ({ ...entry(item), blockedCount: downstreamCount(item.id, dependents), directlyBlocked: dependents.get(item.id)!.length, ageDays: round(ageDays(item)) }))
    .sort((a, b) => b.blockedCount - a.blockedCount || b.ageDays - a.ageDays)
    .slice(0, settings.limit);

  const since = (item: RankedItem) => Date.parse(item.startedAt ?? item.createdAt);
  const longRunning = input.inProgress
    .map((item) => ({ ...entry(item), inProgressDays: round((now.getTime() - since(item)) / DAY) }))
    .filter((e) => e.inProgressDays > settings.longRunningDays)
    .sort((a, b) => b.inProgressDays - a.inProgressDays)
    .slice(0, settings.limit);

  const waitingForReview = input.inReview
    .filter((item) => item.kind === 'pull_request')
    .map((item) => ({ ...entry(item), waitingHours: round((now.getTime() - since(item)) / 3_600_000) }))
    .filter((e) => e.waitingHours > settings.reviewWaitHours)
    .sort((a, b) => b.waitingHours - a.waitingHours)
    .slice(0, settings.limit);

  const incoming = new Map<string, number>();
  for (const { blocked, blockers } of input.blockedBy) {
    const team = input.items.get(blocked)?.team;
    if (!team) continue;
    const foreign = blockers.filter((b) => {
      const other = input.items.get(b)?.team;
      return other !== undefined && other !== team;
    });
    if (foreign.length > 0) incoming.set(team, (incoming.get(team) ?? 0) + foreign.length);
  }
  const teamsWithIncomingCrossTeamBlockers = [...incoming]
    .map(([team, blockers]) => ({ team, blockers }))
    .sort((a, b) => b.blockers - a.blockers || a.team.localeCompare(b.team));

  return { holders, longRunning, waitingForReview, teamsWithIncomingCrossTeamBlockers };
};
