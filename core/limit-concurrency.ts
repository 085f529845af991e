/**
 * `fn` with at most `limit` calls in flight; the others wait, in order. A finishing call hands its
 * slot to the next waiter directly, so the limit holds however calls interleave.
 */
export const limitConcurrency = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, limit: number): ((...args: A) => Promise<R>) => {
  let running = 0;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (running < limit) {
      running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return async (...args) => {
    await acquire();
    try {
      return await fn(...args);
    } finally {
      release();
    }
  };
};

/**
 * Runs `work` on every value, at most `limit` at once, starting them in order. When some fail, no
 * more are started; it waits for those running, then throws the first error.
 */
export const forEachBounded = async <T>(values: readonly T[], limit: number, work: (value: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: Math.min(limit, values.length) }, async () => {
      while (next < values.length && errors.length === 0) await work(values[next++]!).catch((error: unknown) => void errors.push(error));
    }),
  );
  if (errors.length > 0) throw errors[0];
};
