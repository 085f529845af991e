import { keys } from './keys.ts';

/**
 * How deliveries are listed (`GET /v1/deliveries`, replay, bulk retry): three overloaded index rows
 * per delivery, all on the delivery record itself, so the ack path stays one conditional put and a
 * status change moves all three in the same update that changes the status.
 *
 * - gsi1: the tenant's deliveries in one status;
 * - gsi2: one connection's deliveries in one status;
 * - gsi3: one source's deliveries in one status.
 *
 * Every sort key is `{receivedAt}#{source}#{deliveryId}`: newest first when read backwards, and one
 * position means the same delivery in every partition, so a cursor can span the four statuses.
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

/** The index partitions of a delivery in `status`. */
export const deliveryPartitions = (delivery: IndexedDelivery, status: DeliveryStatus) => ({
  gsi1pk: keys.deliveriesByStatus(delivery.tenantId, status),
  gsi2pk: keys.deliveriesByConnection(delivery.tenantId, delivery.connectionId, status),
  gsi3pk: keys.deliveriesBySource(delivery.tenantId, delivery.source, status),
});

/** Every index attribute of a delivery in `status`, for the ack path's put. */
export const deliveryIndexAttributes = (delivery: IndexedDelivery, status: DeliveryStatus): Record<string, string> => {
  const sortKey = deliverySortKey(delivery);
  return { ...deliveryPartitions(delivery, status), gsi1sk: sortKey, gsi2sk: sortKey, gsi3sk: sortKey };
};

/**
 * `SET` clauses and values that move a delivery's index rows to `status`. The sort keys never change;
 * they are set too, for deliveries recorded before they were indexed.
 */
export const moveIndexTo = (delivery: IndexedDelivery, status: DeliveryStatus) => {
  const attributes = deliveryIndexAttributes(delivery, status);
  const names = Object.keys(attributes);
  return {
    clause: names.map((name) => `${name} = :${name}`).join(', '),
    values: Object.fromEntries(names.map((name) => [`:${name}`, attributes[name]])),
  };
};
