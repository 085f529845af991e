import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Two lanes to one storage engine, for a process where requests that someone waits for (the HTTP
 * app: a webhook's acknowledgement, a page) share the engine with background work (processing,
 * jobs, sweeps). The engine serves what it was sent in about the order it came, so a webhook's one
 * write queued behind every request the processor had in flight: under a backlog, acknowledgements
 * waited 29 ms at the median and 107 ms at p99 at half the maximum rate, against 3.4 and 25 with the
 * processor stopped (`npm run bench -- --only ack-path`). Through these lanes: 6-8 ms and under
 * 50, with the end-to-end rate unchanged (`--only end-to-end`).
 *
 * While the app is busy (a foreground request in flight, or one answered less than `maxWaitMs`
 * ago), the background lane holds at most `backgroundSlots` requests in flight, and starts none
 * while a foreground request is in flight unless it has waited `maxWaitMs`: a stream of foreground
 * requests slows background work down, never stops it. Once the app is quiet, background work has
 * the engine to itself, as many requests at once as it sends.
 */
export interface RequestLanes {
  /** requests of `client` go first */
  foreground(client: DynamoDBClient): void;
  /** requests of `client` wait for a background slot, and give way to foreground ones */
  background(client: DynamoDBClient): void;
}

export interface RequestLaneOptions {
  /** background requests in flight at once while the app is busy */
  backgroundSlots: number;
  /** the longest a background request gives way to foreground ones; the app is quiet after this long without one */
  maxWaitMs: number;
}

/**
 * While the app is busy, one background request at a time: a foreground request waits behind one at
 * most. Against two, in `--only ack-path` and `--only end-to-end` runs of one morning: ack p99 at
 * half rate under 50 ms in 6 runs of 6 against 4 of 10 (over 55 in the others), acknowledged/s
 * 0.34-0.53 of raw puts against 0.35-0.44, the same end-to-end and Jira burst rates, freshness p99
 * 590-700 ms against 400-520.
 */
export const DEFAULT_REQUEST_LANES: RequestLaneOptions = { backgroundSlots: 1, maxWaitMs: 50 };

interface Waiter {
  since: number;
  start: () => void;
}

/** The admission rule alone, without a client (test/unit/request-lanes.test.ts drives it). */
export const laneGate = ({ backgroundSlots, maxWaitMs }: RequestLaneOptions, now: () => number = () => performance.now()) => {
  let foregroundInFlight = 0;
  let foregroundAt = Number.NEGATIVE_INFINITY;
  let backgroundInFlight = 0;
  const waiting: Waiter[] = [];
  const admit = () => {
    const busy = foregroundInFlight > 0 || now() - foregroundAt < maxWaitMs;
    while (waiting.length > 0 && (!busy || backgroundInFlight < backgroundSlots)) {
      if (foregroundInFlight > 0 && now() - waiting[0]!.since < maxWaitMs) return;
      backgroundInFlight++;
      waiting.shift()!.start();
    }
  };
  return {
    enterForeground: () => {
      foregroundInFlight++;
    },
    leaveForeground: () => {
      foregroundInFlight--;
      foregroundAt = now();
      admit();
    },
    enterBackground: (): Promise<void> =>
      new Promise<void>((start) => {
        const waiter = { since: now(), start };
        waiting.push(waiter);
        admit();
        // Admitted at the latest when its wait is over, or the app has gone quiet (a slot permitting).
        if (waiting.includes(waiter)) setTimeout(admit, maxWaitMs).unref();
      }),
    leaveBackground: () => {
      backgroundInFlight--;
      admit();
    },
    /** requests in flight and waiting, for tests */
    state: () => ({ foregroundInFlight, backgroundInFlight, waiting: waiting.length }),
  };
};

/** Runs every request of `client` between `enter` (awaited) and `leave`, its retries included. */
const inLane = (client: DynamoDBClient, name: string, enter: () => void | Promise<void>, leave: () => void): void => {
  client.middlewareStack.add(
    (next) => async (args) => {
      await enter();
      try {
        return await next(args);
      } finally {
        leave();
      }
    },
    { step: 'initialize', name },
  );
};

export const createRequestLanes = (options: RequestLaneOptions = DEFAULT_REQUEST_LANES): RequestLanes => {
  const gate = laneGate(options);
  return {
    foreground: (client) => inLane(client, 'tributaryForegroundLane', gate.enterForeground, gate.leaveForeground),
    background: (client) => inLane(client, 'tributaryBackgroundLane', gate.enterBackground, gate.leaveBackground),
  };
};
