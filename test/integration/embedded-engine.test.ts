import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { batchGet, batchWrite } from '../../store/batch.ts';
import { createDb, ensureTable } from '../../store/db.ts';
import { type EmbeddedEngine, startEmbeddedEngine } from '../../store/embedded-engine.ts';

/** The table files under `dir` that this process has mapped into memory (LevelDB maps the ones it keeps open). */
const mappedTableFiles = (dir: string): Set<string> =>
  new Set(
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/).slice(5).join(' '))
      .filter((path) => path.startsWith(dir) && path.endsWith('.ldb')),
  );

const tableFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.ldb'));

describe('the embedded engine on a data directory', () => {
  const dirs: string[] = [];
  const engines: EmbeddedEngine[] = [];
  const start = async (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `tributary-engine-${name}-`));
    dirs.push(dir);
    const engine = await startEmbeddedEngine({ path: dir });
    engines.push(engine);
    const db = createDb({ endpoint: engine.endpoint, table: `engine-${name}` });
    await ensureTable(db);
    return { dir, db };
  };
  afterAll(async () => {
    for (const engine of engines) await engine.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps at most 64 table files open, so the pages its reads touched do not all stay in memory', async () => {
    const { dir, db } = await start('files');
    // LevelDB's table files hold about 2 MiB: 10,000 rows of 16 KB (incompressible) make about 80.
    const keys = Array.from({ length: 10_000 }, (_, i) => ({ pk: `P#${String(i).padStart(5, '0')}`, sk: 'ROW' }));
    await batchWrite(db, keys.map((key) => ({ PutRequest: { Item: { ...key, filler: randomBytes(12_000).toString('base64') } } })));
    expect(tableFiles(dir).length).toBeGreaterThan(64);

    // Rows spread over the whole key range: every table file is read.
    const read = await batchGet(db, keys.filter((_, i) => i % 50 === 0));
    expect(read).toHaveLength(200);
    expect(mappedTableFiles(dir).size).toBeLessThanOrEqual(64);
  }, 120_000);

  it('closes the LevelDB iterator of every query and scan, also when it stops before the end', async () => {
    const { dir, db } = await start('iterators');
    await batchWrite(db, Array.from({ length: 10 }, (_, i) => ({ PutRequest: { Item: { pk: `P#${i}`, sk: 'ROW', gsi1pk: 'ALL', gsi1sk: String(i) } } })));
    // The class dynalite opens LevelDB with, and the class of the iterators it reads with.
    const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as typeof import('level');
    const probe = new Level(`${dir}-probe`);
    dirs.push(`${dir}-probe`);
    await probe.open();
    const iterator = probe.values();
    let iterators = Object.getPrototypeOf(iterator) as { close(): Promise<void> };
    while (!Object.hasOwn(iterators, 'close')) iterators = Object.getPrototypeOf(iterators);
    await iterator.close();
    await probe.close();
    const opened = vi.spyOn(Level.prototype, 'values');
    const closed = vi.spyOn(iterators, 'close');

    const scan = await db.doc.send(new ScanCommand({ TableName: db.table, Limit: 1 }));
    const query = await db.doc.send(
      new QueryCommand({ TableName: db.table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': 'ALL' }, Limit: 3 }),
    );
    const all = await db.doc.send(new QueryCommand({ TableName: db.table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': 'ALL' } }));

    expect([scan.Items?.length, query.Items?.length, all.Items?.length]).toEqual([1, 3, 10]);
    expect(opened).toHaveBeenCalledTimes(3);
    await vi.waitFor(() => expect(opened.mock.results.map((result) => closed.mock.contexts.includes(result.value))).toEqual([true, true, true]));
  });
});
