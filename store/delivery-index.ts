import { keys } from './keys.ts';

/**
 * How deliveries are listed (`GET /v1/deliveries`, replay, bulk retry), without copying delivery
 * records into indexes (issue 15: the record, ~3 KB with its body, was projected into three indexes
 * and moved in all three by every status change):
 *
 * - a pending delivery is listed from the `queue` index, which the ack path's one put joins anyway
 *   (partition `inbox`, sort key `{receivedAt}#{pk}`: within a tenant the same order as below);
 * - a delivery with a final status, and a re-queued one (its queue position is when it was re-queued,
 *   not when it was received), has a small **listing row** in its own partition (sk `LIST`, no body,
 *   no headers) carrying overloaded index keys:
 *   - gsi1: the tenant's deliveries in one status;
 *   - gsi2: one connection's deliveries in one status, except `processed`;
 *   - gsi3: one source's deliveries in one status, except `processed`.
 *
 * Processed deliveries, nearly all of them, are listed by connection or source from the tenant's
 * processed partition with a filter: each index a row is in costs a write unit, and two of them per
 * delivery were a fifteenth of a delivery's write units (issue 15), for a listing that is rarely
 * asked for. Failed, ignored and re-queued deliveries, which operators do list by connection to
 * retry them, keep their own partitions. Rows written before keep theirs until they expire; they are
 * read from gsi1 like the others.
 *
 * Every sort key is `{receivedAt}#{source}#{deliveryId}`: newest first when read backwards, and one
 * position means the same delivery in every partition, so a cursor can span the four statuses.
 *
 * The listing row is written before the record it lists whenever the record leaves the queue (so a
 * crash between the two leaves the record pending, on the queue, and the processor's next run
 * writes both again), and after it when the record joins the queue again (a crash between leaves a
 * queued record that its processing lists again). Nothing is left unlisted; a crash can only list a
 * delivery with its next status a moment early.
 *
 * No schema version change and no copy: records written before listing rows (pending or finished,
 * with gsi1–gsi3 keys on the record itself, in the same partitions and with the same sort keys) stay
 * listed by those keys until they expire, and every write of such a record by this code removes
 * them ({@link LEGACY_INDEX_ATTRIBUTES}) as it writes or removes the listing row. A reader that
 * meets one delivery twice (its old keys and its listing row, or the queue) keeps one, by sort key.
 */

export type DeliveryStatus = 'pending' | 'processed' | 'ignored' | 'failed';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'processed', 'ignored', 'failed'];

/** What the index rows of a delivery are made of. */
export interface IndexedDelivery {
  pk: string;
  tenantId: string;
  connectionId: string;
  source: string;
  receivedAt: string;
}

const MARKER = '#DLV#';
const API_PREFIX = 'dlv_';

/** `{source}#{deliveryId}` (the delivery id hashed when it was too long for a key), from the record's key. */
const localKeyOf = (pk: string): string => pk.slice(pk.indexOf(MARKER) + MARKER.length);

/** The delivery's stable id in the API: its key within the tenant, URL-safe. */
export const deliveryApiId = (pk: string): string => `${API_PREFIX}${Buffer.from(localKeyOf(pk)).toString('base64url')}`;

/** The record key an API id names in `tenantId`; undefined when it is not one of ours. */
export const deliveryPkOf = (tenantId: string, apiId: string): string | undefined => {
  if (!apiId.startsWith(API_PREFIX)) return undefined;
  const local = Buffer.from(apiId.slice(API_PREFIX.length), 'base64url').toString('utf8');
  return /^[a-z]+#[^\n]+$/.test(local) ? `T#${tenantId}${MARKER}${local}` : undefined;
};

export const deliverySortKey = (delivery: Pick<IndexedDelivery, 'pk' | 'receivedAt'>): string => `${delivery.receivedAt}#${localKeyOf(delivery.pk)}`;

/** Whether deliveries in `status` have partitions per connection (gsi2) and per source (gsi3): all but processed ones. */
export const listedByConnection = (status: DeliveryStatus): boolean => status !== 'processed';

/** The index partitions of a delivery in `status`. */
export const deliveryPartitions = (delivery: IndexedDelivery, status: DeliveryStatus): { gsi1pk: string; gsi2pk?: string; gsi3pk?: string } => ({
  gsi1pk: keys.deliveriesByStatus(delivery.tenantId, status),
  ...(listedByConnection(status)
    ? {
        gsi2pk: keys.deliveriesByConnection(delivery.tenantId, delivery.connectionId, status),
        gsi3pk: keys.deliveriesBySource(delivery.tenantId, delivery.source, status),
      }
    : {}),
});

/** Every index attribute of a delivery in `status`, for its listing row. */
export const deliveryIndexAttributes = (delivery: IndexedDelivery, status: DeliveryStatus): Record<string, string> => {
  const sortKey = deliverySortKey(delivery);
  const { gsi1pk, gsi2pk, gsi3pk } = deliveryPartitions(delivery, status);
  return { gsi1pk, gsi1sk: sortKey, ...(gsi2pk ? { gsi2pk, gsi2sk: sortKey } : {}), ...(gsi3pk ? { gsi3pk, gsi3sk: sortKey } : {}) };
};

/** Index attributes delivery records carried before listing rows: every write of a record removes them. */
export const LEGACY_INDEX_ATTRIBUTES = ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'] as const;

/** What a listing row shows: what `GET /v1/deliveries` answers, and what bulk retry and replay need to find the record. */
export interface ListedDelivery extends IndexedDelivery {
  deliveryId: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  reason?: string | null;
  processedAt?: string;
  expiresAt?: number;
  /** the try it lists (store/deliveries.ts `requeueDelivery`): a listing row of a later try is never replaced by an earlier one's */
  retriedAt?: string;
  bodySha256: string;
  bodyParts?: number;
}

/** The listing row of a delivery in `delivery.status`; it expires with the record. */
export const deliveryListingRow = (delivery: ListedDelivery): Record<string, unknown> => {
  const optional = { reason: delivery.reason, processedAt: delivery.processedAt, expiresAt: delivery.expiresAt, retriedAt: delivery.retriedAt, bodyParts: delivery.bodyParts };
  return {
    ...keys.deliveryListing(delivery.pk),
    tenantId: delivery.tenantId,
    connectionId: delivery.connectionId,
    source: delivery.source,
    deliveryId: delivery.deliveryId,
    event: delivery.event,
    receivedAt: delivery.receivedAt,
    status: delivery.status,
    attempts: delivery.attempts,
    bodySha256: delivery.bodySha256,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined && value !== null)),
    ...deliveryIndexAttributes(delivery, delivery.status),
  };
};
