/** Latency samples → percentiles, in milliseconds. */
export const percentile = (samples: readonly number[], p: number): number => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

export interface LoadResult {
  count: number;
  errors: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
}

const summarize = (latencies: number[], errors: number, seconds: number): LoadResult => ({
  count: latencies.length,
  errors,
  seconds,
  rate: latencies.length / seconds,
  p50: percentile(latencies, 50),
  p99: percentile(latencies, 99),
});

/** Closed loop: `concurrency` workers send `total` requests back to back (the maximum rate). */
export const closedLoop = async (total: number, concurrency: number, send: (i: number) => Promise<boolean>): Promise<LoadResult> => {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        if (await send(i)) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  return summarize(latencies, errors, (performance.now() - started) / 1000);
};

/** Open loop: requests start at a fixed rate whatever the answers do, so queueing shows in the latency. */
export const openLoop = async (total: number, ratePerSecond: number, send: (i: number) => Promise<boolean>): Promise<LoadResult> => {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      (async () => {
        const t = performance.now();
        if (await send(i)) latencies.push(performance.now() - t);
        else errors++;
      })(),
    );
  }
  await Promise.all(inFlight);
  return summarize(latencies, errors, (performance.now() - started) / 1000);
};
