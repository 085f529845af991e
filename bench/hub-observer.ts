import { OPERATOR_TOKEN } from '../test/support/hub.ts';

/**
 * What the bench watches on a running hub without adding work to it while it is measured: the SSE
 * event stream (a live subscription to the local bus; without `Last-Event-ID` it reads nothing from
 * the store) and `GET /metrics` (which does read the store: see `storageDelta`).
 */

/** Follows the hub's SSE stream and records when each subject's `work.item.created` arrived. */
export const followEvents = async (url: string) => {
  const arrivals = new Map<string, number>();
  const waiters: { missing: Set<string>; resolve: () => void }[] = [];
  const controller = new AbortController();
  const response = await fetch(`${url}/v1/events/stream?types=work.item.created`, {
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    signal: controller.signal,
  });
  if (response.status !== 200) throw new Error(`the event stream answered ${response.status}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split('\n').find((l) => l.startsWith('data: '));
          if (!message.includes('event: work.item.created') || !data) continue;
          const subject = JSON.parse(data.slice(6)).subject as string;
          if (arrivals.has(subject)) continue;
          arrivals.set(subject, performance.now());
          for (const w of [...waiters]) {
            w.missing.delete(subject);
            if (w.missing.size === 0) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve();
            }
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    /** subject → performance.now() of its `work.item.created` */
    arrivals,
    /** resolves once every one of `subjects` has had its `work.item.created` (other items, e.g. link targets, do not count) */
    until: (subjects: Iterable<string>, timeoutMs = 900_000) =>
      new Promise<void>((resolve, reject) => {
        const missing = new Set([...subjects].filter((s) => !arrivals.has(s)));
        if (missing.size === 0) return resolve();
        const timer = setTimeout(() => reject(new Error(`${missing.size} items had no work.item.created event, e.g. ${[...missing][0]}`)), timeoutMs);
        waiters.push({ missing, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    close: () => controller.abort(),
  };
};

/** One scrape of `GET /metrics`: series (`name{labels}`) → value. */
export type Scrape = Map<string, number>;

export const scrapeMetrics = async (url: string): Promise<Scrape> => {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const series: Scrape = new Map();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
};

/** The sum of a metric's series whose labels include `labels` (e.g. `{ target: "table" }`). */
export const metricSum = (scrape: Scrape, name: string, labels: Record<string, string> = {}): number => {
  let sum = 0;
  for (const [series, value] of scrape) {
    const brace = series.indexOf('{');
    if ((brace < 0 ? series : series.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
};

/** A metric's value per value of one label, e.g. storage requests per `operation`. */
export const metricByLabel = (scrape: Scrape, name: string, label: string): Map<string, number> => {
  const out = new Map<string, number>();
  const pattern = new RegExp(`^${name}\\{.*${label}="([^"]*)"`);
  for (const [series, value] of scrape) {
    const match = pattern.exec(series);
    if (match) out.set(match[1]!, (out.get(match[1]!) ?? 0) + value);
  }
  return out;
};

/** Nothing waits for the processor or the publisher (both gauges are read from the store by the scrape). */
export const drained = (scrape: Scrape): boolean => metricSum(scrape, 'tributary_inbox_depth') === 0 && metricSum(scrape, 'tributary_outbox_depth') === 0;

/**
 * Measures what the hub did between the opening scrape and `end()`, without the scrapes' own cost.
 * A scrape reads the store (queue depths, lag, open alerts) before it renders its figures, so its
 * own requests are in them. `end()` scrapes until `settled` holds (by default: nothing waits in the
 * inbox or the outbox; events reach the bus before their deliveries are marked done and their outbox
 * markers cleared, so the last event is not the end of the work), then once more with the hub idle:
 * that last difference is one scrape's cost (plus a moment of idle polling), subtracted once per
 * scrape made after the opening one.
 */
export const metricsWindow = async (url: string) => {
  const first = await scrapeMetrics(url);
  return {
    first,
    end: async (settled: (scrape: Scrape) => boolean = drained, timeoutMs = 120_000) => {
      const deadline = performance.now() + timeoutMs;
      let last = await scrapeMetrics(url);
      let scrapes = 1;
      while (!settled(last)) {
        if (performance.now() > deadline) throw new Error('the hub did not settle after the run (inbox, outbox or completions)');
        await new Promise((resolve) => setTimeout(resolve, 100));
        last = await scrapeMetrics(url);
        scrapes++;
      }
      const again = await scrapeMetrics(url);
      /** what one idle scrape adds to `name` */
      const scrapeCost = (name: string, labels: Record<string, string> = {}) => metricSum(again, name, labels) - metricSum(last, name, labels);
      /** the delta of a counter across the window, less the scrapes' share */
      const delta = (name: string, labels: Record<string, string> = {}) =>
        metricSum(last, name, labels) - metricSum(first, name, labels) - scrapes * scrapeCost(name, labels);
      /** the delta per label value (the scrapes' share taken off each value) */
      const deltaByLabel = (name: string, label: string) => {
        const before = metricByLabel(first, name, label);
        const idle = metricByLabel(again, name, label);
        return new Map(
          [...metricByLabel(last, name, label)]
            .map(([k, v]) => [k, v - (before.get(k) ?? 0) - scrapes * ((idle.get(k) ?? 0) - v)] as const)
            .filter(([, v]) => v > 0),
        );
      };
      return { last, scrapes, delta, deltaByLabel, scrapeCost };
    },
  };
};

/** `settled` for a window: the processor completed `count` more deliveries than at `first`, and nothing waits. */
export const completedSince = (first: Scrape, count: number) => (scrape: Scrape) =>
  metricSum(scrape, 'tributary_deliveries_completed_total') - metricSum(first, 'tributary_deliveries_completed_total') >= count && drained(scrape);

/** `PutItem 1000, BatchWriteItem 240, …`: a breakdown by label, largest first, per `per` units. */
export const breakdown = (values: Map<string, number>, per: number, top = 5): string =>
  [...values]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${k} ${(v / per).toFixed(2)}`)
    .join(', ');
