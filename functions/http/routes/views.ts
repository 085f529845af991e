import { Hono } from 'hono';
import * as z from 'zod';
import { Summary } from '../../../core/aggregates.ts';
import { BottlenecksQuery, BottlenecksView } from '../../../core/bottlenecks.ts';
import { Overview } from '../../../core/overview.ts';
import { TeamView } from '../../../core/team-view.ts';
import { Flow, Workload } from '../../../core/views.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseQuery } from '../problem.ts';
import { loadBottlenecks } from '../views/bottlenecks.ts';
import { loadFlow } from '../views/flow.ts';
import { loadOverview } from '../views/overview.ts';
import { loadSummary } from '../views/summary.ts';
import { loadTeamView } from '../views/team.ts';
import type { ViewDeps } from '../views/viewed.ts';
import { loadWorkload } from '../views/workload.ts';
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

const TeamQuery = z.object({
  team: z.string().min(1).max(100).describe('the team map’s name, a team a tool sets, or `(none)` for work without a team'),
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
  {
    method: 'get',
    path: '/v1/views/overview',
    summary:
      'The overview page as data: the summary, the digest headline (7 days), open alerts, bottlenecks and blocked chains, and 12 weeks of flow (created vs closed, throughput, cycle time p50/p85, work mix) with WIP by team',
    tag: 'views',
    scope: 'read',
    responses: { 200: { description: 'The overview', schema: Overview } },
  },
  {
    method: 'get',
    path: '/v1/views/team',
    summary: "A team page as data: its WIP against its limit, its blocked work and blockers, what it waits on from other teams, email requests waiting for its answer",
    tag: 'views',
    scope: 'read',
    query: TeamQuery,
    responses: { 200: { description: 'The team view (empty lists for a team no item carries)', schema: TeamView } },
  },
  ...digestOperations,
];

export const viewRoutes = (deps: ViewDeps) =>
  new Hono<AuthEnv>()
    .get('/bottlenecks', async (c) => c.json(await loadBottlenecks(deps.db, c.get('principal').tenantId, deps.clock(), parseQuery(c, BottlenecksQuery))))
    .get('/summary', async (c) => {
      const { staleAfterDays } = parseQuery(c, SummaryQuery);
      return c.json(await loadSummary(deps.db, c.get('principal').tenantId, deps.clock(), staleAfterDays));
    })
    .get('/workload', async (c) => {
      const { personLimit } = parseQuery(c, WorkloadQuery);
      return c.json(await loadWorkload(deps.db, c.get('principal').tenantId, deps.clock(), personLimit));
    })
    .get('/digest', digestHandler(deps))
    .get('/flow', async (c) => {
      const { weeks } = parseQuery(c, FlowQuery);
      return c.json(await loadFlow(deps.db, c.get('principal').tenantId, deps.clock(), weeks));
    })
    .get('/overview', async (c) => c.json(await loadOverview(deps, c.get('principal').tenantId)))
    .get('/team', async (c) => {
      const { team } = parseQuery(c, TeamQuery);
      return c.json(await loadTeamView(deps, c.get('principal').tenantId, team));
    });
