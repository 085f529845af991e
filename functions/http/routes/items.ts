import { Hono } from 'hono';
import * as z from 'zod';
import { Dependencies, IncomingLink, confirmedIncoming, directDependencies } from '../../../core/dependencies.ts';
import { NotFoundError } from '../../../core/errors.ts';
import { itemIdForRef } from '../../../core/ids.ts';
import { ItemFilter } from '../../../core/item-filter.ts';
import { WorkItem, isClosed } from '../../../core/work-item.ts';
import type { Db } from '../../../store/db.ts';
import { getItems, listItems } from '../../../store/item-queries.ts';
import { loadItemWithIncoming } from '../../../store/items.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseQuery } from '../problem.ts';

export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().describe('`nextCursor` of the previous page'),
});

const ListItemsQuery = ItemFilter.extend(Pagination.shape);

export const pageOf = <T extends z.ZodType>(entry: T) =>
  z.object({ items: z.array(entry), nextCursor: z.string().nullable().describe('null on the last page') });

const ListedItem = WorkItem.extend({
  blocked: z.boolean().describe('derived: an item it waits on, in any tool, is still open (what `?blocked=` filters on)'),
});

export const ItemDetail = WorkItem.extend({
  incomingLinks: z.array(IncomingLink).describe('links other items hold to this one, read from this side'),
  dependencies: Dependencies,
  blocked: z.boolean().describe('derived: an item it waits on, in any tool, is still open'),
});

export const itemOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/items',
    summary: 'List work items across tools, newest updated first',
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
];

export const itemRoutes = (db: Db) =>
  new Hono<AuthEnv>()
    .get('/', async (c) => {
      const { limit, cursor, ...filter } = parseQuery(c, ListItemsQuery);
      return c.json(await listItems(db, c.get('principal').tenantId, filter, { limit, cursor }));
    })
    .get('/:id', async (c) => {
      const { tenantId } = c.get('principal');
      const param = c.req.param('id');
      // Refs contain ':' and '#': accept them URL-encoded as well as ids.
      const id = param.startsWith('wi_') ? param : itemIdForRef(param);
      const { item, incoming } = await loadItemWithIncoming(db, tenantId, id);
      if (!item) throw new NotFoundError(`Item ${param}`);
      const relatedIds = [...new Set([...item.links.map((l) => itemIdForRef(l.target)), ...incoming.map((e) => e.fromId)])];
      const related = await getItems(db, tenantId, relatedIds);
      const incomingLinks = confirmedIncoming(item.ref, incoming, related);
      const dependencies = directDependencies(item, incomingLinks, related);
      const blocked = !isClosed(item.status) && dependencies.upstream.some((u) => u.status !== undefined && !isClosed(u.status) && !related.get(u.id)?.deleted);
      return c.json({ ...item, incomingLinks, dependencies, blocked });
    });
