import { Hono } from 'hono';
import * as z from 'zod';
import { Summary, summarize } from '../../../core/aggregates.ts';
import type { Clock } from '../../../core/ports.ts';
import { type BottleneckSettings, BottlenecksQuery, BottlenecksView, rankBottlenecks } from '../../../core/bottlenecks.ts';
import { Flow, WIP_STATUSES, Workload, computeFlow, computeWorkload, weekOf } from '../../../core/views.ts';
import { readCounters } from '../../../store/aggregates.ts';
import type { Db } from '../../../store/db.ts';
import { itemsInStatus } from '../../../store/view-queries.ts';
import { snapshotOf } from '../../../store/view-snapshots.ts';
import { readBlockingGraph } from '../../../store/blocked.ts';
import { teamOf } from '../../../core/teams.ts';
import { workloadLimitsOf } from '../../../core/wip.ts';
import type { WorkItem } from '../../../core/work-item.ts';
import { canonicalResolver, listPersonRecords } from '../../../store/people.ts';
import { teamCacheFor } from '../../../pipeline/team-cache.ts';
import { loadAlertSettings } from '../../../pipeline/alerts.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseQuery } from '../problem.ts';
import { digestHandler, digestOperations } from './digest.ts';

const SummaryQuery = z.object({
  staleAfterDays: z.coerce.number().int().min(1).max(365).default(14).describe('open items without activity this long count as stale'),
});
const WorkloadQuery = z.object({
  personLimit: z.coerce.number().int().min(1).max(100).optional().describe('WIP limit per person for this answer (default: `wipLimitPerPerson` of GET /v1/settings, the limit of the `wip_over_limit` alert)'),
});
const FlowQuery = z.object({
  weeks: z.coerce.number().int().min(1).max(26).default(8).describe('window: this many weeks, the current one included'),
});

export const viewOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/views/bottlenecks',
    summary: 'What holds work up: items ranked by the open work waiting on them (transitively, then by age), long-running work, PRs waiting for review, teams receiving cross-team blockers',
    tag: 'views',
    scope: 'read',
    query: BottlenecksQuery,
    responses: {
      200: {
        description: 'Bottlenecks, from all blocked items and all work in progress (not the whole index); a snapshot at most `maxAgeSeconds` old',
        schema: BottlenecksView,
      },
    },
  },
  {
    method: 'get',
    path: '/v1/views/summary',
    summary: 'Counts of the work: by status, source, category, team and owner; open, blocked, stale, unowned; created vs closed',
    tag: 'views',
    scope: 'read',
    query: SummaryQuery,
    responses: { 200: { description: 'The summary, from counters kept per tenant (no index scan)', schema: Summary } },
  },
  {
    method: 'get',
    path: '/v1/views/workload',
    summary: 'Work in progress per person (across tools) and per team, against the WIP limits of the `wip_over_limit` alert (GET /v1/settings; a team’s own `wipLimit`)',
    tag: 'views',
    scope: 'read',
    query: WorkloadQuery,
    responses: { 200: { description: 'Workload', schema: Workload } },
  },
  {
    method: 'get',
    path: '/v1/views/flow',
    summary: 'Throughput per week, cycle time p50/p85 (startedAt → closedAt) and aging of work in progress, per team and category',
    tag: 'views',
    scope: 'read',
    query: FlowQuery,
    responses: { 200: { description: 'Flow metrics', schema: Flow } },
  },
  ...digestOperations,
];

export interface ViewDeps {
  db: Db;
  clock: Clock;
}

const readWip = async (db: Db, tenantId: string) => (await Promise.all(WIP_STATUSES.map((s) => itemsInStatus(db, tenantId, s)))).flat();

/**
 * Items as the views see them: the current team map decides the team (items indexed before the
 * map changed included), and owners are people, merged identities folded into one.
 */
const asViewed = async (db: Db, tenantId: string) => {
  const [map, people] = await Promise.all([teamCacheFor(db).get(tenantId), listPersonRecords(db, tenantId)]);
  const canonical = canonicalResolver(people);
  const folded = (item: WorkItem): WorkItem => {
    const team = teamOf(item, map) ?? item.team;
    const owners = item.owners.map((p) => (canonical(p.id) === p.id ? p : { ...p, id: canonical(p.id) }));
    return { ...item, owners, ...(team ? { team } : {}) };
  };
  return { map, canonical, folded };
};

/** The summary from the counters, owners merged into one person folded together. */
export const loadSummary = async (db: Db, tenantId: string, now: Date, staleAfterDays = 14) => {
  const [counters, people] = await Promise.all([readCounters(db, tenantId), listPersonRecords(db, tenantId)]);
  const canonical = canonicalResolver(people);
  const folded: Record<string, number> = {};
  for (const [key, n] of Object.entries(counters)) {
    const name = key.startsWith('open.owner:') ? `open.owner:${canonical(key.slice('open.owner:'.length))}` : key;
    folded[name] = (folded[name] ?? 0) + n;
  }
  return summarize(folded, now, { staleAfterDays });
};

/** Work in progress against the limits the `wip_over_limit` alert uses (`personLimit` overrides a person's for this answer). */
export const loadWorkload = async (db: Db, tenantId: string, now: Date, personLimit?: number) => {
  const [wip, { map, folded }, settings] = await Promise.all([readWip(db, tenantId), asViewed(db, tenantId), loadAlertSettings(db, tenantId)]);
  return computeWorkload(wip.map(folded), { ...workloadLimitsOf(settings, map), ...(personLimit ? { person: personLimit } : {}) }, now);
};

/** The bottleneck analysis: all blocked work (store/blocked.ts) and the work in progress, as the views see them. */
const loadBottlenecks = async (db: Db, tenantId: string, now: Date, settings: BottleneckSettings) => {
  const [{ blockedBy, items }, inProgress, inReview, { folded }] = await Promise.all([
    readBlockingGraph(db, tenantId),
    itemsInStatus(db, tenantId, 'in_progress'),
    itemsInStatus(db, tenantId, 'in_review'),
    asViewed(db, tenantId),
  ]);
  const viewed = new Map([...items].map(([id, item]) => [id, folded(item)]));
  return rankBottlenecks({ blockedBy, items: viewed, inProgress: inProgress.map(folded), inReview: inReview.map(folded) }, settings, now);
};

export const viewRoutes = (deps: ViewDeps) =>
  new Hono<AuthEnv>()
    .get('/bottlenecks', async (c) => {
      const { maxAgeSeconds, ...settings } = parseQuery(c, BottlenecksQuery);
      const { tenantId } = c.get('principal');
      const now = deps.clock();
      const snapshot = await snapshotOf(deps.db, { tenantId, view: 'bottlenecks', parameters: settings, maxAgeSeconds, now }, () =>
        loadBottlenecks(deps.db, tenantId, now, settings),
      );
      return c.json({ ...snapshot.view, computedAt: snapshot.computedAt });
    })
    .get('/summary', async (c) => {
      const { staleAfterDays } = parseQuery(c, SummaryQuery);
      return c.json(await loadSummary(deps.db, c.get('principal').tenantId, deps.clock(), staleAfterDays));
    })
    .get('/workload', async (c) => {
      const { personLimit } = parseQuery(c, WorkloadQuery);
      const { tenantId } = c.get('principal');
      return c.json(await loadWorkload(deps.db, tenantId, deps.clock(), personLimit));
    })
    .get('/digest', digestHandler(deps))
    .get('/flow', async (c) => {
      const { weeks } = parseQuery(c, FlowQuery);
      const { tenantId } = c.get('principal');
      const now = deps.clock();
      const since = `${weekOf(new Date(now.getTime() - (weeks - 1) * 7 * 86_400_000))}T00:00:00.000Z`;
      const [done, wip, { folded }] = await Promise.all([
        itemsInStatus(deps.db, tenantId, 'done', since),
        readWip(deps.db, tenantId),
        asViewed(deps.db, tenantId),
      ]);
      return c.json(computeFlow(done.map(folded), wip.map(folded), weeks, now));
    });
