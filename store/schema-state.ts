import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { INBOUND_MARKERS_VERSION, SCHEMA_VERSION } from './table.ts';

/** Tables known to be at least at a version (a table's version never goes back), by what was asked. */
const current = new WeakSet<Db>();
const withMarkers = new WeakSet<Db>();

/** Remembers that the table is at the current schema version. */
export const markUpgraded = (db: Db): void => {
  current.add(db);
  withMarkers.add(db);
};

const versionOf = async (db: Db): Promise<number | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }));
  return Item === undefined ? undefined : Number(Item.version);
};

/** Whether the table is at the current schema version, not still to be upgraded in place (store/schema-upgrade.ts). Cached once true. */
export const schemaIsCurrent = async (db: Db): Promise<boolean> => {
  if (current.has(db)) return true;
  const version = await versionOf(db);
  if (version === undefined || version >= SCHEMA_VERSION) markUpgraded(db);
  return current.has(db);
};

/**
 * Whether every partition that needs an inbound marker has one: the table is past the version that
 * added them, not still being upgraded from the one before (store/schema-upgrade.ts). Cached once true.
 */
export const inboundMarkersComplete = async (db: Db): Promise<boolean> => {
  if (withMarkers.has(db)) return true;
  const version = await versionOf(db);
  if (version === undefined || version >= INBOUND_MARKERS_VERSION) withMarkers.add(db);
  return withMarkers.has(db);
};
