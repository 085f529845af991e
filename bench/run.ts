import { join } from 'node:path';
import { type Figure, machine, printTable, writeResults } from './report.ts';
import { benchAckPath, measureRawPuts } from './scenarios/ack-path.ts';
import { benchBackfill } from './scenarios/backfill.ts';
import { benchBundles } from './scenarios/bundles.ts';
import { benchEndToEnd } from './scenarios/end-to-end.ts';
import { benchNormalize } from './scenarios/normalize.ts';
import { benchQueries } from './scenarios/queries.ts';

/**
 * `npm run bench` (or `npm run bench -- --quick`, about a minute): every figure next to a baseline
 * measured in the same run, as a ratio, because absolute times on shared machines drift.
 */
const quick = process.argv.includes('--quick');
/** `--out <file>`: where to write the figures (default bench/results.json, the README's table) */
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? process.argv[outIndex + 1] : undefined;
const log = (message: string) => process.stderr.write(`${message}\n`);

/** `--only <scenario>`: runs one of them (normalize, ack-path, end-to-end, backfill, queries, bundles) */
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined;
const SCENARIOS = ['normalize', 'ack-path', 'end-to-end', 'backfill', 'queries', 'bundles'];
if (only !== undefined && !SCENARIOS.includes(only)) {
  log(`--only takes one of: ${SCENARIOS.join(', ')}`);
  process.exit(2);
}
const runs = (name: string) => only === undefined || only === name;

const main = async () => {
  const m = machine();
  log(`Benchmarks${quick ? ' (quick)' : ''} on ${m.cpus}, ${m.memoryGiB} GiB, Node ${m.node}`);
  const figures: Figure[] = [];
  if (runs('normalize')) {
    log('1/6 normalize…');
    figures.push(...(await benchNormalize(quick)));
  }
  let rawPutRate: number | undefined;
  if (runs('ack-path')) {
    log('2/6 ack path…');
    const ack = await benchAckPath(quick);
    figures.push(...ack.figures);
    rawPutRate = ack.rawPutRate;
  }
  if (runs('end-to-end')) {
    log('3/6 end to end…');
    rawPutRate ??= (await measureRawPuts(quick ? 200 : 3000)).rate;
    figures.push(...(await benchEndToEnd(quick, rawPutRate)));
  }
  if (runs('backfill')) {
    log('4/6 backfill…');
    rawPutRate ??= (await measureRawPuts(quick ? 200 : 3000)).rate;
    figures.push(...(await benchBackfill(quick, rawPutRate)));
  }
  if (runs('queries')) {
    log('5/6 queries and footprint…');
    figures.push(...(await benchQueries(quick, log)));
  }
  if (runs('bundles')) {
    log('6/6 bundles…');
    figures.push(...(await benchBundles(quick)));
  }
  printTable(figures);
  const path = out ?? join(import.meta.dirname, 'results.json');
  writeResults(path, figures, quick);
  log(`Wrote ${path}`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log((error as Error).stack ?? String(error));
    process.exit(1);
  },
);
