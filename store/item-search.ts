import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * The read side of a title-word index: one row per (item, word), shaped like the owner and label
 * facet rows (`T#{t}#ITEM#{id} / FACET#word#{word}`, gsi1 `T#{t}#word#{word}` by updatedAt).
 * Nothing writes these rows yet: the processor writes the owner and label facets only, so this
 * query finds nothing today, and a title search (functions/http/views/items.ts) finds words among
 * the 1,000 most recently updated items (docs/views.md, "The search box"). Once a writer keeps the
 * `word` facet of `core/search.ts` `titleWords(item.title)` with the item, older items are found
 * too. Reads are re-checked against the item, like every facet: a row left by an older title
 * would never show a wrong result.
 */
export const WORD_FACET = 'word';

/** Ids of the items whose title has `word`, most recently updated first, at most `limit`. */
export const itemIdsWithWord = async (db: Db, tenantId: string, word: string, limit: number): Promise<string[]> => {
  const { Items } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': keys.itemsByFacet(tenantId, WORD_FACET, word) },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return (Items ?? []).map((row) => String(row.itemId));
};
