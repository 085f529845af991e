import { summarize } from '../../../core/aggregates.ts';
import { OVERVIEW_WEEKS, type Overview, weeklyFlow, weeksEnding, windowCycleTime } from '../../../core/overview.ts';
import { computeWorkload } from '../../../core/views.ts';
import { workloadLimitsOf } from '../../../core/wip.ts';
import { loadAlertSettings } from '../../../pipeline/alerts.ts';
import { loadBlockedChains } from '../../../pipeline/blocked-chains.ts';
import { loadDigests } from '../../../pipeline/digest.ts';
import { readCounters } from '../../../store/aggregates.ts';
import { listAlerts } from '../../../store/alerts.ts';
import { listPersonRecords } from '../../../store/people.ts';
import { itemsInStatus } from '../../../store/view-queries.ts';
import { loadBottlenecks } from './bottlenecks.ts';
import { foldCounters } from './summary.ts';
import { type ViewDeps, asViewed, readWip } from './viewed.ts';

const DAY_MS = 86_400_000;
const LISTED = 5;
const OPEN_ALERTS = 10;

/**
 * `GET /v1/views/overview` and the overview page: where the work is (the summary), what is stuck
 * (bottlenecks, blocked chains, open alerts), what changed (the digest's headline) and the flow of
 * the last 12 weeks (created vs closed, throughput, cycle time, work mix) and WIP by team. Reads:
 * the counters, the people, the work in progress, the work done in the window, the open alerts'
 * first page, the 7-day digest's inputs, and the bottleneck and blocked-chain snapshots.
 */
export const loadOverview = async (deps: ViewDeps, tenantId: string): Promise<Overview> => {
  const { db } = deps;
  const now = deps.clock();
  const since = `${weeksEnding(now, OVERVIEW_WEEKS)[0]}T00:00:00.000Z`;
  const [counters, people, done, wip, settings, alerts, [digest], bottlenecks, chains] = await Promise.all([
    readCounters(db, tenantId),
    listPersonRecords(db, tenantId),
    itemsInStatus(db, tenantId, 'done', { since }),
    readWip(db, tenantId),
    loadAlertSettings(db, tenantId),
    listAlerts(db, tenantId, { state: 'open' }, { limit: OPEN_ALERTS }),
    loadDigests(db, tenantId, { since: new Date(now.getTime() - 7 * DAY_MS), until: now }, [undefined]),
    loadBottlenecks(db, tenantId, now),
    loadBlockedChains(db, tenantId, now),
  ]);
  const { map, folded } = await asViewed(db, tenantId, people);
  const workload = computeWorkload(wip.map(folded), workloadLimitsOf(settings, map), now);
  const viewedDone = done.map(folded);
  return {
    asOf: now.toISOString(),
    summary: summarize(foldCounters(counters, people), now),
    headline: digest!.headline,
    openAlerts: { items: alerts.items, more: alerts.nextCursor !== null },
    bottlenecks: {
      computedAt: bottlenecks.computedAt,
      holders: bottlenecks.holders.slice(0, LISTED),
      longRunning: bottlenecks.longRunning.slice(0, LISTED),
      waitingForReview: bottlenecks.waitingForReview.slice(0, LISTED),
      teamsWithIncomingCrossTeamBlockers: bottlenecks.teamsWithIncomingCrossTeamBlockers.slice(0, LISTED),
    },
    chains,
    weeks: weeklyFlow(counters, viewedDone, now),
    cycleTimeHours: windowCycleTime(viewedDone, since),
    wipByTeam: workload.teams.map(({ team, wip: count, limit, overLimit, byStatus }) => ({ team, wip: count, limit, overLimit, byStatus })),
  };
};
