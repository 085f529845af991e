import { Hono } from 'hono';
import * as z from 'zod';
import { WorkItem } from '../../../core/work-item.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseQuery } from '../problem.ts';
import { ItemDetail, ItemView, type ItemViewDeps, loadItemDetail, loadItemView } from '../views/item.ts';
import { ItemListFilter, loadItemList } from '../views/items.ts';

export { ItemDetail } from '../views/item.ts';

export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().describe('`nextCursor` of the previous page'),
});

const ListItemsQuery = ItemListFilter.extend(Pagination.shape);
const ContextQuery = z.object({ before: z.string().optional().describe('`timeline.nextCursor` of the previous answer: older events') });

export const pageOf = <T extends z.ZodType>(entry: T) =>
  z.object({ items: z.array(entry), nextCursor: z.string().nullable().describe('null on the last page') });

const ListedItem = WorkItem.extend({
  blocked: z.boolean().describe('derived: an item it waits on, in any tool, is still open (what `?blocked=` filters on)'),
});

export const itemOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/items',
    summary: 'List work items across tools, newest updated first; `q` finds items by key, ref or title words',
    tag: 'items',
    scope: 'read',
    query: ListItemsQuery,
    responses: { 200: { description: 'A page of items, each with its `blocked` flag', schema: pageOf(ListedItem) } },
  },
  {
    method: 'get',
    path: '/v1/items/{id}',
    summary: 'One work item with its links in both directions (id or ref)',
    tag: 'items',
    scope: 'read',
    responses: { 200: { description: 'The item', schema: ItemDetail }, 404: { description: 'No such item in this tenant' } },
  },
  {
    method: 'get',
    path: '/v1/items/{id}/context',
    summary:
      'One work item with its whole story across tools (what the item page shows): what implements it and what it implements, where it is mentioned, what blocks it and what it blocks to the root blocker, parent and children, its alerts and its timeline',
    tag: 'items',
    scope: 'read',
    query: ContextQuery,
    responses: { 200: { description: 'The item and its context', schema: ItemView }, 404: { description: 'No such item in this tenant' } },
  },
];

export const itemRoutes = (deps: ItemViewDeps) =>
  new Hono<AuthEnv>()
    .get('/', async (c) => {
      const { limit, cursor, ...filter } = parseQuery(c, ListItemsQuery);
      return c.json(await loadItemList(deps.db, c.get('principal').tenantId, filter, { limit, cursor }));
    })
    .get('/:id/context', async (c) => {
      const { before } = parseQuery(c, ContextQuery);
      return c.json(await loadItemView(deps, c.get('principal').tenantId, c.req.param('id'), { ...(before ? { before } : {}) }));
    })
    .get('/:id', async (c) => c.json(await loadItemDetail(deps.db, c.get('principal').tenantId, c.req.param('id'))));
