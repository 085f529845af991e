import { gunzipSync, gzipSync } from 'node:zlib';
import { marshall } from '@aws-sdk/util-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { eventsForChange } from '../../core/events.ts';
import { applyChange } from '../../core/merge.ts';
import { VersionConflictError } from '../../core/errors.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { listItems } from '../../store/item-queries.ts';
import { itemDocJson } from '../../store/item-codec.ts';
import { storedEventJson } from '../../store/stored-event.ts';
import { itemSize } from '../../store/write-meter.ts';
import { listSubjectEvents, unlogged, writeEventLog } from '../../store/event-log.ts';
import { keys } from '../../store/keys.ts';
import { loadItem, loadItemWithIncoming, saveItem, syncDerivedRows } from '../../store/items.ts';
import { at, githubPerson, link, upsert } from '../fixtures/work-items.ts';
import { uniqueTable } from '../support/hub.ts';

const TENANT = 'ten_store';

/** Writes an item the way the processor does: merge, save with events, derived rows. */
const write = async (db: Db, change: ReturnType<typeof upsert>): Promise<WorkItem> => {
  const record = await loadItem(db, TENANT, applyChange(undefined, change)!.id);
  const next = applyChange(record.item, change)!;
  await saveItem(db, record, next, eventsForChange(record.item, next, { tenantId: TENANT, causationKey: `test#${next.ref}#${next.version}`, time: at(0) }));
  await syncDerivedRows(db, TENANT, next, record.item);
  return next;
};

const allPages = async (db: Db, filter: Parameters<typeof listItems>[2], limit: number) => {
  const refs: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listItems(db, TENANT, filter, { limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    refs.push(...page.items.map((i) => i.ref));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return refs;
};

describe('the item store', () => {
  let db: Db;
  const alice = githubPerson('alice', 1);
  const bob = githubPerson('bob', 2);

  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('items') });
    await ensureTable(db);
    for (let n = 1; n <= 30; n++) {
      await write(
        db,
        upsert({
          ref: `github:octo/${n % 2 ? 'api' : 'web'}#${n}`,
          container: { source: 'github', key: `octo/${n % 2 ? 'api' : 'web'}` },
          updatedAt: at(n),
          owners: n % 3 === 0 ? [alice] : n % 5 === 0 ? [alice, bob] : [],
          labels: n % 4 === 0 ? ['infra'] : ['feature'],
          status: { name: 'open', category: n % 2 ? 'todo' : 'in_review' },
        }),
      );
    }
  });

  it('lists newest updated first across pages without gaps or repeats', async () => {
    const refs = await allPages(db, {}, 7);
    expect(refs).toHaveLength(30);
    expect(new Set(refs).size).toBe(30);
    expect(refs[0]).toBe('github:octo/web#30');
    expect(refs.at(-1)).toBe('github:octo/api#1');
  });

  it('filters by owner through one index row per owner, by handle or person id', async () => {
    const byHandle = await allPages(db, { owner: 'github:bob' }, 2);
    expect(byHandle.sort()).toEqual(['github:octo/api#25', 'github:octo/api#5', 'github:octo/web#10', 'github:octo/web#20'].sort());
    expect(await allPages(db, { owner: bob.id }, 50)).toEqual(await allPages(db, { owner: 'GitHub:Bob' }, 50));
  });

  it('filters by label, container, status and combinations', async () => {
    expect(await allPages(db, { label: 'infra' }, 3)).toHaveLength(7);
    expect(await allPages(db, { container: 'github:octo/api' }, 4)).toHaveLength(15);
    expect(await allPages(db, { status: 'in_review', label: 'infra' }, 50)).toHaveLength(7);
    expect(await allPages(db, { container: 'github:octo/web', owner: 'github:alice' }, 50)).toHaveLength(7);
    expect(await allPages(db, { updatedSince: at(26) }, 2)).toHaveLength(5);
  });

  it('never returns an item through an index row it no longer matches', async () => {
    const item = await write(db, upsert({ ref: 'github:octo/api#99', updatedAt: at(100), owners: [bob], labels: ['legacy'] }));
    // A crash after the item write left the old index rows behind: simulate by not deleting them.
    const record = await loadItem(db, TENANT, item.id);
    const moved = applyChange(record.item, upsert({ ref: 'github:octo/api#99', updatedAt: at(101), owners: [], labels: [] }))!;
    await saveItem(db, record, moved, []);
    await syncDerivedRows(db, TENANT, moved, undefined);
    expect(await allPages(db, { owner: 'github:bob' }, 50)).not.toContain('github:octo/api#99');
    expect(await allPages(db, { label: 'legacy' }, 50)).toEqual([]);
  });

  it('refuses a write based on a stale read (optimistic concurrency)', async () => {
    const change = upsert({ ref: 'github:octo/api#200', updatedAt: at(1) });
    await write(db, change);
    const stale = await loadItem(db, TENANT, applyChange(undefined, change)!.id);
    const first = applyChange(stale.item, upsert({ ref: 'github:octo/api#200', updatedAt: at(2), title: 'first' }))!;
    const second = applyChange(stale.item, upsert({ ref: 'github:octo/api#200', updatedAt: at(3), title: 'second' }))!;
    await saveItem(db, stale, first, []);
    await expect(saveItem(db, stale, second, [])).rejects.toBeInstanceOf(VersionConflictError);
  });

  it('keeps the events of a write with the item, and carries those without a log row into the next write', async () => {
    const item = await write(db, upsert({ ref: 'github:octo/api#300', updatedAt: at(1), links: [link('blocked_by', 'github:octo/api#301', 'key_mention', 0.9)] }));
    const record = await loadItem(db, TENANT, item.id);
    expect(record.pending.map((e) => e.event.type)).toEqual(['work.item.created', 'work.link.added']);
    // A crash before the log rows: both are unlogged; once the first is logged, only the second is carried.
    expect(await unlogged(db, record.pending)).toEqual(record.pending);
    await writeEventLog(db, [record.pending[0]!]);
    const carried = await unlogged(db, record.pending);
    expect(carried.map((e) => e.event.type)).toEqual(['work.link.added']);
    const next = applyChange(record.item, upsert({ ref: 'github:octo/api#300', updatedAt: at(2), title: 'x' }))!;
    const written = await saveItem(db, record, next, eventsForChange(record.item, next, { tenantId: TENANT, causationKey: 'x', time: at(2) }), carried);
    expect(written.map((e) => e.event.type)).toEqual(['work.link.added', 'work.item.updated', 'work.link.removed']);
    expect((await loadItem(db, TENANT, item.id)).pending).toEqual(written);
    await expect(saveItem(db, record, next, [])).rejects.toBeInstanceOf(VersionConflictError);
  });

  it('stores the item deflated with its dictionary and its events against the item, under 1 KB for a new issue, and reads records written before', async () => {
    const item = await write(db, upsert({ ref: 'github:octo/api#310', updatedAt: at(1), title: 'compressed', owners: [githubPerson('octocat', 583231)], labels: ['bug'] }));
    const raw = async (key: { pk: string; sk: string }) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: key }))).Item!;
    const row = await raw(keys.item(TENANT, item.id));
    const [stored] = Object.values(row.pending as Record<string, { event: Uint8Array; cursor?: string }>);
    const record = await loadItem(db, TENANT, item.id);
    expect(row.doc).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(itemDocJson(row.doc))).toEqual(item);
    expect(JSON.parse(storedEventJson(stored!.event, itemDocJson(row.doc)))).toEqual(record.pending[0]!.event);
    expect(stored!.cursor).toBeUndefined(); // the cursor its seq gives
    // One write unit in the table and in each index that copies the record whole.
    expect(itemSize(marshall(row, { convertClassInstanceToMap: true }) as never)).toBeLessThan(1024);
    await writeEventLog(db, record.pending);
    const logged = await raw(keys.logEntry(TENANT, record.pending[0]!.cursor.slice(0, 10), record.pending[0]!.cursor));
    expect(JSON.parse(gunzipSync(logged.evt as Uint8Array).toString('utf8'))).toEqual(record.pending[0]!.event);

    // As written before: the item as JSON text, its event gzipped; before that, the event as JSON text with its cursor.
    const { event, cursor } = record.pending[0]!;
    const gzipped = { [event.id]: { seq: 0, event: gzipSync(JSON.stringify(event)), cursor } };
    await db.doc.send(new UpdateCommand({ TableName: db.table, Key: keys.item(TENANT, item.id), UpdateExpression: 'SET doc = :d, pending = :p', ExpressionAttributeValues: { ':d': JSON.stringify(item), ':p': gzipped } }));
    const before = await loadItem(db, TENANT, item.id);
    expect(before.item).toEqual(item);
    expect(before.pending).toEqual([{ event, cursor }]);
    expect((await listItems(db, TENANT, {}, { limit: 50 })).items.find((listed) => listed.id === item.id)).toEqual({ ...item, blocked: false });
    await db.doc.send(new UpdateCommand({ TableName: db.table, Key: keys.item(TENANT, item.id), UpdateExpression: 'SET pending = :p', ExpressionAttributeValues: { ':p': { [event.id]: { seq: 0, event: JSON.stringify(event), cursor } } } }));
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...logged, evt: JSON.stringify(event) } }));
    expect((await loadItem(db, TENANT, item.id)).pending).toEqual([{ event, cursor }]);
    expect((await listSubjectEvents(db, TENANT, event.subject, { limit: 10 })).items).toEqual([{ event, cursor }]);
  });

  it('stores a reverse edge at a link target that is not indexed yet', async () => {
    const item = await write(db, upsert({ ref: 'github:octo/api#400', updatedAt: at(1), links: [link('blocked_by', 'github:octo/api#401', 'key_mention', 0.9)] }));
    const target = await loadItemWithIncoming(db, TENANT, applyChange(undefined, upsert({ ref: 'github:octo/api#401' }))!.id);
    expect(target.item).toBeUndefined();
    expect(target.incoming).toEqual([{ fromId: item.id, from: item.ref, link: item.links[0] }]);
  });
});
