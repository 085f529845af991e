/**
 * A small in-process metrics registry: counters, gauges and histograms with labels, rendered in
 * the Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/)
 * and drained as per-flush samples for CloudWatch's embedded metric format (pipeline/emf.ts).
 * Hand-written because the whole format is a few lines; no client library is needed for it.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type Labels<L extends string> = { readonly [K in L]: string };

/** Default latency buckets in seconds: from a fast in-process answer to GitHub's 10 s webhook timeout. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** EMF accepts at most 100 values per metric in one record. */
const MAX_RECENT_OBSERVATIONS = 100;

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
  /** raw observations since the last drain, for EMF (bounded) */
  recent: number[];
}

/** One metric family with its series, keyed by their label values. */
abstract class Family<L extends string> {
  protected readonly series = new Map<string, { labels: Labels<L>; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`Invalid metric name ${name}`);
  }

  abstract readonly type: MetricType;

  protected keyOf(labels: Labels<L>): string {
    return JSON.stringify(this.labelNames.map((n) => labels[n]));
  }

  protected entry(labels: Labels<L>) {
    const key = this.keyOf(labels);
    let found = this.series.get(key);
    if (!found) {
      // Only the declared labels, in declared order: a caller's extra fields never become series.
      const own = Object.fromEntries(this.labelNames.map((n) => [n, String(labels[n])])) as Labels<L>;
      found = { labels: own, value: 0 };
      this.series.set(key, found);
    }
    return found;
  }

  /** Every series with its current value. */
  values(): { labels: Labels<L>; value: number }[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }
}

export class Counter<L extends string = never> extends Family<L> {
  readonly type = 'counter';
  readonly #drained = new Map<string, number>();

  inc(labels: Labels<L>, by = 1): void {
    if (by < 0) throw new Error(`Counter ${this.name} cannot decrease`);
    this.entry(labels).value += by;
  }

  /** What each series grew by since the previous call (series that did not grow are left out). */
  drain(): { labels: Labels<L>; value: number }[] {
    const out: { labels: Labels<L>; value: number }[] = [];
    for (const [key, s] of this.series) {
      const delta = s.value - (this.#drained.get(key) ?? 0);
      if (delta > 0) out.push({ labels: s.labels, value: delta });
      this.#drained.set(key, s.value);
    }
    return out;
  }
}

export class Gauge<L extends string = never> extends Family<L> {
  readonly type = 'gauge';

  set(labels: Labels<L>, value: number): void {
    this.entry(labels).value = value;
  }
}

export class Histogram<L extends string = never> {
  readonly type = 'histogram';
  readonly #series = new Map<string, { labels: Labels<L>; data: HistogramSeries }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {
    if ([...buckets].sort((a, b) => a - b).some((b, i) => b !== buckets[i])) throw new Error(`Buckets of ${name} must ascend`);
  }

  observe(labels: Labels<L>, value: number): void {
    const key = JSON.stringify(this.labelNames.map((n) => labels[n]));
    let found = this.#series.get(key);
    if (!found) {
      const own = Object.fromEntries(this.labelNames.map((n) => [n, String(labels[n])])) as Labels<L>;
      found = { labels: own, data: { counts: this.buckets.map(() => 0), sum: 0, count: 0, recent: [] } };
      this.#series.set(key, found);
    }
    const { data } = found;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) data.counts[i]! += 1;
    });
    data.sum += value;
    data.count += 1;
    if (data.recent.length < MAX_RECENT_OBSERVATIONS) data.recent.push(value);
  }

  values(): { labels: Labels<L>; counts: readonly number[]; sum: number; count: number }[] {
    return [...this.#series.values()].map(({ labels, data }) => ({ labels, counts: data.counts, sum: data.sum, count: data.count }));
  }

  /** The raw observations since the previous call (at most 100 per series). */
  drain(): { labels: Labels<L>; values: number[] }[] {
    const out: { labels: Labels<L>; values: number[] }[] = [];
    for (const { labels, data } of this.#series.values()) {
      if (data.recent.length > 0) out.push({ labels, values: data.recent.splice(0) });
    }
    return out;
  }
}

type AnyFamily = Counter<string> | Gauge<string> | Histogram<string>;

/** A number as the exposition format writes it (`+Inf`, `-Inf`, `NaN`). */
export const formatValue = (value: number): string =>
  Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);

/** HELP text escapes backslash and line feed; label values also escape the double quote. */
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const labelText = (labels: Record<string, string>, extra?: [string, string]): string => {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};

export class MetricsRegistry {
  readonly #families = new Map<string, AnyFamily>();

  #add<F extends { name: string }>(family: F): F {
    if (this.#families.has(family.name)) throw new Error(`Metric ${family.name} is registered twice`);
    this.#families.set(family.name, family as unknown as AnyFamily);
    return family;
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.#add(new Counter<L>(name, help, labelNames));
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.#add(new Gauge<L>(name, help, labelNames));
  }

  histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], buckets?: readonly number[]): Histogram<L> {
    return this.#add(new Histogram<L>(name, help, labelNames, buckets));
  }

  families(): readonly AnyFamily[] {
    return [...this.#families.values()];
  }

  /** The text exposition format: HELP and TYPE of every family, then one line per series. */
  render(): string {
    const lines: string[] = [];
    for (const family of this.#families.values()) {
      lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
      if (family instanceof Histogram) {
        for (const { labels, counts, sum, count } of family.values()) {
          family.buckets.forEach((bound, i) => lines.push(`${family.name}_bucket${labelText(labels, ['le', formatValue(bound)])} ${counts[i]}`));
          lines.push(`${family.name}_bucket${labelText(labels, ['le', '+Inf'])} ${count}`);
          lines.push(`${family.name}_sum${labelText(labels)} ${formatValue(sum)}`, `${family.name}_count${labelText(labels)} ${count}`);
        }
      } else {
        for (const { labels, value } of family.values()) lines.push(`${family.name}${labelText(labels)} ${formatValue(value)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
