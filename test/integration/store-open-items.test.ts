import { beforeAll, describe, expect, inject, it } from 'vitest';
import { applyChange } from '../../core/merge.ts';
import type { StatusCategory } from '../../core/work-item.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { loadItem, saveItem } from '../../store/items.ts';
import { listTenantIds } from '../../store/hub-stats.ts';
import { listOpenItems } from '../../store/open-items.ts';
import { markTenantPurging } from '../../store/tenant-purge.ts';
import { createTenant } from '../../store/tenants.ts';
import { at, upsert } from '../fixtures/work-items.ts';
import { uniqueTable } from '../support/hub.ts';

/** Writes an item record the way the processor does, in a status category; no derived rows. */
const writeItem = async (db: Db, tenantId: string, number: number, category: StatusCategory, minutes = number) => {
  const change = upsert({
    ref: `github:octo/api#${number}`,
    url: `https://github.com/octo/api/issues/${number}`,
    status: { name: category, category },
    updatedAt: at(minutes),
  });
  const item = applyChange(undefined, change)!;
  await saveItem(db, await loadItem(db, tenantId, item.id), item, []);
  return item.id;
};

/** Every item a walk with pages of `pageSize` visits, as the alert sweep walks (each page after the last one's key). */
const walk = async (db: Db, pageSize: number) => {
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listOpenItems(db, await listTenantIds(db), pageSize, after);
    seen.push(...page.map((ref) => `${ref.tenantId}/${ref.itemId}`));
    if (page.length < pageSize) return seen;
    after = page.at(-1)!.key;
  }
};

describe('open items of every tenant (the alert sweep\'s walk)', () => {
  let db: Db;
  const open: string[] = [];

  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('open') });
    await ensureTable(db);
    await createTenant(db, { id: 'ten_b', name: 'B', createdAt: at(0) });
    await createTenant(db, { id: 'ten_a', name: 'A', createdAt: at(1) });
    await createTenant(db, { id: 'ten_gone', name: 'deleted', createdAt: at(2) });
    await markTenantPurging(db, 'ten_gone', at(3), 'job_purge');
    // Tenants by id, then open categories in their order (backlog, todo, in_progress, in_review, blocked), then update time.
    const a1 = await writeItem(db, 'ten_a', 1, 'in_review');
    const a2 = await writeItem(db, 'ten_a', 2, 'todo', 30);
    const a3 = await writeItem(db, 'ten_a', 3, 'todo', 20);
    await writeItem(db, 'ten_a', 4, 'done');
    await writeItem(db, 'ten_a', 5, 'cancelled');
    const b6 = await writeItem(db, 'ten_b', 6, 'blocked');
    const b7 = await writeItem(db, 'ten_b', 7, 'backlog');
    await writeItem(db, 'ten_gone', 8, 'todo');
    open.push(...[a3, a2, a1].map((id) => `ten_a/${id}`), ...[b7, b6].map((id) => `ten_b/${id}`));
  });

  it('lists the open items of every tenant not deleted, none that is done or cancelled, each once', async () => {
    expect(await walk(db, 100)).toEqual(open);
  });

  it('goes on after any page\'s last key, whatever the page size: across categories and tenants', async () => {
    for (const pageSize of [1, 2, 3]) expect(await walk(db, pageSize), `pages of ${pageSize}`).toEqual(open);
  });

  it('starts from the beginning after a cursor it did not write (the former listing\'s `{tenant}#{item}`)', async () => {
    const page = await listOpenItems(db, await listTenantIds(db), 2, 'ten_a#itm_x');
    expect(page.map((ref) => `${ref.tenantId}/${ref.itemId}`)).toEqual(open.slice(0, 2));
  });
});
