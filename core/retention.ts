import * as z from 'zod';

/**
 * How long the table keeps what it no longer needs. Each record that can expire carries an
 * `expiresAt` (epoch seconds, the table's TTL attribute): DynamoDB deletes it in AWS, the local
 * retention sweep (pipeline/retention.ts) does it on the embedded engine.
 *
 * A delivery still pending never expires: it is acknowledged work the processor has not done yet.
 * The clock starts when a delivery reaches its final status (processed, ignored, failed), so a
 * delivery retried after a fix gets a fresh period, and when an alert resolves.
 */
export const RetentionPolicy = z.object({
  /** processed deliveries, raw body included: the window `POST /v1/replay` can reach back */
  deliveryDays: z.number().positive(),
  /** deliveries the hub acknowledged but does not index (events nobody asked for) */
  ignoredDays: z.number().positive(),
  /** deliveries that could not be processed: kept longer, to be fixed and retried */
  failedDays: z.number().positive(),
  /** resolved alerts */
  resolvedAlertDays: z.number().positive(),
  /** the event log: how far back a stream can resume, a subscription replay and an item's timeline reach */
  eventDays: z.number().positive(),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicy>;

export const DEFAULT_RETENTION: RetentionPolicy = { deliveryDays: 30, ignoredDays: 7, failedDays: 90, resolvedAlertDays: 90, eventDays: 30 };

/**
 * Large delivery bodies are written in parts before their record; a part outlives its record only
 * when that record was never written (a failed acknowledgement). This caps how long such a part
 * stays; the parts of a recorded delivery get its expiry once it reaches a final status.
 */
export const ORPHAN_PART_DAYS = 365;

const DAY_SECONDS = 86_400;

/** Epoch seconds `days` after `from` (ISO time), as DynamoDB's TTL wants them. */
export const expiryAfter = (from: string, days: number): number => Math.floor(Date.parse(from) / 1000 + days * DAY_SECONDS);

/** When a delivery that reached `status` at `at` expires. */
export const deliveryExpiry = (policy: RetentionPolicy, status: 'processed' | 'ignored' | 'failed', at: string): number =>
  expiryAfter(at, status === 'processed' ? policy.deliveryDays : status === 'ignored' ? policy.ignoredDays : policy.failedDays);
