import { deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import type { EventEnvelope } from '../core/events.ts';

/*
 * How an event is stored in a row (a log row's `evt`, a subscription delivery's `evt`, the events a
 * record carries in `pending`): its JSON, gzipped, or, in an item record, deflated against the item.
 * An event repeats much of the item it is about, so gzip stores 45 % of the text (about 530 bytes
 * instead of 1,190 for a new GitHub issue), and DynamoDB bills every row per started KB, in the
 * table and again in each index that holds it. Rows written before hold the JSON as text, and are
 * read the same way.
 */

/** The first byte of an event deflated with the JSON of the item whose record carries it as dictionary; gzip's is 0x1f. */
const AGAINST_ITEM = 0x02;

/**
 * `against`: the JSON of the item whose record carries the event (an item record's `pending`). An
 * event that an item's change causes repeats most of that item, so deflated with the item's JSON as
 * preset dictionary a new issue's event takes about 140 bytes instead of 530 gzipped
 * (store/item-codec.ts). The record's `doc` is that dictionary: both are written in one put.
 */
export const encodeStoredEvent = (event: EventEnvelope, against?: string): Uint8Array => {
  const json = JSON.stringify(event);
  if (against === undefined) return gzipSync(json);
  return Buffer.concat([Buffer.of(AGAINST_ITEM), deflateRawSync(json, { dictionary: Buffer.from(against) })]);
};

/** The JSON a stored event holds, whichever form it was written in; `against` as it was encoded with. */
export const storedEventJson = (stored: unknown, against?: string): string => {
  if (!(stored instanceof Uint8Array)) return String(stored);
  if (stored[0] !== AGAINST_ITEM) return gunzipSync(stored).toString('utf8');
  if (against === undefined) throw new Error('An event stored against its item cannot be read without the item');
  return inflateRawSync(stored.subarray(1), { dictionary: Buffer.from(against) }).toString('utf8');
};

export const decodeStoredEvent = (stored: unknown, against?: string): EventEnvelope => JSON.parse(storedEventJson(stored, against)) as EventEnvelope;
