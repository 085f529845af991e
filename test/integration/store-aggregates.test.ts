import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { contributionOf, sumContributions } from '../../core/aggregates.ts';
import { applyChange } from '../../core/merge.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { readCounters, recordContribution, repairAggregates } from '../../store/aggregates.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { at, githubPerson, seededRandom, shuffled, upsert } from '../fixtures/work-items.ts';
import { listQueued } from '../../store/queue.ts';
import { uniqueTable } from '../support/hub.ts';
import { ProcessKilledError, installKillSwitch } from '../support/kill-switch.ts';

const NOW = new Date('2024-01-10T00:00:00.000Z');
const nonZero = (counters: Record<string, number>) => Object.fromEntries(Object.entries(counters).filter(([, n]) => n !== 0));

/** Successive versions of one item: todo → in progress (owned) → done. */
const history = (n: number): WorkItem[] => {
  const ref = `github:octo/api#${n}`;
  const changes = [
    upsert({ ref, updatedAt: at(1) }),
    upsert({ ref, updatedAt: at(2), status: { name: 'open', category: 'in_progress' }, owners: [githubPerson('alice', 1)] }),
    upsert({ ref, updatedAt: at(3), status: { name: 'closed', category: 'done' }, closedAt: at(3), owners: [githubPerson('alice', 1)] }),
  ];
  const versions: WorkItem[] = [];
  let item: WorkItem | undefined;
  for (const change of changes) {
    item = applyChange(item, change) ?? item;
    versions.push(item!);
  }
  return versions;
};

describe('summary counters', () => {
  let db: Db;
  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('agg') });
    await ensureTable(db);
  });

  it('end at the latest versions whatever the order, duplication and concurrency of the updates', async () => {
    const tenant = 'ten_order';
    const items = Array.from({ length: 12 }, (_, n) => history(n + 1));
    // Every version three times, shuffled, eight at a time.
    const updates = shuffled(items.flat().flatMap((v) => [v, v, v]), seededRandom(3));
    for (let i = 0; i < updates.length; i += 8) {
      await Promise.all(updates.slice(i, i + 8).map((item) => recordContribution(db, tenant, item, NOW)));
    }
    const expected = sumContributions(items.map((versions) => contributionOf(versions.at(-1))));
    expect(nonZero(await readCounters(db, tenant))).toEqual(expected);
    expect(expected).toMatchObject({ all: 12, 'status:done': 12 });
  });

  it('count a deleted item no more', async () => {
    const tenant = 'ten_deleted';
    const [first] = history(1);
    await recordContribution(db, tenant, first!, NOW);
    await recordContribution(db, tenant, { ...first!, version: first!.version + 1, deleted: { at: at(9), reason: 'deleted' } }, NOW);
    expect(nonZero(await readCounters(db, tenant))).toEqual({});
  });

  it('are recomputed exactly from the contributions by the repair', async () => {
    const tenant = 'ten_repair';
    for (const versions of [history(1), history(2)]) await recordContribution(db, tenant, versions[1]!, NOW);
    const before = await readCounters(db, tenant);
    expect(await repairAggregates(db, tenant, { now: NOW, graceMs: 0 })).not.toContain('conflict');
    expect(nonZero(await readCounters(db, tenant))).toEqual(nonZero(before));
  });

  it('leave a delta a crash lost to the repair, even once a later version has moved the counters', async () => {
    const tenant = 'ten_crash';
    const [first, second] = history(3);
    // The process dies after swapping the contribution row, before its ADD reaches the shard.
    const killSwitch = installKillSwitch(db, { limit: 1 });
    await expect(recordContribution(db, tenant, first!, NOW)).rejects.toThrow(ProcessKilledError);
    killSwitch.remove();
    await recordContribution(db, tenant, second!, NOW);
    expect((await listQueued(db, 'aggregates', { limit: 1_000 })).filter((r) => r.tenantId === tenant)).toHaveLength(1);
    expect(await repairAggregates(db, tenant, { now: new Date(NOW.getTime() + 1_000), graceMs: 0 })).not.toContain('conflict');
    expect(nonZero(await readCounters(db, tenant))).toEqual(nonZero(sumContributions([contributionOf(second!)])));
    expect((await listQueued(db, 'aggregates', { limit: 1_000 })).filter((r) => r.tenantId === tenant)).toEqual([]);
  });
});
