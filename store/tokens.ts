import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { deleteRecord, listTenantRecords } from './tenants.ts';

export type Scope = 'read' | 'admin' | 'operator';

/** A token as stored: only the sha256 of its secret part is kept. */
export interface TokenRecord {
  id: string;
  tenantId: string;
  name: string;
  scopes: Scope[];
  secretSha256: string;
  createdAt: string;
}

export const putToken = async (db: Db, token: TokenRecord, options: { onlyIfAbsent?: boolean } = {}): Promise<boolean> => {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.token(token.id), gsi1pk: keys.tokensOf(token.tenantId), gsi1sk: `${token.createdAt}#${token.id}`, token },
        ...(options.onlyIfAbsent ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

export const getToken = async (db: Db, tokenId: string): Promise<TokenRecord | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.token(tokenId), ConsistentRead: true }));
  return Item?.token as TokenRecord | undefined;
};

export const listTokens = (db: Db, tenantId: string): Promise<TokenRecord[]> => listTenantRecords(db, keys.tokensOf(tenantId), 'token');

export const deleteToken = (db: Db, tokenId: string): Promise<void> => deleteRecord(db, keys.token(tokenId));
