import { type BlockedChain, longestBlockedChains } from '../core/blocked-chains.ts';
import { readBlockingGraph } from '../store/blocked.ts';
import type { Db } from '../store/db.ts';
import { snapshotOf } from '../store/view-snapshots.ts';

/** Blocked items read at most: the cost grows with blocked work, never with the index. */
const MAX_BLOCKED = 2000;

/**
 * How old the overview's chains may be. They read all blocked work, and the overview is the page
 * every leader opens first (and reloads): one computation per tenant per this many seconds, shared
 * by every API instance, as the bottleneck view does.
 */
export const BLOCKED_CHAINS_MAX_AGE_SECONDS = 15;

/**
 * The longest blocking chains of a tenant for the overview page, from the blocking graph of its
 * blocked work (store/blocked.ts), served from a snapshot at most `maxAgeSeconds` old (0: computed now).
 */
export const loadBlockedChains = async (
  db: Db,
  tenantId: string,
  now: Date,
  options: { limit?: number; maxAgeSeconds?: number } = {},
): Promise<BlockedChain[]> => {
  const limit = options.limit ?? 5;
  const request = { tenantId, view: 'blocked-chains', parameters: { limit }, maxAgeSeconds: options.maxAgeSeconds ?? BLOCKED_CHAINS_MAX_AGE_SECONDS, now };
  const snapshot = await snapshotOf(db, request, async () => {
    const { blockedBy, items } = await readBlockingGraph(db, tenantId, MAX_BLOCKED);
    return longestBlockedChains(blockedBy, items, limit);
  });
  return snapshot.view;
};
