import { Hono } from 'hono';
import * as z from 'zod';
import { Alert, AlertSettings } from '../../../core/alerts.ts';
import type { ItemChange } from '../../../core/changes.ts';
import { NotFoundError } from '../../../core/errors.ts';
import { criticalPath, edgeKey, findCycles } from '../../../core/graph.ts';
import { deterministicId, itemIdForRef } from '../../../core/ids.ts';
import type { Clock, Logger } from '../../../core/ports.ts';
import { LinkType, Status, isClosed } from '../../../core/work-item.ts';
import { loadAlertSettings } from '../../../pipeline/alerts.ts';
import { applyOne } from '../../../processing/one-change.ts';
import { sweepTenantWip } from '../../../pipeline/wip-alerts.ts';
import { applyWithReferences, referenceDirectoryFor } from '../../../processing/references.ts';
import type { Db } from '../../../store/db.ts';
import { getDependencyStates, putSettingsRecord } from '../../../store/dependency-state.ts';
import { exploreGraph } from '../../../store/graph.ts';
import { deleteManualLink, getManualLink, putManualLink } from '../../../store/links.ts';
import { loadItem } from '../../../store/items.ts';
import { recordAudit } from '../../../store/audit.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody, parseQuery } from '../problem.ts';
import { AlertListFilter, loadAlertList } from '../views/alerts.ts';
import { Pagination, pageOf } from './items.ts';

/** Graph walks are bounded so one request costs at most MAX_NODES partition queries. */
const MAX_DEPTH = 10;
const MAX_NODES = 500;

const GraphQuery = z.object({
  root: z.string().min(1).describe('item id (wi_…) or ref'),
  depth: z.coerce.number().int().min(0).max(MAX_DEPTH).default(3),
  direction: z.enum(['up', 'down', 'both']).default('both').describe('up: what the root waits on; down: what waits on it'),
  maxNodes: z.coerce.number().int().min(1).max(MAX_NODES).default(200),
});

const GraphNode = z.object({
  id: z.string(),
  ref: z.string(),
  indexed: z.boolean().describe('false for a ref no item in the index has yet (a pending edge)'),
  depth: z.number().int(),
  title: z.string().optional(),
  source: z.string().optional(),
  kind: z.string().optional(),
  status: Status.optional(),
  team: z.string().optional(),
  blocked: z.boolean(),
  inCycle: z.boolean(),
  onCriticalPath: z.boolean(),
});

const GraphEdge = z.object({
  from: z.string().describe('the blocker'),
  to: z.string().describe('what it blocks'),
  origin: z.string(),
  confidence: z.number(),
  inCycle: z.boolean(),
  onCriticalPath: z.boolean(),
});

const Graph = z.object({
  root: z.string(),
  nodes: z.array(GraphNode),
  edges: z.array(GraphEdge),
  cycles: z.array(z.array(z.string())).describe('each a set of item ids that block each other'),
  criticalPath: z.array(z.string()).describe('the longest chain of open blockers, first blocker first'),
  visited: z.object({ items: z.number().int(), edges: z.number().int() }).describe('what answering cost: item partitions read, edge rows seen'),
  truncated: z.boolean().describe('the node budget cut the walk short'),
});

const AlertsQuery = AlertListFilter.extend(Pagination.shape);

const SettingsBody = AlertSettings.partial().strict();

const CreateLink = z.object({
  from: z.string().min(1).describe('id or ref of the item that holds the link'),
  type: LinkType,
  to: z.string().min(1).describe('id or ref of the other item (it may not be indexed yet)'),
});

export const ManualLink = z.object({
  id: z.string(),
  from: z.string(),
  type: LinkType,
  to: z.string(),
  origin: z.literal('manual'),
  createdAt: z.string(),
  createdBy: z.string().describe('the token that made it'),
  deletedAt: z.string().optional(),
  deletedBy: z.string().optional(),
});
export type ManualLink = z.infer<typeof ManualLink>;

export const dependencyOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/graph',
    summary: 'The blocking graph around an item, across tools: cycles and the critical path marked',
    tag: 'dependencies',
    scope: 'read',
    query: GraphQuery,
    responses: { 200: { description: 'Nodes and edges within depth', schema: Graph }, 404: { description: 'No such item' } },
  },
  {
    method: 'get',
    path: '/v1/alerts',
    summary: 'Dependency and hygiene alerts, newest first (all states unless `state` is given)',
    tag: 'dependencies',
    scope: 'read',
    query: AlertsQuery,
    responses: { 200: { description: 'A page of alerts', schema: pageOf(Alert) } },
  },
  {
    method: 'get',
    path: '/v1/settings',
    summary: "The tenant's alert thresholds (defaults filled in)",
    tag: 'dependencies',
    scope: 'read',
    responses: { 200: { description: 'Settings', schema: AlertSettings } },
  },
  {
    method: 'put',
    path: '/v1/settings',
    summary: "Sets the tenant's alert thresholds; omitted fields take their defaults",
    tag: 'dependencies',
    scope: 'admin',
    body: SettingsBody,
    responses: { 200: { description: 'Settings', schema: AlertSettings }, 422: { description: 'A field is invalid' } },
  },
  {
    method: 'post',
    path: '/v1/links',
    summary: 'Adds a manual link between two items of any tools (origin `manual`, audited)',
    tag: 'dependencies',
    scope: 'admin',
    body: CreateLink,
    responses: { 201: { description: 'The link', schema: ManualLink }, 404: { description: 'The `from` item id is unknown' } },
  },
  {
    method: 'delete',
    path: '/v1/links/{id}',
    summary: 'Removes a manual link',
    tag: 'dependencies',
    scope: 'admin',
    responses: { 204: { description: 'Removed' }, 404: { description: 'No such link' } },
  },
];

export interface DependencyRouteDeps {
  db: Db;
  clock: Clock;
  log: Logger;
}

const wipSettingsChanged = (a: AlertSettings, b: AlertSettings): boolean =>
  a.wipLimitPerPerson !== b.wipLimitPerPerson ||
  a.wipLimitPerTeam !== b.wipLimitPerTeam ||
  a.disabledKinds.includes('wip_over_limit') !== b.disabledKinds.includes('wip_over_limit');

/** An id (`wi_…`) names an indexed item; anything else is taken as a ref. */
const refOf = async (db: Db, tenantId: string, idOrRef: string): Promise<string> => {
  if (!idOrRef.startsWith('wi_')) return idOrRef;
  const { item } = await loadItem(db, tenantId, idOrRef);
  if (!item) throw new NotFoundError(`Item ${idOrRef}`);
  return item.ref;
};

export const dependencyRoutes = (deps: DependencyRouteDeps) => {
  const { db } = deps;
  /** A manual link goes through the same path as a connector's link change: merge, events, alerts. */
  const applyLinkChange = async (tenantId: string, change: ItemChange, causationKey: string) => {
    const apply = (c: ItemChange, key: string) => applyOne(deps, tenantId, c, key);
    await applyWithReferences({ db, directory: referenceDirectoryFor(db), apply, clock: deps.clock }, tenantId, change, causationKey);
  };

  return new Hono<AuthEnv>()
    .get('/graph', async (c) => {
      const { tenantId } = c.get('principal');
      const query = parseQuery(c, GraphQuery);
      const rootRef = await refOf(db, tenantId, query.root);
      const graph = await exploreGraph(db, tenantId, rootRef, { depth: query.depth, direction: query.direction, maxNodes: query.maxNodes });
      const root = graph.nodes.get(itemIdForRef(rootRef));
      if (!root?.item && graph.edges.length === 0) throw new NotFoundError(`Item ${query.root}`);
      const ids = [...graph.nodes.keys()];
      const isOpen = (id: string) => {
        const item = graph.nodes.get(id)?.item;
        return item !== undefined && !item.deleted && !isClosed(item.status);
      };
      const cycles = findCycles(ids, graph.edges);
      const path = criticalPath(ids, graph.edges, isOpen);
      const cycleOf = new Map<string, number>();
      cycles.forEach((cycle, i) => cycle.forEach((id) => cycleOf.set(id, i)));
      const onPath = new Set(path);
      const pathEdges = new Set(path.slice(1).map((to, i) => edgeKey({ from: path[i]!, to })));
      const states = await getDependencyStates(db, tenantId, ids.filter((id) => graph.nodes.get(id)?.item));
      const nodes = [...graph.nodes.values()]
        .sort((a, b) => a.depth - b.depth || a.ref.localeCompare(b.ref))
        .map(({ id, ref, depth, item }) => ({
          id,
          ref,
          indexed: item !== undefined,
          depth,
          ...(item ? { title: item.title, source: item.source, kind: item.kind, status: item.status, ...(item.team ? { team: item.team } : {}) } : {}),
          blocked: states.get(id)?.blocked ?? false,
          inCycle: cycleOf.has(id),
          onCriticalPath: onPath.has(id),
        }));
      const edges = graph.edges.map((e) => ({
        ...e,
        inCycle: cycleOf.has(e.from) && cycleOf.get(e.from) === cycleOf.get(e.to),
        onCriticalPath: pathEdges.has(edgeKey(e)),
      }));
      return c.json({ root: itemIdForRef(rootRef), nodes, edges, cycles, criticalPath: path, visited: graph.visited, truncated: graph.truncated });
    })
    .get('/alerts', async (c) => {
      const { limit, cursor, ...query } = parseQuery(c, AlertsQuery);
      return c.json(await loadAlertList(db, c.get('principal').tenantId, query, { limit, cursor }));
    })
    .get('/settings', async (c) => c.json(await loadAlertSettings(db, c.get('principal').tenantId)))
    .put('/settings', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const settings = AlertSettings.parse(await parseJsonBody(c, SettingsBody));
      const previous = await loadAlertSettings(db, tenantId);
      await putSettingsRecord(db, tenantId, settings, deps.clock().toISOString());
      // New WIP limits apply at once to every person and team (other thresholds wait for the sweep's clock).
      if (wipSettingsChanged(previous, settings)) await sweepTenantWip({ db, clock: deps.clock, log: deps.log }, tenantId, settings);
      await recordAudit(db, { tenantId, actor: tokenId, action: 'settings.updated', target: 'settings', detail: { settings }, at: deps.clock().toISOString() });
      return c.json(settings);
    })
    .post('/links', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const body = await parseJsonBody(c, CreateLink);
      const [from, to] = await Promise.all([refOf(db, tenantId, body.from), refOf(db, tenantId, body.to)]);
      const now = deps.clock().toISOString();
      const id = deterministicId('lnk', from, body.type, to);
      const link: ManualLink = { id, from, type: body.type, to, origin: 'manual', createdAt: now, createdBy: tokenId };
      // The record first: a crash after it leaves a link the next POST (same id) applies again.
      await putManualLink(db, tenantId, link);
      await applyLinkChange(
        tenantId,
        { op: 'link', ref: from, at: now, add: [{ type: body.type, target: to, origin: 'manual', confidence: 1 }], remove: [], origin: 'manual' },
        `manual#${id}#add#${now}`,
      );
      deps.log.info('manual link added', { tenantId, linkId: id, from, type: body.type, to, by: tokenId });
      await recordAudit(db, { tenantId, actor: tokenId, action: 'link.created', target: id, detail: { from, type: body.type, to }, at: now });
      return c.json(link, 201);
    })
    .delete('/links/:id', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const link = await getManualLink(db, tenantId, c.req.param('id'));
      if (!link || link.deletedAt) throw new NotFoundError(`Link ${c.req.param('id')}`);
      const now = deps.clock().toISOString();
      await applyLinkChange(
        tenantId,
        // Only this link's statement: the item's links of other origins to the same target stay.
        { op: 'link', ref: link.from, at: now, add: [], remove: [{ type: link.type, target: link.to }], origin: 'manual' },
        `manual#${link.id}#remove#${now}`,
      );
      await deleteManualLink(db, tenantId, { ...link, deletedAt: now, deletedBy: tokenId });
      deps.log.info('manual link removed', { tenantId, linkId: link.id, by: tokenId });
      await recordAudit(db, { tenantId, actor: tokenId, action: 'link.deleted', target: link.id, detail: { from: link.from, type: link.type, to: link.to }, at: now });
      return c.body(null, 204);
    });
};
