import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { FACET_PARTITIONS_VERSION, INBOUND_MARKERS_VERSION, SCHEMA_VERSION } from './table.ts';

/*
 * The schema row holds the table's version, and, while the scan of an upgrade runs
 * (store/schema-upgrade.ts), what it has left to do (`markersPending` from version 2,
 * `facetsPending` from versions 2–4) and the scan's position. The version is
 * set to the current one before this code writes anything (`claimCurrentVersion`, at start): rows an
 * older version cannot read (compressed item records, version 4) must never sit in a table that
 * version accepts.
 */

/** The upgrade's scans, each with the version since which its work is part of every table (store/schema-upgrade.ts). */
export const PENDING_SCANS = { markersPending: INBOUND_MARKERS_VERSION, facetsPending: FACET_PARTITIONS_VERSION } as const;
export type PendingScan = keyof typeof PENDING_SCANS;
const ALL_SCANS = Object.keys(PENDING_SCANS) as PendingScan[];

type SchemaState = { version: number } & Record<PendingScan, boolean>;

const schemaOf = async (db: Db): Promise<SchemaState | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }));
  if (Item === undefined) return undefined;
  return { version: Number(Item.version), ...(Object.fromEntries(ALL_SCANS.map((scan) => [scan, Item[scan] === true])) as Record<PendingScan, boolean>) };
};

/** Tables known to be complete at a version (a table's version never goes back), one set per question asked. */
const knownComplete: WeakSet<Db>[] = [];

/** Remembers that the table is at the current schema version, upgraded. */
export const markUpgraded = (db: Db): void => {
  for (const known of knownComplete) known.add(db);
};

const isComplete = (schema: SchemaState, version: number, scans: readonly PendingScan[]): boolean =>
  schema.version >= version && scans.every((scan) => !schema[scan]);

/** Whether the table is at `version` or later with none of `scans` left to finish; cached once true. */
const completeSince = (version: number, scans: readonly PendingScan[]) => {
  const known = new WeakSet<Db>();
  knownComplete.push(known);
  return async (db: Db): Promise<boolean> => {
    if (known.has(db)) return true;
    const schema = await schemaOf(db);
    if (schema === undefined || isComplete(schema, SCHEMA_VERSION, ALL_SCANS)) markUpgraded(db);
    else if (isComplete(schema, version, scans)) known.add(db);
    return known.has(db);
  };
};

/**
 * Sets the table's version from `from` to the current one, once (a conditional update: another
 * process may do it first). What the upgrade's scan has to do for `from` is left pending.
 */
export const claimCurrentVersion = async (db: Db, from: number): Promise<void> => {
  const pending = ALL_SCANS.filter((scan) => from < PENDING_SCANS[scan]);
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.schema(),
        UpdateExpression: `SET ${['version = :to', ...pending.map((name) => `${name} = :pending`)].join(', ')}`,
        ConditionExpression: 'version = :from',
        ExpressionAttributeValues: { ':from': from, ':to': SCHEMA_VERSION, ...(pending.length > 0 ? { ':pending': true } : {}) },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};

/** Whether the table is at the current schema version with nothing left to upgrade (store/schema-upgrade.ts). Cached once true. */
export const schemaIsCurrent = completeSince(SCHEMA_VERSION, ALL_SCANS);

/**
 * Whether every partition that needs an inbound marker has one: the table is past the version that
 * added them and not still scanning for them (store/schema-upgrade.ts). Cached once true.
 */
export const inboundMarkersComplete = completeSince(INBOUND_MARKERS_VERSION, ['markersPending']);

/**
 * Whether every owner and label entry is a row of its value's partition: the table is past the
 * version that moved them there and not still moving them (store/schema-upgrade.ts). Cached once true.
 */
export const facetPartitionsComplete = completeSince(FACET_PARTITIONS_VERSION, ['facetsPending']);
