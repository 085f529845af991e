import { type AttributeValue, BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA, type IndexName, projectionOf } from './table.ts';

/**
 * Write units by DynamoDB's rules, computed from the writes themselves, because neither local engine
 * can say (dynalite ignores indexes in ConsumedCapacity and has no transactions):
 *
 * - a table write costs the item's size rounded up per 1 KB; an update, a replacing put or a delete
 *   bills the larger of the item before and after, and a failed conditional write bills the item as
 *   it is;
 * - each global secondary index the item is in, before or after, costs its projected size rounded up
 *   per 1 KB when a projected attribute changed; a change of the index key costs a delete of the old
 *   entry plus a put of the new one; an index none of whose projected attributes changed costs nothing.
 *
 * To know "before" and "after", the meter reads each written item just before and just after its
 * write with a client of its own (those reads are not counted). It is a diagnostic for the bench
 * (`TRIBUTARY_METER_WRITE_UNITS=true`): it doubles every write's round trips, and concurrent writers
 * of one item can blur what it attributes to whom.
 */

type Image = Record<string, AttributeValue>;
type Key = { pk: string; sk: string };

const KB = 1024;
const units = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));

/** The size DynamoDB accounts for a value (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html). */
const valueSize = (value: AttributeValue): number => {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((n, s) => n + valueSize({ N: s }), 0);
  if (value.BS) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  return 0;
};

export const itemSize = (image: Image): number => Object.entries(image).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);

/** The part of an item an index holds: its keys and the projected attributes; undefined when the item is not in the index. */
const projected = (image: Image | undefined, index: IndexName): Image | undefined => {
  const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[index];
  if (!image?.[partitionKey] || !image[sortKey]) return undefined;
  const projection = projectionOf(index);
  const kept = new Set<string>([TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, partitionKey, sortKey, ...(projection.nonKeyAttributes ?? [])]);
  return Object.fromEntries(Object.entries(image).filter(([name]) => projection.type === 'ALL' || kept.has(name)));
};

const same = (a: unknown, b: unknown) => JSON.stringify(a, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)) === JSON.stringify(b, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));

/** The write units of one item's write, from its images before and after. */
export const writeUnitsOf = (before: Image | undefined, after: Image | undefined): { table: number; indexes: number } => {
  const table = units(Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0));
  let indexes = 0;
  for (const index of Object.keys(TABLE_SCHEMA.indexes) as IndexName[]) {
    const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[index];
    const old = projected(before, index);
    const now = projected(after, index);
    if (!old && !now) continue;
    if (old && now && old[partitionKey]?.S === now[partitionKey]?.S && old[sortKey]?.S === now[sortKey]?.S) {
      if (!same(old, now)) indexes += units(Math.max(itemSize(old), itemSize(now)));
      continue;
    }
    if (old) indexes += units(itemSize(old));
    if (now) indexes += units(itemSize(now));
  }
  return { table, indexes };
};

const keysOfWrite = (command: string, input: Record<string, any>): Key[] => {
  const toKey = (raw: Record<string, any>): Key => ({ pk: raw.pk?.S ?? raw.pk, sk: raw.sk?.S ?? raw.sk });
  if (command === 'PutItem') return [toKey(input.Item)];
  if (command === 'UpdateItem' || command === 'DeleteItem') return [toKey(input.Key)];
  if (command === 'BatchWriteItem') {
    return Object.values(input.RequestItems ?? {}).flatMap((requests: any) =>
      requests.map((r: any) => toKey(r.PutRequest ? r.PutRequest.Item : r.DeleteRequest.Key)),
    );
  }
  return [];
};

const readImages = async (shadow: DynamoDBClient, table: string, keys: readonly Key[]): Promise<Map<string, Image>> => {
  const out = new Map<string, Image>();
  const unique = [...new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let pending: Image[] = unique.slice(i, i + 100).map((k) => ({ pk: { S: k.pk }, sk: { S: k.sk } }));
    while (pending.length > 0) {
      const result = await shadow.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
      for (const row of result.Responses?.[table] ?? []) out.set(`${row.pk!.S}\u0000${row.sk!.S}`, row);
      pending = (result.UnprocessedKeys?.[table]?.Keys ?? []) as Image[];
    }
  }
  return out;
};

/** What one item's write cost, and what kind of row it was (see {@link rowKindOf}). */
export interface WriteUnits {
  row: string;
  table: number;
  indexes: number;
}

/**
 * A row's kind for the meter's breakdown, from its key: the type segment of the partition key and
 * the first segment of the sort key, e.g. `ITEM/ITEM`, `owner/dated`, `LOG/E`, `DLV/DLV`. Ids,
 * tenants and times are left out, so the kinds are few.
 */
export const rowKindOf = (key: Key): string => {
  const segments = key.pk.split('#');
  // `T#{tenant}#{TYPE}#…` for a tenant's rows, `{TYPE}#…` for the hub's own.
  const type = segments[0] === 'T' && segments.length > 2 ? segments[2]! : segments[0]!;
  const head = key.sk.split(/[#:]/)[0]!;
  return `${type}/${/^\d/.test(head) ? 'dated' : head}`;
};

/**
 * Meters the writes `client` sends to `table`: tells `onUnits` what each written item cost once
 * its write completed (or failed its condition). `shadow` is a second client on the same endpoint.
 */
export const meterWriteUnits = (client: DynamoDBClient, shadow: DynamoDBClient, table: string, onUnits: (units: WriteUnits) => void): void => {
  client.middlewareStack.add(
    (next, context) =>
      async function meterWriteUnitsOfCall(args) {
        const command = String(context.commandName ?? '').replace(/Command$/, '');
        const keys = keysOfWrite(command, args.input as Record<string, any>);
        if (keys.length === 0) return next(args);
        const before = await readImages(shadow, table, keys);
        try {
          return await next(args);
        } finally {
          const after = await readImages(shadow, table, keys);
          const unique = new Map(keys.map((k) => [`${k.pk}\u0000${k.sk}`, k]));
          for (const [id, key] of unique) onUnits({ row: rowKindOf(key), ...writeUnitsOf(before.get(id), after.get(id)) });
        }
      },
    { step: 'initialize', name: 'tributaryWriteUnitMeter' },
  );
};
