import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LinkType } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/** A link made through the API (origin `manual`): who made it and when, kept after removal for the audit trail. */
export interface ManualLinkRecord {
  id: string;
  from: string;
  type: LinkType;
  to: string;
  origin: 'manual';
  createdAt: string;
  createdBy: string;
  deletedAt?: string;
  deletedBy?: string;
}

export const putManualLink = async (db: Db, tenantId: string, link: ManualLinkRecord): Promise<void> => {
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.manualLink(tenantId, link.id), tenantId, link, gsi1pk: keys.linksOf(tenantId), gsi1sk: `${link.createdAt}#${link.id}` },
    }),
  );
};

export const getManualLink = async (db: Db, tenantId: string, linkId: string): Promise<ManualLinkRecord | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.manualLink(tenantId, linkId), ConsistentRead: true }));
  return Item?.link as ManualLinkRecord | undefined;
};

/** Marks the link removed (the record stays, as the audit trail). */
export const deleteManualLink = (db: Db, tenantId: string, link: ManualLinkRecord): Promise<void> => putManualLink(db, tenantId, link);
