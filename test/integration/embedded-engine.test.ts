import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { batchWrite } from '../../store/batch.ts';
import { createDb, ensureTable } from '../../store/db.ts';
import { type EmbeddedEngine, startEmbeddedEngine, startEmbeddedEngineWorker } from '../../store/embedded-engine.ts';

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
    return { dir, db, engine };
  };
  afterAll(async () => {
    for (const engine of engines) await engine.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

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
  it('accepts the hub\'s unsigned requests, which carry a signature\'s parts but compute none', async () => {
    const { db, engine } = await start('unsigned');
    const hub = createDb({ endpoint: engine.endpoint, table: db.table, embedded: true });
    const authorizations: string[] = [];
    hub.doc.middlewareStack.add(
      (next) => async (args) => {
        authorizations.push((args.request as { headers: Record<string, string> }).headers.authorization!);
        return next(args);
      },
      { step: 'deserialize' },
    );
    await hub.doc.send(new PutCommand({ TableName: hub.table, Item: { pk: 'P#1', sk: 'ROW', note: 'unsigned' } }));
    expect((await hub.doc.send(new GetCommand({ TableName: hub.table, Key: { pk: 'P#1', sk: 'ROW' } }))).Item?.note).toBe('unsigned');
    expect(authorizations).toHaveLength(2);
    for (const authorization of authorizations) expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/.*, SignedHeaders=host, Signature=unsigned$/);
  });

  it('reads a table description from LevelDB once, and again only after the table changes', async () => {
    const { db } = await start('tables');
    const put = (i: number) => db.doc.send(new PutCommand({ TableName: db.table, Item: { pk: `P#${i}`, sk: 'ROW' } }));
    await put(0);
    // Each PutItem reads the row it replaces; without the cache, also the table's description.
    const { ClassicLevel } = createRequire(createRequire(createRequire(import.meta.url).resolve('dynalite')).resolve('level'))('classic-level') as typeof import('classic-level');
    const reads = vi.spyOn(ClassicLevel.prototype as unknown as { _get(): Promise<unknown> }, '_get');
    for (let i = 1; i <= 10; i++) await put(i);
    expect(reads).toHaveBeenCalledTimes(10);

    await db.doc.send(new DeleteTableCommand({ TableName: db.table }));
    await expect(put(11)).rejects.toThrow(/not found/i);
    await db.doc.send(new CreateTableCommand({ TableName: db.table, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
    // The engine makes a new table active on its next timer turn, as DynamoDB does after a while: a client waits for it.
    await vi.waitFor(async () => expect((await db.doc.send(new DescribeTableCommand({ TableName: db.table }))).Table?.TableStatus).toBe('ACTIVE'));
    await expect(put(12)).rejects.toThrow(/missing the key id/i);
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { id: 'new key schema' } }));
    reads.mockRestore();
  });

  it('answers a table that became active as active, also after reading it while it was being made active', async () => {
    const { db } = await start('describe');
    // LevelDB writes that take 100 ms: the description is read while the table is being made active.
    const { ClassicLevel } = createRequire(createRequire(createRequire(import.meta.url).resolve('dynalite')).resolve('level'))('classic-level') as typeof import('classic-level');
    const levelDb = ClassicLevel.prototype as unknown as { _put(...args: unknown[]): Promise<unknown> };
    const put = levelDb._put;
    const slowWrites = vi.spyOn(levelDb, '_put').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return put.apply(this, args);
    });
    const describe = () => db.doc.send(new DescribeTableCommand({ TableName: 'engine-activated' })).then((r) => r.Table?.TableStatus);
    try {
      await db.doc.send(new CreateTableCommand({ TableName: 'engine-activated', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
      expect(await describe()).toBe('CREATING');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await describe()).toBe('ACTIVE');
    } finally {
      slowWrites.mockRestore();
    }
  });
});

describe('the embedded engine on a worker thread, as npm start runs it', () => {
  it('keeps what it acknowledged across a restart on the same data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-engine-worker-'));
    try {
      const first = await startEmbeddedEngineWorker({ path: dir });
      const db = createDb({ endpoint: first.endpoint, table: 'engine-worker' });
      await ensureTable(db);
      await db.doc.send(new PutCommand({ TableName: db.table, Item: { pk: 'P#1', sk: 'ROW', note: 'kept' } }));
      await first.close();

      const second = await startEmbeddedEngineWorker({ path: dir });
      try {
        const again = createDb({ endpoint: second.endpoint, table: 'engine-worker' });
        expect((await again.doc.send(new GetCommand({ TableName: again.table, Key: { pk: 'P#1', sk: 'ROW' } }))).Item?.note).toBe('kept');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('rejects a start that fails with its reason, and does not report it as a stop', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tributary-engine-file-')), 'not-a-directory');
    writeFileSync(file, '');
    const stops: string[] = [];
    await expect(startEmbeddedEngineWorker({ path: join(file, 'engine'), onUnexpectedExit: (how) => stops.push(how) })).rejects.toThrow(/stopped before it was ready: .*ENOTDIR/);
    expect(stops).toEqual([]);
  });

  it('tells its owner when it stops without being closed, here out of memory', async () => {
    const stopped = new Promise<string>((resolve) => {
      // In memory (no data directory), every row stays on the engine's heap: 64 MiB of rows cannot fit in 16.
      void startEmbeddedEngineWorker({ heapMiB: 16, onUnexpectedExit: resolve }).then(async (engine) => {
        const db = createDb({ endpoint: engine.endpoint, table: 'engine-oom' });
        await ensureTable(db);
        const row = (i: number) => ({ PutRequest: { Item: { pk: `P#${i}`, sk: 'ROW', blob: 'x'.repeat(350_000) } } });
        await batchWrite(db, Array.from({ length: 200 }, (_, i) => row(i))).catch(() => undefined);
      });
    });
    expect(await stopped).toMatch(/memory/i);
  }, 60_000);
});
