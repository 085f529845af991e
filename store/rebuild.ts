import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { LEGACY_INDEX_ATTRIBUTES } from './delivery-index.ts';

/** Records that are the source of truth; everything else in the table is derived from deliveries. */
const CONFIGURATION = new Set(['TENANT', 'TOKEN', 'CONN', 'BOOTSTRAP']);

const isDeliveryPart = (row: Record<string, unknown>) => String(row.sk).startsWith('PART#') && String(row.pk).includes('#DLV#');

export interface RebuildProgress {
  scanned: number;
  copied: number;
  deliveries: number;
  skipped: number;
}

/**
 * Rebuilds the index into a new table (after a schema change or a mapping change that needs a
 * clean slate): copies tenants, tokens, connections and every stored delivery, with each delivery
 * queued as pending, so the processor of a hub started on `target` re-derives items, edges and
 * events. Idempotent and resumable (conditional puts); run it while no hub writes to `target`.
 */
export const rebuildIndex = async (source: Db, target: Db, onProgress?: (progress: RebuildProgress) => void): Promise<RebuildProgress> => {
  const progress: RebuildProgress = { scanned: 0, copied: 0, deliveries: 0, skipped: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await source.doc.send(new ScanCommand({ TableName: source.table, ExclusiveStartKey: startKey, ConsistentRead: true }));
    for (const row of page.Items ?? []) {
      progress.scanned++;
      let copy: Record<string, unknown> | undefined;
      // The erasure tombstone too: deliveries naming an erased person after the rebuild stay pseudonymized.
      if (CONFIGURATION.has(String(row.sk)) || isDeliveryPart(row) || String(row.pk).endsWith('#ERASED')) {
        copy = row;
      } else if (row.sk === 'DLV') {
        // Pending again: on the queue at the time it was received (which lists it as pending), no
        // expiry until it is processed in the new table, and none of the index keys of old. Its
        // listing row (sk LIST) is not copied: the processor writes the new one.
        const { reason: _reason, processedAt: _processedAt, expiresAt: _expiresAt, ...delivery } = row;
        for (const name of LEGACY_INDEX_ATTRIBUTES) delete delivery[name];
        copy = {
          ...delivery,
          status: 'pending',
          attempts: 0,
          qpk: keys.queue.inbox,
          qsk: `${String(row.receivedAt)}#${String(row.pk)}`,
        };
        progress.deliveries++;
      }
      if (!copy) {
        progress.skipped++;
        continue;
      }
      try {
        await target.doc.send(new PutCommand({ TableName: target.table, Item: copy, ConditionExpression: 'attribute_not_exists(pk)' }));
        progress.copied++;
      } catch (error) {
        // Already copied by an earlier, interrupted run.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    onProgress?.(progress);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return progress;
};
