/**
 * Charts drawn on the server as inline SVG (`role="img"`, named by their own `<title>`), each with
 * its numbers as a table beside it: readable without script, by screen readers, and when printed.
 * Colours are presentation attributes, not styles, so the Content-Security-Policy needs no inline style.
 */

export interface Series {
  name: string;
  color: string;
  /** one value per week; null where there is nothing to show (no item finished that week) */
  values: readonly (number | null)[];
}

const WIDTH = 600;
const HEIGHT = 250;
const LEFT = 44;
const RIGHT = 12;
const TOP = 30;
const BOTTOM = 28;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;
const AXIS = '#57606a';

/** The smallest of 1, 2, 5 × 10ⁿ at least `value`: round axis maxima. */
export const niceMax = (value: number): number => {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value)!;
};

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

const Legend = (props: { series: readonly Series[] }) => (
  <g>
    {props.series.map((s, i) => (
      <g transform={`translate(${LEFT + i * 150} 8)`}>
        <rect width="12" height="12" rx="2" fill={s.color} />
        <text x="18" y="11" font-size="12" fill="#1f2328">
          {s.name}
        </text>
      </g>
    ))}
  </g>
);

const Axes = (props: { max: number; labels: readonly string[]; unit?: string }) => {
  const band = PLOT_W / Math.max(1, props.labels.length);
  const every = props.labels.length > 8 ? 2 : 1;
  return (
    <g>
      {[0, 0.5, 1].map((f) => {
        const y = TOP + PLOT_H - f * PLOT_H;
        return (
          <g>
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={y} y2={y} stroke="#d0d7de" stroke-width="1" />
            <text x={LEFT - 6} y={y + 4} font-size="11" text-anchor="end" fill={AXIS}>
              {fmt(props.max * f)}
            </text>
          </g>
        );
      })}
      {props.labels.map((label, i) =>
        i % every === (props.labels.length - 1) % every ? (
          <text x={LEFT + band * i + band / 2} y={HEIGHT - 8} font-size="11" text-anchor="middle" fill={AXIS}>
            {label}
          </text>
        ) : null,
      )}
      {props.unit ? (
        <text x={WIDTH - RIGHT} y="18" font-size="11" text-anchor="end" fill={AXIS}>
          {props.unit}
        </text>
      ) : null}
    </g>
  );
};

/** Weekly data as stacked columns, grouped columns or lines. */
export const WeeklyChart = (props: {
  id: string;
  title: string;
  description: string;
  weeks: readonly string[];
  series: readonly Series[];
  mode: 'stacked' | 'grouped' | 'lines';
  unit?: string;
  /** how a value reads in the table */
  format?: (n: number) => string;
}) => {
  const { weeks, series, mode } = props;
  const n = weeks.length;
  const band = PLOT_W / Math.max(1, n);
  const peak =
    mode === 'stacked'
      ? Math.max(0, ...weeks.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)))
      : Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const max = niceMax(peak);
  const y = (v: number) => TOP + PLOT_H - (v / max) * PLOT_H;
  const labels = weeks.map((w) => w.slice(5));
  const format = props.format ?? fmt;
  const marks =
    mode === 'lines'
      ? series.map((s) => {
          const points = s.values.map((v, i) => (v === null ? null : { x: LEFT + band * i + band / 2, y: y(v) }));
          const runs: { x: number; y: number }[][] = [];
          let run: { x: number; y: number }[] = [];
          for (const p of points) {
            if (p) run.push(p);
            else if (run.length) (runs.push(run), (run = []));
          }
          if (run.length) runs.push(run);
          return (
            <g>
              {runs.map((r) => (
                <polyline points={r.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')} fill="none" stroke={s.color} stroke-width="2.5" />
              ))}
              {points.map((p) => (p ? <circle cx={p.x.toFixed(1)} cy={p.y.toFixed(1)} r="3.5" fill={s.color} /> : null))}
            </g>
          );
        })
      : weeks.map((_, i) => {
          if (mode === 'stacked') {
            let base = 0;
            return (
              <g>
                {series.map((s) => {
                  const v = s.values[i] ?? 0;
                  const top = y(base + v);
                  const rect = v > 0 ? <rect x={(LEFT + band * i + band * 0.15).toFixed(1)} y={top.toFixed(1)} width={(band * 0.7).toFixed(1)} height={(y(base) - top).toFixed(1)} fill={s.color} /> : null;
                  base += v;
                  return rect;
                })}
              </g>
            );
          }
          const width = (band * 0.8) / Math.max(1, series.length);
          return (
            <g>
              {series.map((s, k) => {
                const v = s.values[i] ?? 0;
                return v > 0 ? (
                  <rect x={(LEFT + band * i + band * 0.1 + k * width).toFixed(1)} y={y(v).toFixed(1)} width={(width - 1).toFixed(1)} height={(TOP + PLOT_H - y(v)).toFixed(1)} fill={s.color} />
                ) : null;
              })}
            </g>
          );
        });
  return (
    <figure class="chart" data-chart={props.id}>
      <figcaption>{props.title}</figcaption>
      <div class="chart-body">
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width={WIDTH} height={HEIGHT} role="img" aria-labelledby={`${props.id}-title ${props.id}-desc`}>
          <title id={`${props.id}-title`}>{props.title}</title>
          <desc id={`${props.id}-desc`}>{props.description}</desc>
          <Legend series={series} />
          <Axes max={max} labels={labels} unit={props.unit} />
          {marks}
        </svg>
        <table>
          <caption class="visually-hidden">{props.title}: the numbers</caption>
          <thead>
            <tr>
              <th scope="col">Week of</th>
              {series.map((s) => (
                <th scope="col" class="num">
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {weeks.map((week, i) => (
              <tr>
                <th scope="row">{week}</th>
                {series.map((s) => {
                  const v = s.values[i];
                  return <td class="num">{v === null || v === undefined ? '—' : format(v)}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
};

export interface Bar {
  label: string;
  value: number;
  /** a limit drawn as a mark on the bar's line */
  limit?: number | null;
  color: string;
  /** the row's page, linked from the table */
  href?: string;
}

/** Horizontal bars, one per row: label, bar, value (and the row's limit as a mark). */
export const BarChart = (props: { id: string; title: string; description: string; rows: readonly Bar[]; valueName: string }) => {
  const peak = Math.max(1, ...props.rows.map((r) => Math.max(r.value, r.limit ?? 0)));
  const max = niceMax(peak);
  const height = Math.max(1, props.rows.length) * 30 + 12;
  const x0 = 150;
  const span = WIDTH - x0 - 50;
  const label = (text: string) => (text.length > 22 ? `${text.slice(0, 21)}…` : text);
  return (
    <figure class="chart" data-chart={props.id}>
      <figcaption>{props.title}</figcaption>
      <div class="chart-body">
        <svg viewBox={`0 0 ${WIDTH} ${height}`} width={WIDTH} height={height} role="img" aria-labelledby={`${props.id}-title ${props.id}-desc`}>
          <title id={`${props.id}-title`}>{props.title}</title>
          <desc id={`${props.id}-desc`}>{props.description}</desc>
          {props.rows.map((row, i) => {
            const w = (row.value / max) * span;
            return (
              <g transform={`translate(0 ${i * 30 + 6})`}>
                <text x="0" y="16" font-size="13" fill="#1f2328">
                  {label(row.label)}
                </text>
                <rect x={x0} y="3" height="18" width={w.toFixed(1)} fill={row.color} rx="3" />
                {row.limit ? <line x1={(x0 + (row.limit / max) * span).toFixed(1)} x2={(x0 + (row.limit / max) * span).toFixed(1)} y1="0" y2="24" stroke="#cf222e" stroke-width="2" /> : null}
                <text x={(x0 + w + 6).toFixed(1)} y="16" font-size="13" fill="#1f2328">
                  {String(row.value)}
                </text>
              </g>
            );
          })}
        </svg>
        <table>
          <caption class="visually-hidden">{props.title}: the numbers</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="num">
                {props.valueName}
              </th>
              {props.rows.some((r) => r.limit !== undefined) ? (
                <th scope="col" class="num">
                  Limit
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row) => (
              <tr>
                <th scope="row">{row.href ? <a href={row.href}>{row.label}</a> : row.label}</th>
                <td class="num">{String(row.value)}</td>
                {props.rows.some((r) => r.limit !== undefined) ? <td class="num">{row.limit === null || row.limit === undefined ? '—' : String(row.limit)}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
};
