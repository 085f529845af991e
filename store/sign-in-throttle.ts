import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sha256Hex } from '../core/ids.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * Failed dashboard sign-ins per client address, counted in the table so the limit holds across
 * every API instance (Lambda runs many). Fixed windows: one row per (address, window), a counter
 * raised with one atomic ADD, expiring after its window (TTL; the local retention sweep). The
 * address is kept only as a hash.
 */
export interface SignInThrottlePolicy {
  /** failed sign-ins allowed per window; the next attempts are refused until the window ends */
  maxFailures: number;
  windowSeconds: number;
}

export const DEFAULT_SIGN_IN_THROTTLE: SignInThrottlePolicy = { maxFailures: 5, windowSeconds: 15 * 60 };

const windowOf = (now: Date, policy: SignInThrottlePolicy) => {
  const seconds = Math.floor(now.getTime() / 1000);
  const start = seconds - (seconds % policy.windowSeconds);
  return { start, end: start + policy.windowSeconds };
};

const keyOf = (address: string, windowStart: number) => keys.signInFailures(sha256Hex(`sign-in\u0000${address}`), windowStart);

/** Whether sign-ins from `address` are refused now, and for how many more seconds. */
export const signInBlocked = async (
  db: Db,
  address: string,
  now: Date,
  policy: SignInThrottlePolicy = DEFAULT_SIGN_IN_THROTTLE,
): Promise<{ blocked: false } | { blocked: true; retryAfterSeconds: number }> => {
  const window = windowOf(now, policy);
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keyOf(address, window.start), ConsistentRead: true }));
  const failures = Number(Item?.failures ?? 0);
  if (failures < policy.maxFailures) return { blocked: false };
  return { blocked: true, retryAfterSeconds: Math.max(1, window.end - Math.floor(now.getTime() / 1000)) };
};

/** Counts one failed sign-in from `address`; answers the failures of the window so far. */
export const recordSignInFailure = async (db: Db, address: string, now: Date, policy: SignInThrottlePolicy = DEFAULT_SIGN_IN_THROTTLE): Promise<number> => {
  const window = windowOf(now, policy);
  const { Attributes } = await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keyOf(address, window.start),
      UpdateExpression: 'ADD failures :one SET expiresAt = :expires',
      ExpressionAttributeValues: { ':one': 1, ':expires': window.end + 60 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(Attributes?.failures ?? 1);
};
