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
import { getConnection } from '../../../store/connections.ts';
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
    connectionId: z
      .string()
      .min(1)
      .optional()
      .describe("one connection's deliveries; processed ones are found among the tenant's with a filter, so a page may hold fewer than `limit` and still have a cursor"),
    source: Source.optional().describe("one source's deliveries (a page may be short, as with `connectionId`)"),
  })
  .extend(Pagination.shape);

/** Re-queued deliveries per bulk retry request: one request stays short whatever the backlog. */
const RETRY_PAGE = 500;

const BulkRetry = z.object({
  status: z.enum(['failed', 'ignored']).default('failed').describe('which deliveries to re-queue'),
  connectionId: z.string().min(1).optional(),
  source: Source.optional(),
  limit: z.number().int().min(1).max(RETRY_PAGE).default(RETRY_PAGE).describe(`deliveries examined by this request (at most ${RETRY_PAGE})`),
  cursor: z.string().optional().describe('`nextCursor` of the previous answer, with the same filters: carries on after it'),
});

const BulkRetried = z.object({
  retried: z.number().describe('deliveries put back on the queue by this request'),
  skipped: z.number().describe('matching deliveries not re-queued: retried or processed meanwhile, or past their retention period'),
  nextCursor: z.string().nullable().describe('more deliveries may match: send the same request with this cursor; null when every match was examined'),
});

const expiredProblem = () =>
  new AppError({
    status: 410,
    type: 'delivery-expired',
    title: 'Gone',
    detail:
      'The delivery is past its retention period, so its raw body is (being) deleted and it cannot be processed again. Ask the tool to send it again (GitHub: Recent Deliveries → Redeliver), or backfill the connection (POST /v1/connections/{id}/backfill).',
  });

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
      410: { description: 'It is past its retention period: its body is gone' },
    },
  },
  {
    method: 'post',
    path: '/v1/deliveries/retry',
    summary: `Process failed (or ignored) deliveries again, optionally of one connection or source, up to ${RETRY_PAGE} per request (oldest first; repeat with nextCursor)`,
    tag: 'operations',
    scope: 'admin',
    body: BulkRetry,
    responses: { 200: { description: 'How many were queued, and where to carry on', schema: BulkRetried }, 404: { description: 'Unknown connection' } },
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

export const deliveryRoutes = (deps: DeliveryRouteDeps) => {
  const own = async (tenantId: string, id: string): Promise<DeliveryRecord> => {
    const pk = deliveryPkOf(tenantId, id);
    const delivery = pk ? await getDeliveryMeta(deps.db, pk) : undefined;
    if (!delivery || delivery.tenantId !== tenantId) throw new NotFoundError(`Delivery ${id}`);
    return delivery;
  };

  /**
   * The filter for a connection and/or source, with the connection resolved first: `empty` when the
   * source is not the connection's (nothing can match: no partition needs reading); the source is
   * dropped when it is (the connection's partition holds only that source). A connection that does
   * not exist (deleted; its deliveries stay until they expire) keeps both.
   */
  const scoped = async (tenantId: string, query: { connectionId?: string | undefined; source?: string | undefined }) => {
    const connection = query.connectionId ? await getConnection(deps.db, query.connectionId) : undefined;
    const known = connection?.tenantId === tenantId ? connection : undefined;
    if (known && query.source && known.source !== query.source) return { known, empty: true as const };
    const scope = {
      ...(query.connectionId ? { connectionId: query.connectionId } : {}),
      ...(query.source && !known ? { source: query.source } : {}),
    };
    return { known, empty: false as const, scope };
  };

  return new Hono<AuthEnv>()
    .get('/', async (c) => {
      const { tenantId } = c.get('principal');
      const { limit, cursor, status, connectionId, source } = parseQuery(c, ListQuery);
      // A cursor is a position in time order, valid only for the filters it was made with.
      const partition = `deliveries:${tenantId}:${status ?? '*'}:${connectionId ?? '*'}:${source ?? '*'}`;
      const after = cursor ? String(decodeCursor(cursor, partition).after) : undefined;
      const target = await scoped(tenantId, { connectionId, source });
      if (target.empty) return c.json({ items: [], nextCursor: null });
      const filter: DeliveryFilter = { tenantId, statuses: status ? [status] : DELIVERY_STATUSES, ...target.scope };
      const { rows, next } = await queryDeliveries(deps.db, filter, { order: 'newest', limit, ...(after ? { after } : {}) });
      return c.json({ items: rows.map(deliveryView), nextCursor: next ? encodeCursor(partition, { after: next }) : null });
    })
    .post('/retry', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const body = await parseJsonBody(c, BulkRetry);
      const at = deps.clock().toISOString();
      const partition = `deliveries-retry:${tenantId}:${body.status}:${body.connectionId ?? '*'}:${body.source ?? '*'}`;
      const after = body.cursor ? String(decodeCursor(body.cursor, partition).after) : undefined;
      const target = await scoped(tenantId, body);
      // Like replay: a connection id that names nothing here is a mistake worth telling.
      if (body.connectionId && !target.known) throw new NotFoundError(`Connection ${body.connectionId}`);
      let retried = 0;
      let skipped = 0;
      let next: string | undefined;
      if (!target.empty) {
        const filter: DeliveryFilter = { tenantId, statuses: [body.status], ...target.scope };
        // One bounded page, oldest first; the cursor (not the status) says where the next request goes on,
        // so deliveries that cannot be re-queued (expired) are not examined again and again.
        const page = await queryDeliveries(deps.db, filter, { order: 'oldest', limit: body.limit, ...(after ? { after } : {}) });
        for (const row of page.rows) {
          if ((await requeueDelivery(deps.db, row, at)) !== 'requeued') {
            skipped++;
            continue;
          }
          retried++;
          deps.onAccepted?.(row.pk);
        }
        next = page.next;
      }
      const { cursor: _cursor, ...asked } = body;
      await recordAudit(deps.db, {
        tenantId,
        actor: tokenId,
        action: 'deliveries.retried',
        target: body.connectionId ?? body.source ?? 'all',
        detail: { ...asked, continued: after !== undefined, retried, skipped, more: next !== undefined },
        at,
      });
      return c.json({ retried, skipped, nextCursor: next ? encodeCursor(partition, { after: next }) : null }, 200);
    })
    .get('/:id', async (c) => c.json(deliveryView(await own(c.get('principal').tenantId, c.req.param('id')))))
    .post('/:id/retry', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const delivery = await own(tenantId, c.req.param('id'));
      const at = deps.clock().toISOString();
      const outcome = await requeueDelivery(deps.db, delivery, at);
      if (outcome === 'missing') throw new NotFoundError(`Delivery ${c.req.param('id')}`);
      if (outcome === 'expired') throw expiredProblem();
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
