import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomId } from '../core/ids.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * The audit log of a tenant: every admin action (connections, tokens, tenants, manual links,
 * person merges and splits, settings, replays, erasures), who did it and when. One partition per
 * tenant, sorted by time, so `GET /v1/audit` is one Query, newest first.
 */
export interface AuditInput {
  tenantId: string;
  /** the token id that acted (`operator` for TRIBUTARY_ADMIN_TOKEN, `system` for the hub itself) */
  actor: string;
  /** `<noun>.<verb>`, e.g. `connection.created`, `person.erased` */
  action: string;
  /** what was acted on, e.g. a connection id */
  target: string;
  detail?: Record<string, unknown>;
  at: string;
}

export interface AuditEntry extends Omit<AuditInput, 'tenantId'> {
  id: string;
}

export const recordAudit = async (db: Db, input: AuditInput): Promise<AuditEntry> => {
  const { tenantId, ...rest } = input;
  const entry: AuditEntry = { id: randomId('aud'), ...rest };
  const byAction = { gsi1pk: keys.auditByAction(tenantId, entry.action), gsi1sk: `${entry.at}#${entry.id}` };
  await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.auditEntry(tenantId, entry.at, entry.id), ...byAction, tenantId, entry } }));
  return entry;
};

/**
 * A tenant's audit log, newest first: its partition, or with `action` that action's entries on gsi1.
 * Either way one Query per page.
 */
export const listAuditLog = async (
  db: Db,
  tenantId: string,
  page: { limit: number; cursor?: string; action?: string },
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> => {
  const [partition, index] = page.action
    ? ([keys.auditByAction(tenantId, page.action), { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk' }] as const)
    : ([keys.auditOf(tenantId), { KeyConditionExpression: 'pk = :pk' }] as const);
  const { Items, LastEvaluatedKey } = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      ...index,
      ExpressionAttributeValues: { ':pk': partition },
      ScanIndexForward: false,
      Limit: page.limit,
      ExclusiveStartKey: page.cursor ? decodeCursor(page.cursor, partition) : undefined,
    }),
  );
  return {
    items: (Items ?? []).map((row) => row.entry as AuditEntry),
    nextCursor: LastEvaluatedKey ? encodeCursor(partition, LastEvaluatedKey) : null,
  };
};
