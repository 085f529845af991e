import { eventsForChange } from '../core/events.ts';
import { applyChange } from '../core/merge.ts';
import { personIdFor } from '../core/ids.ts';
import type { StatusCategory, WorkItem } from '../core/work-item.ts';
import { batchWrite } from '../store/batch.ts';
import type { Db } from '../store/db.ts';
import { facetRowsOf, incomingEdgeRowsOf, itemRecordOf, pendingOf } from '../store/items.ts';

const STATUSES: StatusCategory[] = ['todo', 'in_progress', 'in_review', 'done', 'blocked', 'cancelled', 'backlog'];
const REPOS = Array.from({ length: 40 }, (_, i) => `acme/service-${i}`);
const PEOPLE = Array.from({ length: 200 }, (_, i) => ({
  id: personIdFor(`github:${i}`),
  name: `Person ${i}`,
  handles: [{ source: 'github' as const, handle: `person${i}`, externalId: String(i) }],
  emails: [`person${i}@acme.example`],
}));

/** Item `n` of a synthetic but pipeline-shaped index: repos, owners, labels and blockers spread evenly. */
export const syntheticItem = (n: number): WorkItem => {
  const repo = REPOS[n % REPOS.length]!;
  const at = new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString();
  return applyChange(undefined, {
    op: 'upsert',
    linkOrigins: ['closing_keyword', 'key_mention', 'branch_name'],
    item: {
      ref: `github:${repo}#${n}`,
      source: 'github',
      kind: n % 3 === 0 ? 'pull_request' : 'issue',
      title: `Item ${n}: make the checkout flow faster`,
      url: `https://github.com/${repo}/issues/${n}`,
      container: { source: 'github', key: repo, name: repo },
      status: { name: 'open', category: STATUSES[n % STATUSES.length]! },
      priority: { level: n % 10 === 0 ? 'high' : 'none' },
      owners: n % 4 === 0 ? [] : [PEOPLE[n % PEOPLE.length]!],
      requester: PEOPLE[(n * 7) % PEOPLE.length],
      labels: [n % 2 ? 'feature' : 'bug', `area-${n % 12}`],
      createdAt: at,
      updatedAt: at,
      links: n > 10 && n % 5 === 0 ? [{ type: 'blocked_by', target: `github:${REPOS[(n - 5) % REPOS.length]}#${n - 5}`, origin: 'key_mention', confidence: 0.9 }] : [],
    },
  })!;
};

/** The events an item's record holds after the write that created it (processing keeps them there until the next write). */
const createdEvents = (tenantId: string, item: WorkItem) =>
  pendingOf(tenantId, item.id, 1, eventsForChange(undefined, item, { tenantId, causationKey: `seed#${item.ref}`, time: item.updatedAt }));

/** Writes items `from`..`to` (exclusive) straight to the store in batches, as the processor would leave them. */
export const seedItems = async (db: Db, tenantId: string, from: number, to: number, onProgress?: (done: number) => void) => {
  const CHUNK = 500;
  for (let start = from; start < to; start += CHUNK) {
    const items = Array.from({ length: Math.min(CHUNK, to - start) }, (_, i) => syntheticItem(start + i));
    await batchWrite(
      db,
      items.flatMap((item) => [itemRecordOf(tenantId, item, 1, createdEvents(tenantId, item)), ...facetRowsOf(tenantId, item), ...incomingEdgeRowsOf(tenantId, item)].map((Item) => ({ PutRequest: { Item } }))),
    );
    onProgress?.(start + items.length);
  }
};
