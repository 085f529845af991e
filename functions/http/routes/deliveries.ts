import { Hono } from 'hono';
import * as z from 'zod';
import { AppError, NotFoundError } from '../../../core/errors.ts';
import type { Clock } from '../../../core/ports.ts';
import { Source } from '../../../core/work-item.ts';
import { decodeCursor, encodeCursor } from '../../../store/cursor.ts';
import type { Db } from '../../../store/db.ts';
import { DELIVERY_STATUSES, type DeliveryStatus, deliveryApiId, deliveryPkOf } from '../../../store/delivery-index.ts';
import { type DeliveryFilter, getDeliveryMeta, queryDeliveries, requeueDelivery } from '../../../store/deliveries.ts';
import { recordAudit } from '../../../store/audit.ts';
import type { DeliveryRecord } from '../../../store/inbox.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody, parseQuery } from '../problem.ts';
import { Pagination, pageOf } from './items.ts';

const Status = z.enum(DELIVERY_STATUSES as [DeliveryStatus, ...DeliveryStatus[]]);

export const Delivery = z.object({
  id: z.string().describe('stable id of the delivery in this API (`dlv_…`)'),
  source: Source,
  connectionId: z.string(),
  event: z.string().describe("the tool's event name, e.g. `issues` or `jira:issue_updated`"),
  deliveryId: z.string().describe("the tool's delivery id (or the body's sha256 when the tool sends none)"),
  receivedAt: z.string(),
  status: Status,
  attempts: z.number().describe('failed attempts of the current try (store errors are retried before a delivery fails)'),
  reason: z.string().nullable().describe('why it was ignored or failed, e.g. `issue.number: Invalid input: expected string`'),
  processedAt: z.string().nullable().describe('when it reached its status'),
  expiresAt: z.string().nullable().describe('when retention removes it (null while pending)'),
});

const ListQuery = z
  .object({
    status: Status.optional().describe('one status; every status when absent'),
    connectionId: z.string().min(1).optional(),
    source: Source.optional(),
  })
  .extend(Pagination.shape);

const BulkRetry = z.object({
  status: z.enum(['failed', 'ignored']).default('failed').describe('which deliveries to re-queue'),
  connectionId: z.string().min(1).optional(),
  source: Source.optional(),
});

const BulkRetried = z.object({ retried: z.number().describe('deliveries put back on the queue') });

export const deliveryOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/deliveries',
    summary: 'Webhook deliveries by status (pending, processed, ignored, failed), connection and source, newest first',
    tag: 'operations',
    scope: 'admin',
    query: ListQuery,
    responses: { 200: { description: 'A page of deliveries', schema: pageOf(Delivery) } },
  },
  {
    method: 'get',
    path: '/v1/deliveries/{id}',
    summary: 'One delivery: status, attempts, and why it failed',
    tag: 'operations',
    scope: 'admin',
    responses: { 200: { description: 'The delivery', schema: Delivery }, 404: { description: 'No such delivery in this tenant' } },
  },
  {
    method: 'post',
    path: '/v1/deliveries/{id}/retry',
    summary: 'Process a failed or ignored delivery again (after a fix), with the current connectors and settings',
    tag: 'operations',
    scope: 'admin',
    responses: {
      202: { description: 'Queued: it is pending again', schema: Delivery },
      404: { description: 'No such delivery in this tenant' },
      409: { description: 'It is pending already, or was processed (replay re-runs processed deliveries)' },
    },
  },
  {
    method: 'post',
    path: '/v1/deliveries/retry',
    summary: 'Process every failed (or ignored) delivery again, optionally of one connection or source',
    tag: 'operations',
    scope: 'admin',
    body: BulkRetry,
    responses: { 202: { description: 'How many were queued', schema: BulkRetried } },
  },
];

export interface DeliveryRouteDeps {
  db: Db;
  clock: Clock;
  /** the local processor, told about each re-queued delivery; in AWS the table's stream does it */
  onAccepted?: (deliveryPk: string) => void;
}

export const deliveryView = (d: DeliveryRecord): z.infer<typeof Delivery> => ({
  id: deliveryApiId(d.pk),
  source: d.source,
  connectionId: d.connectionId,
  event: d.event,
  deliveryId: d.deliveryId,
  receivedAt: d.receivedAt,
  status: d.status,
  attempts: d.attempts ?? 0,
  reason: d.reason ?? null,
  processedAt: d.processedAt ?? null,
  expiresAt: d.expiresAt === undefined ? null : new Date(d.expiresAt * 1000).toISOString(),
});

/** Re-queued deliveries are read in pages of this many. */
const RETRY_PAGE = 100;

export const deliveryRoutes = (deps: DeliveryRouteDeps) => {
  const own = async (tenantId: string, id: string): Promise<DeliveryRecord> => {
    const pk = deliveryPkOf(tenantId, id);
    const delivery = pk ? await getDeliveryMeta(deps.db, pk) : undefined;
    if (!delivery || delivery.tenantId !== tenantId) throw new NotFoundError(`Delivery ${id}`);
    return delivery;
  };

  return new Hono<AuthEnv>()
    .get('/', async (c) => {
      const { tenantId } = c.get('principal');
      const { limit, cursor, status, connectionId, source } = parseQuery(c, ListQuery);
      const filter: DeliveryFilter = {
        tenantId,
        statuses: status ? [status] : DELIVERY_STATUSES,
        ...(connectionId ? { connectionId } : {}),
        ...(source ? { source } : {}),
      };
      // A cursor is a position in time order, valid only for the filters it was made with.
      const partition = `deliveries:${tenantId}:${status ?? '*'}:${connectionId ?? '*'}:${source ?? '*'}`;
      const after = cursor ? String(decodeCursor(cursor, partition).after) : undefined;
      const { rows, more } = await queryDeliveries(deps.db, filter, { order: 'newest', limit, ...(after ? { after } : {}) });
      const last = rows.at(-1);
      return c.json({ items: rows.map(deliveryView), nextCursor: more && last ? encodeCursor(partition, { after: last.sortKey }) : null });
    })
    .post('/retry', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const body = await parseJsonBody(c, BulkRetry);
      const at = deps.clock().toISOString();
      const filter: DeliveryFilter = {
        tenantId,
        statuses: [body.status],
        ...(body.connectionId ? { connectionId: body.connectionId } : {}),
        ...(body.source ? { source: body.source } : {}),
      };
      let retried = 0;
      let after: string | undefined;
      for (;;) {
        const { rows, more } = await queryDeliveries(deps.db, filter, { order: 'oldest', limit: RETRY_PAGE, ...(after ? { after } : {}) });
        for (const row of rows) {
          if ((await requeueDelivery(deps.db, row, at)) !== 'requeued') continue;
          retried++;
          deps.onAccepted?.(row.pk);
        }
        after = rows.at(-1)?.sortKey;
        if (!more || !after) break;
      }
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'deliveries.retried', target: body.connectionId ?? body.source ?? 'all', detail: { ...body, retried }, at });
      return c.json({ retried }, 202);
    })
    .get('/:id', async (c) => c.json(deliveryView(await own(c.get('principal').tenantId, c.req.param('id')))))
    .post('/:id/retry', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const delivery = await own(tenantId, c.req.param('id'));
      const at = deps.clock().toISOString();
      const outcome = await requeueDelivery(deps.db, delivery, at);
      if (outcome === 'missing') throw new NotFoundError(`Delivery ${c.req.param('id')}`);
      if (outcome === 'pending') {
        throw new AppError({
          status: 409,
          type: 'delivery-pending',
          title: 'Conflict',
          detail: 'The delivery is already queued for processing. Wait for it to finish (GET /v1/deliveries/{id}), then retry it if it fails again.',
        });
      }
      if (outcome === 'processed') {
        throw new AppError({
          status: 409,
          type: 'delivery-processed',
          title: 'Conflict',
          detail: 'The delivery was processed. To run processed deliveries through changed rules again, use POST /v1/replay.',
        });
      }
      deps.onAccepted?.(delivery.pk);
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'delivery.retried', target: deliveryApiId(delivery.pk), detail: { previousStatus: delivery.status, reason: delivery.reason ?? null }, at });
      const { reason: _reason, processedAt: _processedAt, expiresAt: _expiresAt, ...kept } = delivery;
      // As queued: the processor may have taken it already, so it is not read back.
      return c.json(deliveryView({ ...kept, status: 'pending', attempts: 0 }), 202);
    });
};
