import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctions, bundle, measureColdInit } from '../../scripts/build.ts';
import type { Figure } from '../report.ts';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** 6. Each Lambda bundle's size and its module init in a fresh Node process, against a bare Hono Lambda. */
export const benchBundles = async (quick: boolean): Promise<Figure[]> => {
  const outdir = mkdtempSync(join(tmpdir(), 'tributary-bench-bundles-'));
  try {
    const baseline = await bundle('bare hono', join(import.meta.dirname, '../baseline-lambda.ts'), join(outdir, 'baseline'));
    const reports = await buildFunctions(join(outdir, 'functions'));
    const runs = quick ? 3 : 7;
    const initOf = (file: string) => median(Array.from({ length: runs }, () => measureColdInit(file)));
    const baselineInit = initOf(baseline.file);
    return reports.flatMap((report) => {
      const init = initOf(report.file);
      const mib = report.bytes / 2 ** 20;
      return [
        {
          scenario: '6. footprint',
          figure: `${report.name} bundle MiB`,
          value: mib,
          baseline: baseline.bytes / 2 ** 20,
          baselineName: 'bare Hono Lambda',
          ratio: report.bytes / baseline.bytes,
          target: '≤ 1 MiB',
          met: mib <= 1,
          note: `${(report.gzipBytes / 1024).toFixed(0)} KiB gzip`,
        },
        {
          scenario: '6. footprint',
          figure: `${report.name} cold init ms (fresh process, median of ${runs})`,
          value: init,
          baseline: baselineInit,
          baselineName: 'bare Hono Lambda',
          ratio: init / baselineInit,
          target: '≤ 200 ms',
          met: init <= 200,
        },
      ];
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
};
