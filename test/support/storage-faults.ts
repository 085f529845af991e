import { InternalServerError, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { Db } from '../../store/db.ts';
import { seededRandom } from '../fixtures/work-items.ts';

export interface StorageFaultOptions {
  /** the share of calls that fail while faults are on, 0–1 */
  share: number;
  /** drives which calls fail; printed by the cases so a run can be repeated */
  seed: number;
  /**
   * `wire` (default): the fault is an answer of the engine, beneath the SDK's retry strategy, which
   * retries it with backoff like a real throttle or 500 from DynamoDB; the code sees what outlasts
   * the retries. `caller`: every fault reaches the code, as when the SDK's retries are exhausted.
   */
  layer?: 'wire' | 'caller';
  /** the share of server errors raised after the engine applied the call (DynamoDB may answer 500 to a write it made) */
  afterWriteShare?: number;
}

export interface StorageFaultCounts {
  calls: number;
  /** calls made while faults were on: the share applies to these */
  callsWhileOn: number;
  throttled: number;
  serverErrors: number;
  /** server errors raised after the engine had applied the call */
  afterApplied: number;
}

export interface StorageFaults {
  readonly counts: StorageFaultCounts;
  /** faults on: from now on `share` of calls fail */
  start(): void;
  /** faults off; the middleware stays, counting calls */
  stop(): void;
  /** takes the middleware off the client */
  remove(): void;
}

const MIDDLEWARE_NAME = 'tributaryTestStorageFaults';

/**
 * Makes the hub's DynamoDB client fail a share of its calls with what DynamoDB answers under
 * pressure: `ProvisionedThroughputExceededException` (400, throttled before anything is applied)
 * and `InternalServerError` (500, sometimes after the write was applied). Installed as a
 * middleware on the client's stack, which the document client shares, so every store function
 * of the hub under test goes through it; no hook in store/db.ts is needed.
 */
export const injectStorageFaults = (db: Db, options: StorageFaultOptions): StorageFaults => {
  const random = seededRandom(options.seed);
  const counts: StorageFaultCounts = { calls: 0, callsWhileOn: 0, throttled: 0, serverErrors: 0, afterApplied: 0 };
  let on = false;
  const metadata = (httpStatusCode: number) => ({ httpStatusCode, requestId: `fault-${counts.calls}`, attempts: 1, totalRetryDelay: 0 });

  const middleware =
    (next: (args: any) => Promise<any>, context: { commandName?: string }) =>
    async (args: any) => {
      counts.calls++;
      if (on) counts.callsWhileOn++;
      if (!on || random() >= options.share) return next(args);
      const what = `${context.commandName ?? 'call'} failed by the storage fault injector (test)`;
      if (random() < 0.5) {
        counts.throttled++;
        throw new ProvisionedThroughputExceededException({ message: what, $metadata: metadata(400) });
      }
      counts.serverErrors++;
      if (random() < (options.afterWriteShare ?? 0.5)) {
        counts.afterApplied++;
        await next(args);
      }
      throw new InternalServerError({ message: what, $metadata: metadata(500) });
    };

  const stack = db.doc.middlewareStack;
  if ((options.layer ?? 'wire') === 'wire') {
    // Inside the retry loop: each attempt can fail, and the SDK retries it as it would DynamoDB's answer.
    stack.addRelativeTo(middleware as never, { name: MIDDLEWARE_NAME, relation: 'after', toMiddleware: 'retryMiddleware', override: true });
  } else {
    stack.add(middleware as never, { name: MIDDLEWARE_NAME, step: 'initialize', priority: 'high', override: true });
  }
  return {
    counts,
    start: () => {
      on = true;
    },
    stop: () => {
      on = false;
    },
    remove: () => {
      on = false;
      stack.remove(MIDDLEWARE_NAME);
    },
  };
};
