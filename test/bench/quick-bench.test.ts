import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

/**
 * `npm run bench -- --quick` on every CI run, so the harness never rots. It asserts that every
 * scenario ran and produced figures, never how fast they are: times on shared machines drift.
 */
describe('npm run bench -- --quick', () => {
  it('runs every scenario, writes each figure with its baseline, and leaves no data directory behind', () => {
    // The run's own temporary directory: its engines' and hubs' data go there, and must be gone after it
    // (tsx keeps its compile cache there too); the figures are written there as well.
    const runTmp = mkdtempSync(join(tmpdir(), 'tributary-bench-run-'));
    onTestFinished(() => rmSync(runTmp, { recursive: true, force: true }));
    const out = join(runTmp, 'results.json');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], {
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, TMPDIR: runTmp },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(runTmp).filter((name) => name.startsWith('tributary-'))).toEqual([]);
    expect(run.stdout).toMatch(/\| scenario/);

    const { quick, figures } = JSON.parse(readFileSync(out, 'utf8')) as { quick: boolean; figures: { scenario: string; value: number; ratio?: number; target?: string }[] };
    expect(quick).toBe(true);
    const scenarios = new Set(figures.map((f) => f.scenario.split(' ')[0]));
    expect([...scenarios].sort()).toEqual(['1.', '2.', '3.', '4.', '5.', '6.']);
    for (const figure of figures) {
      expect(Number.isFinite(figure.value), JSON.stringify(figure)).toBe(true);
      if (figure.target?.includes('ratio') || figure.ratio !== undefined) expect(Number.isFinite(figure.ratio), JSON.stringify(figure)).toBe(true);
    }
  }, 600_000);
});
