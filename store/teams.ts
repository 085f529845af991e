import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { EMPTY_TEAM_MAP, type TeamMap } from '../core/teams.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

export const putTeamMap = async (db: Db, tenantId: string, map: TeamMap, updatedAt: string): Promise<void> => {
  await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.teamMap(tenantId), tenantId, map, updatedAt } }));
};

export const getTeamMap = async (db: Db, tenantId: string): Promise<{ map: TeamMap; updatedAt?: string }> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.teamMap(tenantId), ConsistentRead: true }));
  if (!Item) return { map: EMPTY_TEAM_MAP };
  // Maps stored before WIP limits moved to the alert settings may still carry `personWipLimit`: it counts for nothing any more.
  const { personWipLimit: _, ...map } = Item.map as TeamMap & { personWipLimit?: unknown };
  return { map, updatedAt: String(Item.updatedAt) };
};
