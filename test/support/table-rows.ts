import { gunzipSync } from 'node:zlib';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { decodeBody } from '../../store/body-codec.ts';
import type { Db } from '../../store/db.ts';
import { itemDocJson } from '../../store/item-codec.ts';
import { storedEventJson } from '../../store/stored-event.ts';

/** An item record's item and pending events as text. */
const itemRecordText = (row: Record<string, unknown>) => {
  const doc = itemDocJson(row.doc);
  const pending = Object.fromEntries(Object.entries((row.pending ?? {}) as Record<string, { event: unknown }>).map(([id, p]) => [id, { ...p, event: storedEventJson(p.event, doc) }]));
  return { doc, pending };
};

/** Every row of the table, each with its whole content as text (compressed bodies and event parts unpacked). */
export const readAllRows = async (db: Db): Promise<{ row: Record<string, unknown>; text: string }[]> => {
  const out: { row: Record<string, unknown>; text: string }[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: db.table, ExclusiveStartKey: startKey, ConsistentRead: true }));
    for (const row of page.Items ?? []) {
      // A delivery's body names its encoding (store/body-codec.ts); an item record's item and events are
      // deflated with dictionaries (store/item-codec.ts); any other bytes may be gzip.
      const body = row.body instanceof Uint8Array && row.bodyEncoding ? { body: decodeBody(row.body, row.bodyEncoding).toString('utf8') } : {};
      const item = row.sk === 'ITEM' && row.doc instanceof Uint8Array ? itemRecordText(row) : {};
      const text = JSON.stringify({ ...row, ...body, ...item }, (_key, value) => {
        if (value instanceof Uint8Array) {
          try {
            return gunzipSync(value).toString('utf8');
          } catch {
            return Buffer.from(value).toString('utf8');
          }
        }
        if (value instanceof Set) return [...value];
        return value;
      });
      out.push({ row, text });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
};
