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

/** Tables known to be complete at a version (a table's version never goes back), by what was asked. */
const current = new WeakSet<Db>();
const withMarkers = new WeakSet<Db>();
const withFacetPartitions = new WeakSet<Db>();

/** Remembers that the table is at the current schema version, upgraded. */
export const markUpgraded = (db: Db): void => {
  current.add(db);
  withMarkers.add(db);
  withFacetPartitions.add(db);
};

interface SchemaState {
  version: number;
  markersPending: boolean;
  facetsPending: boolean;
}

const schemaOf = async (db: Db): Promise<SchemaState | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }));
  return Item === undefined ? undefined : { version: Number(Item.version), markersPending: Item.markersPending === true, facetsPending: Item.facetsPending === true };
};

/**
 * Sets the table's version from `from` to the current one, once (a conditional update: another
 * process may do it first). What the upgrade's scan has to do for `from` is left pending.
 */
export const claimCurrentVersion = async (db: Db, from: number): Promise<void> => {
  const pending = [...(from < INBOUND_MARKERS_VERSION ? ['markersPending'] : []), ...(from < FACET_PARTITIONS_VERSION ? ['facetsPending'] : [])];
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
export const schemaIsCurrent = async (db: Db): Promise<boolean> => {
  if (current.has(db)) return true;
  const schema = await schemaOf(db);
  if (schema === undefined || (schema.version >= SCHEMA_VERSION && !schema.markersPending && !schema.facetsPending)) markUpgraded(db);
  return current.has(db);
};

/**
 * Whether every partition that needs an inbound marker has one: the table is past the version that
 * added them and not still scanning for them (store/schema-upgrade.ts). Cached once true.
 */
export const inboundMarkersComplete = async (db: Db): Promise<boolean> => {
  if (withMarkers.has(db)) return true;
  const schema = await schemaOf(db);
  if (schema === undefined || (schema.version >= INBOUND_MARKERS_VERSION && !schema.markersPending)) withMarkers.add(db);
  return withMarkers.has(db);
};

/**
 * Whether every owner and label entry is a row of its value's partition: the table is past the
 * version that moved them there and not still moving them (store/schema-upgrade.ts). Cached once true.
 */
export const facetPartitionsComplete = async (db: Db): Promise<boolean> => {
  if (withFacetPartitions.has(db)) return true;
  const schema = await schemaOf(db);
  if (schema === undefined || (schema.version >= FACET_PARTITIONS_VERSION && !schema.facetsPending)) withFacetPartitions.add(db);
  return withFacetPartitions.has(db);
};
