import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { itemIdForRef } from '../../core/ids.ts';
import { createDb, ensureTable } from '../../store/db.ts';
import { OPERATOR_TOKEN } from '../../test/support/hub.ts';
import { killHard, startHubProcess } from '../../test/support/hub-process.ts';
import { type LoadResult, closedLoop } from '../load.ts';
import { benchDataDir, startJsonLineProcess, stop } from '../processes.ts';
import { seedItems, syntheticItem } from '../seed.ts';
import type { Figure } from '../report.ts';

const QUERIES = {
  'list page (50 items, status filter)': () => '/v1/items?status=in_review&limit=50',
  'list page (50 items, owner filter)': () => '/v1/items?owner=github:person7&limit=50',
  'item with dependencies': (size: number) => `/v1/items/${itemIdForRef(syntheticItem(size - 5).ref)}`,
  summary: () => '/v1/views/summary',
  'bottlenecks (snapshot, default)': () => '/v1/views/bottlenecks',
  'bottlenecks (fresh analysis, maxAgeSeconds=0)': () => '/v1/views/bottlenecks?maxAgeSeconds=0',
} as const;

/** Reads all blocked and in-progress work by design: measured, but not held to the indexed-query ratio. */
const ANALYSES: ReadonlySet<string> = new Set(['bottlenecks (fresh analysis, maxAgeSeconds=0)']);

type QueryName = keyof typeof QUERIES;

/** Seeds the hub's own data directory up to `size` items, with the engine as a separate process. */
const seedTo = async (dataDir: string, from: number, size: number, log: (m: string) => void) => {
  const engine = await startJsonLineProcess<{ endpoint: string }>('store/embedded-engine-process.ts', [join(dataDir, 'engine')]);
  try {
    const db = createDb({ endpoint: engine.info.endpoint, table: 'tributary', embedded: true });
    await ensureTable(db);
    const started = Date.now();
    await seedItems(db, 'default', from, size, (done) => {
      if (done % 10_000 === 0 || done === size) log(`  seeded ${done}/${size} items (${Math.round((done - from) / ((Date.now() - started) / 1000))}/s)`);
    });
  } finally {
    await stop(engine.child);
  }
};

/** Resident memory of the hub's process (its embedded engine runs on a worker thread in it), in MiB. */
const residentMiB = (pid: number) => Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim()) / 1024;

/**
 * How long the hub rests after the queries before its memory is read again: V8 gives back the heap
 * that a burst of analyses grew only after a few seconds without work (its memory reducer), about
 * 15 to 30 s at 100k items.
 */
const REST_MS = 30_000;

/** Measures each query at one index size against `npm start` as users run it; also its resident memory, right after them and at rest. */
const measureAt = async (dataDir: string, size: number, requests: number, restMs: number) => {
  const hub = await startHubProcess({ TRIBUTARY_DATA_DIR: dataDir, TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN });
  try {
    const results: Partial<Record<QueryName, LoadResult | 'unavailable'>> = {};
    for (const [name, path] of Object.entries(QUERIES) as [QueryName, (size: number) => string][]) {
      const get = async () => {
        const response = await fetch(`${hub.url}${path(size)}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
        await response.arrayBuffer();
        return response.status === 200;
      };
      if (!(await get())) {
        results[name] = 'unavailable';
        continue;
      }
      // An analysis takes seconds at 100k items: fewer samples, so the run stays in minutes.
      const samples = ANALYSES.has(name) ? Math.ceil(requests / 10) : requests;
      await closedLoop(Math.ceil(samples / 10), 1, get);
      results[name] = await closedLoop(samples, 1, get);
    }
    const rss = residentMiB(hub.child.pid!);
    await sleep(restMs);
    return { results, rss, rssAtRest: residentMiB(hub.child.pid!) };
  } finally {
    await killHard(hub.child);
  }
};

/** 5 and 6. Indexed queries must not grow with the index; the local process must stay small. */
export const benchQueries = async (quick: boolean, log: (m: string) => void): Promise<Figure[]> => {
  const [small, large] = quick ? [500, 2_000] : [10_000, 100_000];
  const requests = quick ? 30 : 300;
  const restMs = quick ? 1_000 : REST_MS;
  const dataDir = benchDataDir('queries');
  await seedTo(dataDir, 0, small, log);
  const atSmall = await measureAt(dataDir, small, requests, restMs);
  await seedTo(dataDir, small, large, log);
  const atLarge = await measureAt(dataDir, large, requests, restMs);

  const figures: Figure[] = [];
  for (const name of Object.keys(QUERIES) as QueryName[]) {
    const a = atSmall.results[name];
    const b = atLarge.results[name];
    if (!a || !b || a === 'unavailable' || b === 'unavailable') {
      figures.push({ scenario: '5. queries', figure: `${name}`, value: Number.NaN, note: 'route not available in this build' });
      continue;
    }
    const target = name.startsWith('list') ? 25 : name === 'summary' ? 50 : undefined;
    if (ANALYSES.has(name)) {
      figures.push({
        scenario: '5. queries',
        figure: `${name}: p99 ms at ${large} items`,
        value: b.p99,
        baseline: a.p99,
        baselineName: `p99 at ${small} items`,
        ratio: b.p99 / a.p99,
        note: `p50 ${b.p50.toFixed(1)} ms; grows with the open work, by design`,
      });
      continue;
    }
    figures.push({
      scenario: '5. queries',
      figure: `${name}: p99 ms at ${large} items`,
      value: b.p99,
      baseline: a.p99,
      baselineName: `p99 at ${small} items`,
      ratio: b.p99 / a.p99,
      target: `ratio ≤ 1.5${target ? `; ≤ ${target} ms` : ''}`,
      met: b.p99 / a.p99 <= 1.5 && (target === undefined || b.p99 <= target),
      note: `p50 ${b.p50.toFixed(1)} ms (${a.p50.toFixed(1)} at ${small})`,
    });
  }
  figures.push({
    scenario: '6. footprint',
    figure: `resident memory MiB of npm start with ${large} items (hub and engine, one process), right after the queries`,
    value: atLarge.rss,
    baseline: atSmall.rss,
    baselineName: `with ${small} items`,
    ratio: atLarge.rss / atSmall.rss,
    target: '≤ 300 MiB',
    met: atLarge.rss <= 300,
  });
  figures.push({
    scenario: '6. footprint',
    figure: `resident memory MiB of npm start with ${large} items, at rest ${restMs / 1000} s after the queries`,
    value: atLarge.rssAtRest,
    baseline: atSmall.rssAtRest,
    baselineName: `with ${small} items`,
    ratio: atLarge.rssAtRest / atSmall.rssAtRest,
    note: 'what V8 keeps once its memory reducer has given back the heap the analyses grew',
  });
  return figures;
};
