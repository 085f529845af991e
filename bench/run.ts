import { join } from 'node:path';
import { type Figure, machine, printTable, writeResults } from './report.ts';
import { benchAckPath } from './scenarios/ack-path.ts';
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

const main = async () => {
  const m = machine();
  log(`Benchmarks${quick ? ' (quick)' : ''} on ${m.cpus}, ${m.memoryGiB} GiB, Node ${m.node}`);
  const figures: Figure[] = [];
  log('1/5 normalize…');
  figures.push(...benchNormalize(quick));
  log('2/5 ack path…');
  const ack = await benchAckPath(quick);
  figures.push(...ack.figures);
  log('3/5 end to end…');
  figures.push(...(await benchEndToEnd(quick, ack.rawPutRate)));
  log('4/5 queries and footprint…');
  figures.push(...(await benchQueries(quick, log)));
  log('5/5 bundles…');
  figures.push(...(await benchBundles(quick)));
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
