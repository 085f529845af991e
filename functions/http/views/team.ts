import { NO_TEAM } from '../../../core/aggregates.ts';
import { type TeamView, buildTeamView } from '../../../core/team-view.ts';
import { workloadLimitsOf } from '../../../core/wip.ts';
import { loadAlertSettings } from '../../../pipeline/alerts.ts';
import { loadDigests } from '../../../pipeline/digest.ts';
import { readBlockedItems } from '../../../store/blocked.ts';
import { getItems } from '../../../store/item-queries.ts';
import { recentItemsInStatus } from '../../../store/recent-items.ts';
import { type ViewDeps, asViewed, readWip } from './viewed.ts';

const DAY_MS = 86_400_000;
/** Requests waiting for an answer are `todo`: the most recently updated this many are read. */
const REQUESTS_READ = 1000;

/**
 * `GET /v1/views/team?team=` and `/teams/{team}`: the team's work in progress against its limit,
 * its blocked work and what blocks it, what it waits on from other teams, and the email requests
 * waiting for its answer. Reads: the WIP partitions, the blocked items with their dependency states
 * and blockers, the latest `todo` items (requests), and the team's 7-day digest inputs. A team no
 * item carries answers an empty view (teams can come from a tool as well as from the map).
 */
export const loadTeamView = async (deps: ViewDeps, tenantId: string, team: string): Promise<TeamView> => {
  const { db } = deps;
  const now = deps.clock();
  const [{ map, folded }, wip, settings, blocked, todo, [digest]] = await Promise.all([
    asViewed(db, tenantId),
    readWip(db, tenantId),
    loadAlertSettings(db, tenantId),
    readBlockedItems(db, tenantId),
    recentItemsInStatus(db, tenantId, 'todo', REQUESTS_READ),
    loadDigests(db, tenantId, { since: new Date(now.getTime() - 7 * DAY_MS), until: now }, [team]),
  ]);
  const blockedBy = blocked.items.map((item) => ({ blocked: item.id, blockers: blocked.states.get(item.id)?.openBlockers ?? [] }));
  const items = new Map(blocked.items.map((i) => [i.id, folded(i)]));
  const missing = [...new Set(blockedBy.flatMap((b) => b.blockers))].filter((id) => !items.has(id));
  for (const [id, item] of await getItems(db, tenantId, missing)) items.set(id, folded(item));
  const blockedSince = new Map([...blocked.states].flatMap(([id, s]) => (s.blocked && s.blockedSince ? [[id, s.blockedSince] as const] : [])));
  const limits = workloadLimitsOf(settings, map);
  const limit = team === NO_TEAM ? null : (limits.teams?.[team] ?? limits.team ?? null);
  return buildTeamView({
    team,
    now,
    headline: digest!.headline,
    wip: wip.map(folded),
    limit,
    blockedBy,
    items,
    blockedSince,
    requests: todo.filter((i) => i.source === 'email' && i.kind === 'request').map(folded),
  });
};
