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
