import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sha256Hex } from '../core/ids.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * Snapshots of views that analyse all open work (bottlenecks): computed at most once per
 * `maxAgeSeconds` per tenant and parameters, shared by every API instance through the table.
 */
export interface ViewSnapshot<T> {
  computedAt: string;
  view: T;
}

const snapshotKey = (tenantId: string, view: string, parameters: unknown) => keys.viewSnapshot(tenantId, `${view}#${sha256Hex(JSON.stringify(parameters)).slice(0, 16)}`);

/** The snapshot when it is younger than `maxAgeSeconds`, else computes, stores and returns a new one. */
export const snapshotOf = async <T>(
  db: Db,
  request: { tenantId: string; view: string; parameters: unknown; maxAgeSeconds: number; now: Date },
  compute: () => Promise<T>,
): Promise<ViewSnapshot<T>> => {
  const key = snapshotKey(request.tenantId, request.view, request.parameters);
  if (request.maxAgeSeconds > 0) {
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key }));
    const snapshot = Item?.snapshot as ViewSnapshot<T> | undefined;
    if (snapshot && request.now.getTime() - Date.parse(snapshot.computedAt) <= request.maxAgeSeconds * 1000) return snapshot;
  }
  const snapshot: ViewSnapshot<T> = { computedAt: request.now.toISOString(), view: await compute() };
  // Kept a day past its use: a snapshot nobody asks for again expires (TTL; the local retention sweep).
  const expiresAt = Math.floor(request.now.getTime() / 1000) + 86_400;
  await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...key, snapshot, expiresAt } }));
  return snapshot;
};
