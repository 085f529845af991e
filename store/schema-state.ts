import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { SCHEMA_VERSION } from './table.ts';

const upgraded = new WeakSet<Db>();

/** Remembers that the table is at the current schema version (it never goes back). */
export const markUpgraded = (db: Db): void => {
  upgraded.add(db);
};

/**
 * Whether every partition that needs an inbound marker has one: the table is at the current
 * version, not still being upgraded from the previous one (store/schema-upgrade.ts). Cached once true.
 */
export const inboundMarkersComplete = async (db: Db): Promise<boolean> => {
  if (upgraded.has(db)) return true;
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }));
  const complete = Item === undefined || Number(Item.version) >= SCHEMA_VERSION;
  if (complete) markUpgraded(db);
  return complete;
};
