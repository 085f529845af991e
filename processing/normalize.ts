import * as z from 'zod';
import type { Normalized } from '../core/changes.ts';
import type { NormalizeContext } from '../core/connector.ts';
import { clip } from '../core/clip.ts';
import { candidateHashes, pseudonymizeChanges, scrubBody, termsOf } from '../core/erasure.ts';
import { withinTextBounds } from '../core/text-bounds.ts';
import { getConnection } from '../store/connections.ts';
import { rewriteDeliveryBody } from '../store/erasure-rewrites.ts';
import { lookupTombstone } from '../store/erasures.ts';
import type { StoredDelivery } from '../store/inbox.ts';
import type { ProcessDeps } from './deps.ts';
import { referenceDirectoryFor } from './references.ts';

/** What normalizing a stored delivery gave: changes, a reason to ignore it, or why it cannot be processed. */
export type Renormalized = Normalized | { outcome: 'failed'; reason: string };

/**
 * A reason is stored on the delivery record, whose size DynamoDB caps: a message that quotes a
 * mutated payload's value (a megabyte string where a date belongs) is cut to a readable length.
 */
const ISSUE_MAX = 300;
const REASON_MAX = 4000;

/** Why a payload could not be normalized, precise enough for an operator to act on. */
export const describeFailure = (error: unknown): string =>
  clip(
    error instanceof z.ZodError
      ? error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${clip(i.message, ISSUE_MAX)}`).join('; ')
      : error instanceof Error
        ? error.message
        : String(error),
    REASON_MAX,
  );

/**
 * Normalizes a stored delivery with the current connector in its context ({@link contextOf}),
 * without pseudonymizing it yet. A normalizer that throws gives `failed` with the reason (for a zod
 * error, the path of each bad field), as does a body this version cannot read (store/body-codec.ts:
 * retried after an upgrade).
 */
const normalizeOnly = async (deps: ProcessDeps, delivery: StoredDelivery, context: NormalizeContext): Promise<Renormalized> => {
  if (delivery.unreadable) return { outcome: 'failed', reason: delivery.unreadable };
  const connector = deps.connectors.get(delivery.source);
  if (!connector) return { outcome: 'failed', reason: `No connector for source ${delivery.source}` };
  try {
    return await connector.normalize(delivery, context);
  } catch (error) {
    return { outcome: 'failed', reason: describeFailure(error) };
  }
};

/** What a delivery is normalized with: its connection's current settings and the tenant's Jira knowledge (store reads, thrown on failure). */
const contextOf = async (deps: ProcessDeps, delivery: StoredDelivery): Promise<NormalizeContext> => {
  const references = deps.references ?? referenceDirectoryFor(deps.db);
  const [connection, jira] = await Promise.all([
    deps.connections ? deps.connections.get(delivery.connectionId) : getConnection(deps.db, delivery.connectionId),
    references.jiraContext(delivery.tenantId),
  ]);
  return { connection: { id: delivery.connectionId, settings: connection?.settings ?? {} }, jiraProjects: jira.jiraProjects, jiraSites: jira.jiraSites };
};

/**
 * Normalizes deliveries of one batch: each with the current connector and context, then every
 * person they name looked up in the erasure tombstones at once (one strongly consistent read per
 * tenant and batch), so erased people stay erased in new deliveries, retries and replays alike. When
 * a delivery named an erased person in clear, its stored raw body is rewritten too, so a replay
 * never brings the identifiers back. Free text is then clipped to the item's bounds
 * (core/text-bounds.ts): after pseudonymizing, so that no address is cut before it is recognized.
 * Store errors are thrown, to retry the batch.
 */
export const normalizeDeliveries = async (
  deps: ProcessDeps,
  deliveries: readonly StoredDelivery[],
): Promise<(Renormalized & { bodyRewritten?: true })[]> => {
  // Contexts read at once; then one delivery at a time, giving the event loop back between them where asked to.
  const contexts = await Promise.all(deliveries.map((delivery) => contextOf(deps, delivery)));
  const normalized: Renormalized[] = [];
  for (const [i, delivery] of deliveries.entries()) {
    await deps.yieldEventLoop?.();
    normalized.push(await normalizeOnly(deps, delivery, contexts[i]!));
  }
  const hashesByTenant = new Map<string, Set<string>>();
  normalized.forEach((n, i) => {
    if (n.outcome !== 'changes') return;
    const tenantId = deliveries[i]!.tenantId;
    const hashes = hashesByTenant.get(tenantId) ?? new Set();
    for (const hash of candidateHashes(tenantId, n.changes)) hashes.add(hash);
    hashesByTenant.set(tenantId, hashes);
  });
  const found = new Map(await Promise.all([...hashesByTenant].map(async ([tenantId, hashes]) => [tenantId, await lookupTombstone(deps.db, tenantId, [...hashes])] as const)));
  return Promise.all(
    normalized.map(async (n, i) => {
      if (n.outcome !== 'changes') return n;
      const delivery = deliveries[i]!;
      const tombstones = found.get(delivery.tenantId)!;
      const pseudonymized = pseudonymizeChanges(delivery.tenantId, n.changes, (hash) => tombstones.get(hash));
      const changes = pseudonymized.changes.map(withinTextBounds);
      if (pseudonymized.recognized.length > 0) {
        const terms = termsOf(delivery.tenantId, pseudonymized.recognized);
        await rewriteDeliveryBody(deps.db, delivery.pk, (body) => scrubBody(body, terms), new Date().toISOString());
        return { ...n, changes, bodyRewritten: true as const };
      }
      return { ...n, changes };
    }),
  );
};

/** {@link normalizeDeliveries} for one delivery: what a replay does again after rules changed. */
export const normalizeStored = async (deps: ProcessDeps, delivery: StoredDelivery): Promise<Renormalized> =>
  (await normalizeDeliveries(deps, [delivery]))[0]!;
