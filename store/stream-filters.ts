import { keys } from './keys.ts';

/**
 * Lambda event filter patterns on the table's stream (NEW_AND_OLD_IMAGES), declared next to the
 * keys they test so infra and code cannot drift. A record is handed to a function only when it
 * matches one of its patterns (syntax: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
 *
 * - processor: delivery records on the inbox queue (written pending, or counted for a retry).
 * - publisher: item and alert records on the outbox queue (they hold unpublished events).
 *
 * Records leaving a queue drop `qpk`, deliveries' listing rows (sk `LIST`, store/delivery-index.ts)
 * never carry it, and REMOVE records (TTL) have no new image, so none of them invokes anything.
 */
export const STREAM_FILTERS: Record<'processor' | 'publisher', Record<string, unknown>[]> = {
  processor: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { qpk: { S: [keys.queue.inbox] } } } }],
  publisher: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { qpk: { S: [keys.queue.outbox] } } } }],
};
