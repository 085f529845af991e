import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** One measured figure, always next to its baseline measured in the same run. */
export interface Figure {
  scenario: string;
  figure: string;
  value: number;
  baseline?: number;
  baselineName?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

const round = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '' : n >= 100 ? Math.round(n).toString() : n.toFixed(2));

export const machine = () => ({
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  at: new Date().toISOString(),
});

export const printTable = (figures: readonly Figure[]) => {
  const rows = figures.map((f) => [
    f.scenario,
    f.figure,
    round(f.value),
    f.baseline === undefined ? '' : `${round(f.baseline)} (${f.baselineName})`,
    f.ratio === undefined ? '' : f.ratio.toFixed(2),
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'met' : 'MISSED',
    f.note ?? '',
  ]);
  const header = ['scenario', 'figure', 'value', 'baseline (same run)', 'ratio', 'target', '', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
};

export const writeResults = (path: string, figures: readonly Figure[], quick: boolean) =>
  writeFileSync(path, `${JSON.stringify({ machine: machine(), quick, figures }, null, 2)}\n`);
