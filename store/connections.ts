import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Source } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { deleteRecord, listTenantRecords } from './tenants.ts';

export interface ConnectionSecret {
  value: string;
  createdAt: string;
  /** set on a secret replaced by rotation: it stays valid until then */
  expiresAt?: string;
}

export interface ConnectionRecord {
  id: string;
  tenantId: string;
  source: Source;
  name: string;
  settings: Record<string, unknown>;
  /** newest first. Stored readable because HMAC verification needs the secret itself. */
  secrets: ConnectionSecret[];
  createdAt: string;
}

export const putConnection = async (db: Db, connection: ConnectionRecord): Promise<void> => {
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...keys.connection(connection.id),
        gsi1pk: keys.connectionsOf(connection.tenantId),
        gsi1sk: `${connection.createdAt}#${connection.id}`,
        connection,
      },
    }),
  );
};

export const getConnection = async (db: Db, connectionId: string): Promise<ConnectionRecord | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.connection(connectionId), ConsistentRead: true }));
  return Item?.connection as ConnectionRecord | undefined;
};

export const listConnections = (db: Db, tenantId: string): Promise<ConnectionRecord[]> =>
  listTenantRecords(db, keys.connectionsOf(tenantId), 'connection');

export const deleteConnection = (db: Db, connectionId: string): Promise<void> => deleteRecord(db, keys.connection(connectionId));

/** The secrets that verify a delivery at `now`: the current one and any still inside its rotation window. */
export const validSecrets = (connection: ConnectionRecord, now: Date): string[] =>
  connection.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now.getTime()).map((s) => s.value);
