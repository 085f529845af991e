import { gzipSync } from 'node:zlib';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { eventsForChange } from '../../core/events.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { applyChange } from '../../core/merge.ts';
import { type Db, SchemaVersionError, checkSchemaVersion, createDb, ensureTable } from '../../store/db.ts';
import { loadItem, saveItem, syncDerivedRows, withInboundRows } from '../../store/items.ts';
import { keys } from '../../store/keys.ts';
import { putPendingChange } from '../../store/references.ts';
import { upgradeSchema } from '../../store/schema-upgrade.ts';
import { facetPartitionsComplete, inboundMarkersComplete, schemaIsCurrent } from '../../store/schema-state.ts';
import { listItems } from '../../store/item-queries.ts';
import { personKeys } from '../../core/item-filter.ts';
import { SCHEMA_VERSION } from '../../store/table.ts';
import { at, githubPerson, link, upsert } from '../fixtures/work-items.ts';
import { startTestHub, uniqueTable } from '../support/hub.ts';

const TENANT = 'ten_upgrade';
const dependent = upsert({ ref: 'github:octo/api#1', links: [link('blocked_by', 'github:octo/api#2')] }, { linkOrigins: ['source_link'] });
const [DEPENDENT, BLOCKER, AWAITED] = ['github:octo/api#1', 'github:octo/api#2', 'github:octo/api#3'].map(itemIdForRef) as [string, string, string];

/** A fresh handle on the table: what a process started after the change would have. */
const reopen = (table: string): Db => createDb({ endpoint: inject('dynamodbEndpoint'), table });

const schemaRow = async (db: Db) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }))).Item;

/**
 * A table as schema version 2 left it: a reverse edge (the dependent's link, in the blocker's
 * partition) and a change kept for an item not indexed yet, without the inbound markers version 3
 * writes beside them.
 */
const versionTwoTable = async (): Promise<string> => {
  const table = uniqueTable('upgrade');
  const db = reopen(table);
  await ensureTable(db);
  const record = await loadItem(db, TENANT, DEPENDENT);
  const next = applyChange(record.item, dependent)!;
  await saveItem(db, record, next, eventsForChange(record.item, next, { tenantId: TENANT, causationKey: 'test#1', time: at(0) }));
  await syncDerivedRows(db, TENANT, next, record.item);
  await putPendingChange(db, TENANT, AWAITED, { causationKey: 'test#3', change: upsert({ ref: 'github:octo/api#3' }) }, new Date());
  for (const itemId of [BLOCKER, AWAITED]) await db.doc.send(new DeleteCommand({ TableName: table, Key: keys.inbound(TENANT, itemId) }));
  // Rows the upgrade reads past, enough for a scan interrupted after one page to show where it resumes.
  for (let n = 0; n < 30; n++) await db.doc.send(new PutCommand({ TableName: table, Item: { pk: `T#${TENANT}#OTHER`, sk: `ROW#${n}` } }));
  await db.doc.send(new PutCommand({ TableName: table, Item: { ...keys.schema(), version: 2 } }));
  return table;
};

describe('upgrading a schema version 2 table in place', () => {
  let table: string;
  beforeEach(async () => {
    table = await versionTwoTable();
  });

  it('is accepted at start and set to the current version at once, its marker scan pending; refused one version further back with the rebuild command', async () => {
    expect(await checkSchemaVersion(reopen(table))).toBe(2);
    expect(await schemaRow(reopen(table))).toMatchObject({ version: SCHEMA_VERSION, markersPending: true });
    expect(await schemaIsCurrent(reopen(table))).toBe(false);
    expect(await inboundMarkersComplete(reopen(table))).toBe(false);
    const old = reopen(table);
    await old.doc.send(new PutCommand({ TableName: table, Item: { ...keys.schema(), version: 1 } }));
    await expect(checkSchemaVersion(old)).rejects.toThrow(SchemaVersionError);
    await expect(checkSchemaVersion(old)).rejects.toThrow(/rebuild --to/);
    // A table a newer version wrote: this one says to run that one.
    await old.doc.send(new PutCommand({ TableName: table, Item: { ...keys.schema(), version: SCHEMA_VERSION + 1 } }));
    await expect(checkSchemaVersion(old)).rejects.toThrow(`schema version ${SCHEMA_VERSION + 1}, newer than this code's ${SCHEMA_VERSION}: run the version of Tributary that wrote it`);
  });

  it('treats every item as one others may link to until the upgrade is done', async () => {
    const ids = [DEPENDENT, BLOCKER, AWAITED];
    expect(await withInboundRows(reopen(table), TENANT, ids)).toEqual(new Set(ids));
  });

  it('writes the missing markers, then sets the version; afterwards only partitions with waiting rows have one', async () => {
    const progress = await upgradeSchema(reopen(table));
    expect(progress).toMatchObject({ done: true, markers: 2 });
    expect((await schemaRow(reopen(table)))?.version).toBe(SCHEMA_VERSION);
    expect((await schemaRow(reopen(table)))?.upgradeCursor).toBeUndefined();
    expect((await schemaRow(reopen(table)))?.markersPending).toBeUndefined();
    expect(await withInboundRows(reopen(table), TENANT, [DEPENDENT, BLOCKER, AWAITED])).toEqual(new Set([BLOCKER, AWAITED]));
    expect(await upgradeSchema(reopen(table))).toEqual({ scanned: 0, markers: 0, entries: 0, done: true });
  });

  it('is done by the local hub before it serves', async () => {
    const hub = await startTestHub({ env: { TRIBUTARY_TABLE: table } });
    try {
      expect((await schemaRow(reopen(table)))?.version).toBe(SCHEMA_VERSION);
      expect(await withInboundRows(reopen(table), TENANT, [DEPENDENT, BLOCKER])).toEqual(new Set([BLOCKER]));
    } finally {
      await hub.close();
    }
  });

  it('continues after an interruption from where the scan was, and stops at a deadline without finishing', async () => {
    const db = reopen(table);
    const rowsBefore = await countRows(table);
    expect(await upgradeSchema(db, { deadline: Date.now() - 1 })).toEqual({ scanned: 0, markers: 0, entries: 0, done: false });
    const crash = new Error('stopped after the first page');
    await expect(
      upgradeSchema(db, {
        pageSize: 10,
        onProgress: () => {
          throw crash;
        },
      }),
    ).rejects.toBe(crash);
    expect((await schemaRow(db))?.upgradeCursor).toBeDefined();
    expect(await schemaRow(db)).toMatchObject({ version: SCHEMA_VERSION, markersPending: true });
    expect(await inboundMarkersComplete(reopen(table))).toBe(false);

    const rest = await upgradeSchema(reopen(table), { pageSize: 10 });
    expect(rest.done).toBe(true);
    // Started over, it would read every row there was; resumed, it skips the first page's ten
    // (the first run's markers, written anywhere in scan order, add at most two).
    expect(rest.scanned).toBeLessThanOrEqual(rowsBefore - 10 + 2 + 2);
    expect(rest.scanned).toBeLessThan(rowsBefore);
    expect(await withInboundRows(reopen(table), TENANT, [BLOCKER, AWAITED])).toEqual(new Set([BLOCKER, AWAITED]));
  });
});

describe('upgrading a schema version 3 table in place', () => {
  /** A version 3 table: inbound markers in place, the item record as JSON with its event gzipped. */
  const versionThreeTable = async (): Promise<{ table: string; item: ReturnType<typeof applyChange> }> => {
    const table = uniqueTable('upgrade3');
    const db = reopen(table);
    await ensureTable(db);
    const record = await loadItem(db, TENANT, DEPENDENT);
    const item = applyChange(record.item, dependent)!;
    const [event] = eventsForChange(record.item, item, { tenantId: TENANT, causationKey: 'test#1', time: at(0) });
    await db.doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...keys.item(TENANT, DEPENDENT), tenantId: TENANT, doc: JSON.stringify(item), rev: 1, pending: { [event!.id]: { seq: 0, event: gzipSync(JSON.stringify(event)) } } },
      }),
    );
    await db.doc.send(new PutCommand({ TableName: table, Item: { ...keys.schema(), version: 3 } }));
    return { table, item };
  };

  it('is set to the current version at start, before anything is written, with only the entries to move; the records written before are read', async () => {
    const { table, item } = await versionThreeTable();
    expect(await inboundMarkersComplete(reopen(table))).toBe(true);
    expect(await schemaIsCurrent(reopen(table))).toBe(false);
    expect(await checkSchemaVersion(reopen(table))).toBe(3);
    expect(await schemaRow(reopen(table))).toEqual({ ...keys.schema(), version: SCHEMA_VERSION, facetsPending: true });
    expect(await upgradeSchema(reopen(table))).toMatchObject({ markers: 0, entries: 0, done: true });
    expect(await schemaRow(reopen(table))).toEqual({ ...keys.schema(), version: SCHEMA_VERSION });
    expect(await schemaIsCurrent(reopen(table))).toBe(true);
    const record = await loadItem(reopen(table), TENANT, DEPENDENT);
    expect(record.item).toEqual(item);
    expect(record.pending.map((p) => p.event.type)).toEqual(['work.item.created']);
  });
});

describe('upgrading a schema version 4 table in place', () => {
  const owner = githubPerson('ana', 7);
  const item = applyChange(undefined, upsert({ ref: 'github:octo/api#4', owners: [owner], labels: ['bug'], updatedAt: at(5) }))!;

  /** A version 4 table: the item, and its owner and label rows in its own partition, listed on gsi1 as version 4 wrote them. */
  const versionFourTable = async (): Promise<string> => {
    const table = uniqueTable('upgrade4');
    const db = reopen(table);
    await ensureTable(db);
    await saveItem(db, await loadItem(db, TENANT, item.id), item, []);
    const legacyRows = [...personKeys(owner).map((value) => ['owner', value] as const), ['label', 'bug'] as const].map(([name, value]) => ({
      pk: keys.item(TENANT, item.id).pk,
      sk: keys.legacyFacetSk(name, value),
      gsi1pk: keys.itemsByFacet(TENANT, name, value),
      gsi1sk: keys.byUpdated(item.updatedAt, item.id),
      itemId: item.id,
      src: 'github',
    }));
    for (const row of legacyRows) await db.doc.send(new PutCommand({ TableName: table, Item: row }));
    await db.doc.send(new PutCommand({ TableName: table, Item: { ...keys.schema(), version: 4 } }));
    return table;
  };
  const listedBy = async (db: Db, filter: { owner?: string; label?: string }) => (await listItems(db, TENANT, filter, { limit: 10 })).items.map((i) => i.id);

  it('lists by owner and label from the other indexes until the entries have moved, then from their partitions', async () => {
    const table = await versionFourTable();
    expect(await checkSchemaVersion(reopen(table))).toBe(4);
    expect(await schemaRow(reopen(table))).toMatchObject({ version: SCHEMA_VERSION, facetsPending: true });
    expect(await facetPartitionsComplete(reopen(table))).toBe(false);
    expect(await listedBy(reopen(table), { owner: 'github:ana' })).toEqual([item.id]);
    expect(await listedBy(reopen(table), { label: 'bug' })).toEqual([item.id]);

    const progress = await upgradeSchema(reopen(table));
    expect(progress).toMatchObject({ done: true, entries: personKeys(owner).length + 1 });
    const db = reopen(table);
    expect(await facetPartitionsComplete(db)).toBe(true);
    const rows = await scanAll(table);
    expect(rows.filter((row) => String(row.sk).startsWith(keys.legacyFacetPrefix))).toEqual([]);
    expect(rows.filter((row) => row.pk === keys.itemsByFacet(TENANT, 'label', 'bug'))).toEqual([
      { ...keys.facetEntry(TENANT, 'label', 'bug', item.updatedAt, item.id), itemId: item.id, src: 'github' },
    ]);
    expect(await listedBy(db, { owner: 'github:ana' })).toEqual([item.id]);
    expect(await listedBy(db, { label: 'bug' })).toEqual([item.id]);
  });

  it('skips an entry older than its item, and deletes it: one moved after the item changed, or left by a re-run', async () => {
    const table = await versionFourTable();
    const db = reopen(table);
    await upgradeSchema(db);
    const stale = keys.facetEntry(TENANT, 'label', 'bug', at(1), item.id);
    await db.doc.send(new PutCommand({ TableName: table, Item: { ...stale, itemId: item.id } }));
    expect(await listedBy(db, { label: 'bug' })).toEqual([item.id]);
    expect((await db.doc.send(new GetCommand({ TableName: table, Key: stale, ConsistentRead: true }))).Item).toBeUndefined();
    expect(await listedBy(db, { label: 'bug' })).toEqual([item.id]);
  });
});

/** Every row of the table, read by a full scan. */
const scanAll = async (table: string): Promise<Record<string, unknown>[]> => {
  const db = reopen(table);
  const rows: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    rows.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
};

/** Every row of the table, counted by a full scan. */
const countRows = async (table: string): Promise<number> => {
  const db = reopen(table);
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: startKey }));
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
};
