import { summarize } from '../../../core/aggregates.ts';
import { readCounters } from '../../../store/aggregates.ts';
import type { Db } from '../../../store/db.ts';
import { type PersonRecord, canonicalResolver, listPersonRecords } from '../../../store/people.ts';

/** The counters with the open work of people merged into one counted once, under the person that stayed. */
export const foldCounters = (counters: Readonly<Record<string, number>>, people: readonly PersonRecord[]): Record<string, number> => {
  const canonical = canonicalResolver(people);
  const folded: Record<string, number> = {};
  for (const [key, n] of Object.entries(counters)) {
    const name = key.startsWith('open.owner:') ? `open.owner:${canonical(key.slice('open.owner:'.length))}` : key;
    folded[name] = (folded[name] ?? 0) + n;
  }
  return folded;
};

/** `GET /v1/views/summary`: the summary from the counters (one Query), owners merged into one person folded together. */
export const loadSummary = async (db: Db, tenantId: string, now: Date, staleAfterDays = 14) => {
  const [counters, people] = await Promise.all([readCounters(db, tenantId), listPersonRecords(db, tenantId)]);
  return summarize(foldCounters(counters, people), now, { staleAfterDays });
};
