import type { Normalized } from '../core/changes.ts';
import { candidateHashes, pseudonymizeChanges, scrubBody, termsOf } from '../core/erasure.ts';
import type { Db } from '../store/db.ts';
import { rewriteDeliveryBody } from '../store/erasure-rewrites.ts';
import { lookupTombstone } from '../store/erasures.ts';

/**
 * Erased people stay erased: the changes of a delivery (a new one, a retry, a replay, a backfill
 * page) are pseudonymized before they are applied. The tombstone is asked once per delivery that
 * names people, strongly consistent, so every process applies an erasure from its next delivery.
 * When the delivery named an erased person in clear, its stored raw body is rewritten too, so a
 * replay never brings the identifiers back.
 */
export const pseudonymizeNormalized = async (
  db: Db,
  delivery: { pk: string; tenantId: string; receivedAt: string },
  normalized: Normalized,
): Promise<Normalized> => {
  if (normalized.outcome !== 'changes') return normalized;
  const found = await lookupTombstone(db, delivery.tenantId, candidateHashes(delivery.tenantId, normalized.changes));
  const { changes, recognized } = pseudonymizeChanges(delivery.tenantId, normalized.changes, (hash) => found.get(hash));
  if (recognized.length > 0) {
    const terms = termsOf(delivery.tenantId, recognized);
    await rewriteDeliveryBody(db, delivery.pk, (body) => scrubBody(body, terms), new Date().toISOString());
  }
  return { ...normalized, changes };
};
