import { STAGE_DIMENSION, drainEmf } from '../../pipeline/emf.ts';
import type { LambdaRuntime } from './runtime.ts';

/**
 * Prints what this execution environment counted since the last flush as EMF records (one JSON
 * line each, on stdout), so CloudWatch holds the same figures GET /metrics shows locally. Called
 * after every invocation; a failure to print must never fail the invocation.
 */
export const flushMetrics = (runtime: Pick<LambdaRuntime, 'metrics' | 'stage' | 'emit' | 'log'>): void => {
  try {
    for (const record of drainEmf(runtime.metrics.registry, { [STAGE_DIMENSION]: runtime.stage }, Date.now())) runtime.emit(JSON.stringify(record));
  } catch (error) {
    runtime.log.warn('metrics could not be printed', { error: String(error) });
  }
};

/** Runs one invocation, then flushes its figures whatever the outcome. */
export const withMetrics = async <T>(runtime: Pick<LambdaRuntime, 'metrics' | 'stage' | 'emit' | 'log'>, invocation: () => Promise<T>): Promise<T> => {
  try {
    return await invocation();
  } finally {
    flushMetrics(runtime);
  }
};
