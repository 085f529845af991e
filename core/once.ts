/**
 * `start`, run on the first call and shared by every call after it; a start that fails is not
 * kept, so the next call tries again (a module that failed to load, a cold start that could not
 * reach its table).
 */
export const onceSucceeded = <T>(start: () => Promise<T>): (() => Promise<T>) => {
  let started: Promise<T> | undefined;
  return () => {
    started ??= start().catch((error: unknown) => {
      started = undefined;
      throw error;
    });
    return started;
  };
};
