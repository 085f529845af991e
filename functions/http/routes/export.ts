import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { Logger } from '../../../core/ports.ts';
import { decodeItemDoc } from '../../../store/item-codec.ts';
import type { Db } from '../../../store/db.ts';
import { readTenantLog } from '../../../store/event-log.ts';
import { listSubscriptions, subscriptionAttemptPages, subscriptionDeliveryPages } from '../../../store/subscriptions.ts';
import { keys } from '../../../store/keys.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';

export const exportOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/export',
    summary:
      "Everything of the tenant as NDJSON, one JSON object per line with a `type`: `export` (first), `item` (every item, tombstones included), `link` (every edge an item holds: connectors' and manual, see `origin`), `manual_link` (the API's link records, who and when), `person` (every person record, merged ones with `mergedInto`), `subscription` (every webhook subscription, never its secrets), `subscription_delivery` (each event queued for one: its state, not the event), `subscription_attempt` (each delivery attempt), `event` (the event log, oldest first: `{cursor, event}`), `end` (last, with the counts; a stream without it was cut short), `error` (instead of `end` when the read failed)",
    tag: 'operations',
    scope: 'admin',
    responses: { 200: { description: 'The export, streamed page by page', contentType: 'application/x-ndjson' } },
  },
];

/** Rows of one partition (main table or gsi1), a page at a time: the export never holds more than a page. */
async function* pages(db: Db, input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>) {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new QueryCommand({ TableName: db.table, Limit: 100, ...input, ExclusiveStartKey: startKey }));
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

const onGsi1 = (partition: string) => ({ IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': partition } });

/** `GET /v1/export`: the tenant's items, links and people, streamed as NDJSON through the store's pages. */
export const exportRoutes = (deps: { db: Db; log: Logger; clock: () => Date }) =>
  new Hono<AuthEnv>().get('/', (c) => {
    const { tenantId } = c.get('principal');
    const exportedAt = deps.clock().toISOString();
    c.header('content-type', 'application/x-ndjson; charset=utf-8');
    c.header('content-disposition', `attachment; filename="tributary-${tenantId}-${exportedAt.slice(0, 10)}.ndjson"`);
    c.header('cache-control', 'no-store');
    return stream(c, async (out) => {
      const counts = { item: 0, link: 0, manual_link: 0, person: 0, subscription: 0, subscription_delivery: 0, subscription_attempt: 0, event: 0 };
      const line = (value: Record<string, unknown>) => out.write(`${JSON.stringify(value)}\n`);
      await line({ type: 'export', tenantId, exportedAt, schemaVersion: 1 });
      try {
        for await (const rows of pages(deps.db, onGsi1(keys.itemsOf(tenantId)))) {
          for (const row of rows) {
            const item = decodeItemDoc(row.doc);
            await line({ type: 'item', ...item });
            counts.item++;
            for (const link of item.links) {
              await line({ type: 'link', from: item.ref, fromId: item.id, to: link.target, linkType: link.type, origin: link.origin, confidence: link.confidence });
              counts.link++;
            }
          }
        }
        for await (const rows of pages(deps.db, onGsi1(keys.linksOf(tenantId)))) {
          for (const row of rows) {
            await line({ ...(row.link as Record<string, unknown>), linkType: (row.link as { type: string }).type, type: 'manual_link' });
            counts.manual_link++;
          }
        }
        for await (const rows of pages(deps.db, { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': keys.peopleOf(tenantId) } })) {
          for (const row of rows) {
            const seen = row.seen as Record<string, unknown>;
            await line({
              type: 'person',
              ...seen,
              roles: [...((row.roles as Set<string> | undefined) ?? [])].sort(),
              firstSeenAt: row.firstSeenAt,
              ...(row.mergedInto ? { mergedInto: row.mergedInto } : {}),
            });
            counts.person++;
          }
        }
        // Webhook subscriptions, without their secrets, with their queues and attempts.
        for (const { subscription, health } of await listSubscriptions(deps.db, tenantId)) {
          const { secrets, tenantId: _tenant, ...settings } = subscription;
          await line({ type: 'subscription', ...settings, ...health, secretRotatedAt: secrets.length > 1 ? secrets[0]!.createdAt : null });
          counts.subscription++;
          for await (const rows of subscriptionDeliveryPages(deps.db, tenantId, subscription.id)) {
            for (const { type: eventType, tenantId: _t, ...delivery } of rows) {
              await line({ ...delivery, eventType, type: 'subscription_delivery' });
              counts.subscription_delivery++;
            }
          }
          for await (const rows of subscriptionAttemptPages(deps.db, tenantId, subscription.id)) {
            for (const attempt of rows) {
              await line({ type: 'subscription_attempt', subscriptionId: subscription.id, ...attempt });
              counts.subscription_attempt++;
            }
          }
        }
        // The event log (as long as it keeps events: TRIBUTARY_RETENTION_EVENT_DAYS), oldest first.
        let after: string | undefined;
        for (;;) {
          const page = await readTenantLog(deps.db, tenantId, { ...(after ? { after } : {}), limit: 200, until: deps.clock() });
          for (const { event, cursor } of page) {
            await line({ type: 'event', cursor, event });
            counts.event++;
          }
          if (page.length < 200) break;
          after = page.at(-1)!.cursor;
        }
        await line({ type: 'end', counts });
      } catch (error) {
        // The status line is long gone: the failure is the last line, and `end` never comes.
        deps.log.error('export failed', { tenantId, error: String(error) });
        await line({ type: 'error', detail: 'The export stopped before its end; request it again.' });
      }
    });
  });
