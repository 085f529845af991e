import * as z from 'zod';
import { NO_TEAM } from './aggregates.ts';
import { ItemEntry, itemEntryOf } from './item-context.ts';
import { awaitsTeamAnswer } from './alerts.ts';
import type { BlockedBy } from './bottlenecks.ts';
import { IsoDateTime, type WorkItem, isClosed } from './work-item.ts';

/**
 * A team's page (pure): its work in progress against its limit, its blocked work with what blocks
 * it, what it waits on from other teams, and the email requests waiting for its answer. Items are
 * placed in teams by the current team map before they get here (like every other view).
 */

export const TeamView = z.object({
  team: z.string(),
  asOf: z.string(),
  headline: z.string().describe('the team’s status digest of the last 7 days in one sentence'),
  wip: z.object({
    count: z.number().int(),
    limit: z.number().int().nullable().describe('the team’s WIP limit (its own `wipLimit`, else `wipLimitPerTeam`)'),
    overLimit: z.boolean(),
    items: z.array(ItemEntry).describe('in progress, in review or blocked; longest running first'),
  }),
  blocked: z.array(
    z.object({
      item: ItemEntry,
      blockers: z.array(ItemEntry).describe('its open blockers, in any tool and team'),
    }),
  ),
  waitsOn: z
    .array(z.object({ team: z.string(), items: z.array(ItemEntry).describe('that team’s items blocking this team’s work') }))
    .describe('what the team waits on from other teams, by team'),
  requests: z.array(ItemEntry.extend({ waitingSince: IsoDateTime })).describe('email requests to the team waiting for its answer, oldest first'),
});
export type TeamView = z.infer<typeof TeamView>;

export interface TeamViewInput {
  team: string;
  now: Date;
  headline: string;
  /** the tenant's work in progress, teams placed by the current map */
  wip: readonly WorkItem[];
  limit: number | null;
  /** every blocked item with its open blockers (store/blocked.ts), and the items they name */
  blockedBy: readonly BlockedBy[];
  items: ReadonlyMap<string, WorkItem>;
  blockedSince: ReadonlyMap<string, string>;
  /** candidate requests (open email requests), teams placed by the current map */
  requests: readonly WorkItem[];
}


const entry = (item: WorkItem, blockedSince?: ReadonlyMap<string, string>) => itemEntryOf(item.ref, item, blockedSince?.get(item.id));

export const buildTeamView = (input: TeamViewInput): TeamView => {
  const ofTeam = (item: WorkItem | undefined): item is WorkItem => item !== undefined && !item.deleted && (item.team ?? NO_TEAM) === input.team;
  const since = (item: WorkItem) => item.startedAt ?? item.createdAt;
  const wip = input.wip.filter(ofTeam).sort((a, b) => since(a).localeCompare(since(b)) || a.ref.localeCompare(b.ref));
  const blocked = input.blockedBy
    .map(({ blocked: id, blockers }) => ({ item: input.items.get(id), blockers: blockers.map((b) => input.items.get(b)).filter((b): b is WorkItem => b !== undefined && !isClosed(b.status)) }))
    .filter((b): b is { item: WorkItem; blockers: WorkItem[] } => ofTeam(b.item) && !isClosed(b.item.status) && b.blockers.length > 0)
    .sort((a, b) => (input.blockedSince.get(a.item.id) ?? '').localeCompare(input.blockedSince.get(b.item.id) ?? '') || a.item.ref.localeCompare(b.item.ref));
  const foreign = new Map<string, Map<string, WorkItem>>();
  for (const { blockers } of blocked) {
    for (const blocker of blockers) {
      const team = blocker.team ?? NO_TEAM;
      if (team === input.team) continue;
      const items = foreign.get(team) ?? new Map<string, WorkItem>();
      items.set(blocker.id, blocker);
      foreign.set(team, items);
    }
  }
  const requests = input.requests
    .filter((r) => ofTeam(r) && awaitsTeamAnswer(r))
    .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.ref.localeCompare(b.ref));
  return {
    team: input.team,
    asOf: input.now.toISOString(),
    headline: input.headline,
    wip: {
      count: wip.length,
      limit: input.limit,
      overLimit: input.limit !== null && wip.length > input.limit,
      items: wip.map((i) => entry(i, input.blockedSince)),
    },
    blocked: blocked.map((b) => ({ item: entry(b.item, input.blockedSince), blockers: b.blockers.map((x) => entry(x, input.blockedSince)) })),
    waitsOn: [...foreign]
      .sort(([a, x], [b, y]) => y.size - x.size || a.localeCompare(b))
      .map(([team, items]) => ({ team, items: [...items.values()].map((i) => entry(i, input.blockedSince)) })),
    requests: requests.map((r) => ({ ...entry(r), waitingSince: r.updatedAt })),
  };
};
