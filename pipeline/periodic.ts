import type { Logger } from '../core/ports.ts';

/**
 * A background task of the local hub (a sweep, reconciliation, retention): runs every
 * `intervalSeconds` (never when 0) and on demand, one run at a time — a call during a run gets
 * that run's result. `stop` waits for the run in flight.
 */
export const periodic = <Options, Result>(
  name: string,
  intervalSeconds: number,
  run: (options?: Options) => Promise<Result>,
  log: Logger,
) => {
  let running: Promise<Result> | undefined;
  const now = (options?: Options): Promise<Result> => {
    running ??= run(options).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = intervalSeconds > 0 ? setInterval(() => void now().catch((error) => log.warn(`${name} failed`, { error: String(error) })), intervalSeconds * 1000) : undefined;
  timer?.unref();
  return {
    now,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
};
