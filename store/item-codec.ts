import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { WorkItem } from '../core/work-item.ts';
import itemShape from './item-dictionaries/item-1.json' with { type: 'json' };

/**
 * How an item record stores its item (`doc`): deflated with a preset dictionary of one item's JSON
 * (`store/item-dictionaries/`: a made-up Jira task with a GitHub requester, a link and labels), so
 * the field names, sources and URL templates every item repeats cost a few bytes each. A new GitHub
 * issue's item falls from 0.99 KB of JSON to about 0.25, and the events its record carries are
 * stored against the item itself (store/stored-event.ts): the record, which `gsi1`–`gsi3` copy whole,
 * falls from 2 KB to under 1, one write unit instead of two in the table and in each index.
 *
 * The stored bytes start with the version of the dictionary (1): a dictionary never changes, since
 * every item compressed with it needs it to be read; a better one gets the next version. A `doc`
 * that is a string is the item's JSON, as records were written before.
 */

/** A dictionary's bytes: its JSON in compact form, as items are written. */
export const ITEM_DICTIONARIES: Record<number, Buffer> = { 1: Buffer.from(JSON.stringify(itemShape)) };

const CURRENT = 1;

/** The stored form of an item's JSON. */
export const encodeItemDoc = (json: string): Uint8Array => Buffer.concat([Buffer.of(CURRENT), deflateRawSync(json, { dictionary: ITEM_DICTIONARIES[CURRENT] })]);

/** The JSON of an item as a record stores it (`doc`): compressed, or text as written before. */
export const itemDocJson = (doc: unknown): string => {
  if (typeof doc === 'string') return doc;
  if (!(doc instanceof Uint8Array)) throw new Error(`An item record holds a doc of type ${typeof doc}`);
  const dictionary = ITEM_DICTIONARIES[doc[0]!];
  if (!dictionary) throw new Error(`An item record was written with item dictionary ${doc[0]}, which this version of Tributary cannot read: upgrade it.`);
  return inflateRawSync(doc.subarray(1), { dictionary }).toString('utf8');
};

/** The item a record stores (`doc`). */
export const decodeItemDoc = (doc: unknown): WorkItem => JSON.parse(itemDocJson(doc)) as WorkItem;
