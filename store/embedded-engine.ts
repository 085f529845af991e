import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

const requireHere = createRequire(import.meta.url);
/** `level` as dynalite loads it: the module that opens the data directory. */
const levelModule = createRequire(requireHere.resolve('dynalite'))('level') as typeof import('level');

/**
 * dynalite's Query and Scan streams stop an iterator with `iterator.return()`, which abstract-level's
 * iterators lack (they have `close()`), so every Query and Scan left its LevelDB iterator open: the
 * database keeps open iterators until it closes, each with its native read state (about 90 KB per
 * 50-item Query, growing without bound) and the version of the table files it started on, which
 * stayed open and memory-mapped after compactions replaced them (330 MiB of the engine's 700 after
 * the queries bench at 100k items).
 */
const closedByReturn = <I extends { close(): Promise<void> }>(iterator: I): I & { return(): Promise<void> } =>
  Object.assign(iterator, { return: () => iterator.close() });

/**
 * dynalite, reading its data directory with iterators its streams close ({@link closedByReturn}).
 * dynalite takes `level`'s class when its module first loads, so that class is replaced first
 * (nothing else in this code loads dynalite).
 */
const loadDynalite = (): typeof import('dynalite').default => {
  type Iterator = { close(): Promise<void> };
  type LevelClass = new (location: string, options?: object) => { keys(options?: object): Iterator; values(options?: object): Iterator };
  const Level = levelModule.Level as unknown as LevelClass & { closesIterators?: true };
  if (!Level.closesIterators) {
    class LevelClosingIterators extends Level {
      static override closesIterators = true as const;
      override keys(options?: object) {
        return closedByReturn(super.keys(options));
      }
      override values(options?: object) {
        return closedByReturn(super.values(options));
      }
    }
    levelModule.Level = LevelClosingIterators as unknown as typeof levelModule.Level;
  }
  cacheTableDescriptions(createRequire(requireHere.resolve('dynalite'))('./db') as DynaliteDbModule);
  return requireHere('dynalite') as typeof import('dynalite').default;
};

type Callback = (error: Error | null, value?: unknown) => void;
interface TableDb {
  get(key: string, ...rest: unknown[]): unknown;
  put(...args: unknown[]): unknown;
  del(...args: unknown[]): unknown;
  batch(...args: unknown[]): unknown;
}
interface DynaliteDbModule {
  create: ((options: object) => { tableDb: TableDb }) & { cachesTables?: true };
}

/**
 * dynalite reads its table's description from LevelDB on every request, and each read takes a
 * LevelDB snapshot under the database's lock on the engine's thread: an eighth of the engine's
 * time under a burst of writes. The description changes only when a table is created, updated or
 * deleted, all of which write it through the same table store, so it is kept in memory until the
 * next such write. Readers share one object: dynalite's item actions only read it, and the table
 * actions change it right before writing it back, in the same tick, which empties the cache.
 */
const cacheTableDescriptions = (dbModule: DynaliteDbModule): void => {
  if (dbModule.create.cachesTables) return;
  const create = dbModule.create;
  dbModule.create = Object.assign(
    (options: object) => {
      const store = create(options);
      const { tableDb } = store;
      const tables = new Map<string, unknown>();
      let generation = 0;
      // Forgotten when a write starts and again when it is done: a read that ran in between may
      // have seen the table before the write, and is not kept.
      const forget = () => {
        generation++;
        tables.clear();
      };
      for (const method of ['put', 'del', 'batch'] as const) {
        const write = tableDb[method].bind(tableDb);
        tableDb[method] = (...args: unknown[]) => {
          forget();
          const callback = args.at(-1);
          if (typeof callback === 'function') {
            return write(...args.slice(0, -1), (...results: unknown[]) => {
              forget();
              (callback as (...results: unknown[]) => void)(...results);
            });
          }
          const written = write(...args);
          if (written instanceof Promise) void written.finally(forget).catch(() => undefined);
          return written;
        };
      }
      const get = tableDb.get.bind(tableDb);
      tableDb.get = (key: string, ...rest: unknown[]) => {
        const callback = rest[0];
        if (rest.length !== 1 || typeof callback !== 'function') return get(key, ...rest);
        const cached = tables.get(key);
        if (cached) return process.nextTick(callback as Callback, null, cached);
        const readAt = generation;
        return get(key, (error: Error | null, table?: unknown) => {
          if (!error && table && readAt === generation) tables.set(key, table);
          (callback as Callback)(error, table);
        });
      };
      return store;
    },
    { cachesTables: true as const },
  );
};

export interface EmbeddedEngine {
  endpoint: string;
  close(): Promise<void>;
}

/** LevelDB allows one process per directory: a predecessor that is still exiting holds its LOCK. */
const LOCK_WAIT_MS = 15_000;

/**
 * Waits until the LevelDB directory at `path` can be opened. dynalite opens it lazily and, when the
 * LOCK is held, fails every request afterwards, so the engine checks before it starts listening.
 */
const waitForLevelDbLock = async (path: string): Promise<void> => {
  // The same `level` module dynalite opens the directory with.
  const { Level } = levelModule;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const probe = new Level(path);
    try {
      await probe.open();
      await probe.close();
      return;
    } catch (error) {
      const locked = (error as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
      if (!locked || Date.now() > deadline) throw new Error(`The engine's data directory ${path} cannot be opened: ${(error as Error).cause ?? error}`);
      await sleep(100);
    }
  }
};

/**
 * Starts dynalite, a DynamoDB-compatible engine in this process: persisted under `path`
 * (LevelDB), or in memory without one. It has no transactions and no streams, which is why the
 * pipeline relies only on single-item conditional writes.
 */
export const startEmbeddedEngine = async (options: { path?: string; port?: number } = {}): Promise<EmbeddedEngine> => {
  const dynalite = loadDynalite();
  if (options.path) {
    mkdirSync(options.path, { recursive: true });
    await waitForLevelDbLock(options.path);
  }
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/**
 * The engine's V8 heap cap. Without one, V8 keeps the heap that a burst of large queries grew (over
 * 2 GiB after reading 28,000 items at 100k), though the engine needs far less: its data is in
 * LevelDB, and a request holds one page (at most 1 MB) at a time.
 */
const ENGINE_HEAP_MIB = 384;

/**
 * The engine's young generation: 12 MiB, which V8 splits into two 4 MiB semi-spaces and a large
 * object space, instead of 16 MiB semi-spaces: each request allocates and drops its page, so the
 * larger space only held garbage, resident. At 100k items the engine kept 84 MiB of anonymous
 * memory after the analyses and then 59 (39 once idle), with no change to the end-to-end or ack
 * rates (`npm run bench -- --only end-to-end`, A/B).
 */
const ENGINE_YOUNG_GENERATION_MIB = 12;

/**
 * The worker's entry: from `npm start`'s bundle (scripts/build-local.ts), its own bundled entry
 * beside this code; from source, the TypeScript entry through tsx's loader.
 */
const workerEntry = (): { url: URL } | { code: string } => {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./embedded-engine-worker.mjs', import.meta.url) };
  const entry = new URL('./embedded-engine-worker.ts', import.meta.url).href;
  return { code: `const { tsImport } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); await tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)});` };
};

/**
 * The embedded engine on a worker thread (store/embedded-engine-worker.ts): its CPU work runs on
 * the other core, beside the hub's event loop rather than in it, and in the hub's process, which
 * saves a second Node process's own memory (about 30 MiB) and stops with the hub however it stops.
 */
export const startEmbeddedEngineWorker = async (
  options: {
    path?: string;
    /** the engine's V8 old generation cap (default 384 MiB) */
    heapMiB?: number;
    /** called when the engine stops without `close()` (out of memory, a crash) */
    onUnexpectedExit?: (how: string) => void;
  } = {},
): Promise<EmbeddedEngine> => {
  const entry = workerEntry();
  const worker = new Worker('url' in entry ? entry.url : entry.code, {
    eval: 'code' in entry,
    workerData: { path: options.path },
    resourceLimits: { maxOldGenerationSizeMb: options.heapMiB ?? ENGINE_HEAP_MIB, maxYoungGenerationSizeMb: ENGINE_YOUNG_GENERATION_MIB },
  });
  let ready = false;
  let closing = false;
  let failure: Error | undefined;
  worker.on('error', (error) => (failure = error));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      // A start that fails is the caller's rejection below, not a stop.
      if (ready && !closing) options.onUnexpectedExit?.(failure ? failure.message : `exit code ${code}`);
      resolve();
    }),
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    worker.once('message', (message: { endpoint: string }) => {
      ready = true;
      resolve(message.endpoint);
    });
    void exited.then(() => reject(new Error(`The embedded engine stopped before it was ready: ${failure?.message ?? 'no error given'}`, { cause: failure })));
  });
  return {
    endpoint,
    close: async () => {
      closing = true;
      worker.postMessage('close');
      await exited;
    },
  };
};
