import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { githubExamples } from '../fixtures/github-examples.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { CopyTargetError, copyTable, outdatedIndexes } from '../../store/table-copy.ts';
import { createTableInput } from '../../store/table.ts';
import { killHard, startHubProcess } from '../support/hub-process.ts';
import { readAllRows } from '../support/table-rows.ts';
import { postGithub, settled, startTestHub, uniqueTable } from '../support/hub.ts';

const run = promisify(execFile);
const open = (table: string): Db => createDb({ endpoint: inject('dynamodbEndpoint'), table });

/** A table as it was created before any index narrowed its projection: every index holds every attribute. */
const tableWithWideIndexes = async (): Promise<string> => {
  const table = uniqueTable('wide');
  const input = createTableInput(table);
  const wide = { ...input, GlobalSecondaryIndexes: input.GlobalSecondaryIndexes!.map((index) => ({ ...index, Projection: { ProjectionType: 'ALL' as const } })) };
  await open(table).doc.send(new CreateTableCommand(wide));
  return table;
};

const contentOf = async (db: Db) =>
  (await readAllRows(db))
    .filter(({ row }) => row.pk !== 'COPY')
    .map(({ text }) => text)
    .sort();

describe('copying the index into a table with today’s indexes', () => {
  let source: string;
  let items: unknown[];
  let deliveries: unknown[];

  beforeAll(async () => {
    source = await tableWithWideIndexes();
    const original = await startTestHub({ env: { TRIBUTARY_TABLE: source } });
    try {
      const connection = await original.createConnection('github');
      for (const example of [...githubExamples('issues'), ...githubExamples('pull_request')].slice(0, 12)) {
        await postGithub(original.url, connection, example.event, example.payload);
      }
      await settled(original);
      items = (await original.api('GET', '/v1/items?includeDeleted=true&limit=200')).body.items;
      deliveries = (await original.api('GET', '/v1/deliveries?limit=200')).body.items;
    } finally {
      await original.close();
    }
    expect(items.length).toBeGreaterThan(0);
  });

  it('tells a table with wider indexes from one with today’s', async () => {
    expect(await outdatedIndexes(open(source))).toEqual(['queue']);
    const current = open(uniqueTable('current'));
    await ensureTable(current);
    expect(await outdatedIndexes(current)).toEqual([]);
  });

  it('copies every row as it is, continuing where a stopped run left off, and never runs a finished copy again', async () => {
    const target = open(uniqueTable('copy'));
    await ensureTable(target);
    const stopped = new Error('stopped after the first page');
    await expect(
      copyTable(open(source), target, {
        pageSize: 10,
        onProgress: () => {
          throw stopped;
        },
      }),
    ).rejects.toBe(stopped);

    const resumed = await copyTable(open(source), target, { pageSize: 10 });
    expect(resumed.done).toBe(true);
    const all = await contentOf(open(source));
    expect(resumed.copied).toBe(all.length - 10);
    expect(await contentOf(target)).toEqual(all);
    expect(await outdatedIndexes(target)).toEqual([]);

    // A hub on the copy writes to it; running the copy again must not bring back the rows of then.
    await target.doc.send(new PutCommand({ TableName: target.table, Item: { pk: 'T#ten_copy#NEWER', sk: 'ROW' } }));
    expect(await copyTable(open(source), target)).toEqual({ copied: 0, done: true });
    expect(await contentOf(target)).toHaveLength(all.length + 1);

    const copied = await startTestHub({ env: { TRIBUTARY_TABLE: target.table } });
    try {
      expect((await copied.api('GET', '/v1/items?includeDeleted=true&limit=200')).body.items).toEqual(items);
      expect((await copied.api('GET', '/v1/deliveries?limit=200')).body.items).toEqual(deliveries);
    } finally {
      await copied.close();
    }
  });

  it('refuses a target that holds rows of its own, or the copy of another table', async () => {
    const used = open(uniqueTable('used'));
    await ensureTable(used);
    await used.doc.send(new PutCommand({ TableName: used.table, Item: { pk: 'T#ten_other#ITEM#1', sk: 'ITEM' } }));
    await expect(copyTable(open(source), used)).rejects.toThrow(CopyTargetError);
    await expect(copyTable(open(source), used)).rejects.toThrow(/already holds rows/);

    const other = open(uniqueTable('other'));
    await ensureTable(other);
    const target = open(uniqueTable('copy'));
    await ensureTable(target);
    await copyTable(other, target);
    await expect(copyTable(open(source), target)).rejects.toThrow(`holds a copy of ${other.table}`);
  });

  it('is named by the hub at start, and moved by `npm run tributary -- copy`', async () => {
    const env = { DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'), TRIBUTARY_TABLE: source, TRIBUTARY_DATA_DIR: mkdtempSync(join(tmpdir(), 'tributary-copy-')) };
    const hub = await startHubProcess(env);
    await killHard(hub.child);
    expect(hub.output()).toContain(`The table ${source} was created when the queue index held more than it does now`);
    expect(hub.output()).toContain('npm run tributary -- copy --to <new table>');

    const to = uniqueTable('cli');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'functions/cli.ts', 'copy', '--to', to], { env: { ...process.env, ...env } });
    expect(stdout).toContain(`Done: every record of ${source} is in ${to}`);
    expect(stdout).toContain(`Start the hub with TRIBUTARY_TABLE=${to}`);
    expect(await outdatedIndexes(open(to))).toEqual([]);
    expect(await contentOf(open(to))).toEqual(await contentOf(open(source)));
  });
});
