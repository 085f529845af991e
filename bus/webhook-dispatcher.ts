import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Clock, Logger } from '../core/ports.ts';
import { slackMessageFor } from '../core/slack-message.ts';
import {
  DISABLE_AFTER_FAILING_MS,
  MAX_ATTEMPTS,
  type Subscription,
  type SubscriptionHealth,
  retryDelayMs,
  signingSecrets,
  subjectItemId,
  subscriptionDisabledAlert,
} from '../core/subscriptions.ts';
import { raiseAlert } from '../store/alerts.ts';
import { recordAudit } from '../store/audit.ts';
import type { Db } from '../store/db.ts';
import { getItems } from '../store/item-queries.ts';
import {
  type DeliveryOutcome,
  type QueuedDelivery,
  type SendSlot,
  type StoredSubscription,
  claimDelivery,
  completeDelivery,
  getSubscription,
  listDueDeliveries,
  nextDueAt,
  recordAttempt,
  recordSubscriptionFailure,
  recordSubscriptionSuccess,
  releaseSendSlot,
  saveSubscription,
  takeSendSlot,
} from '../store/subscriptions.ts';
import type { SendResult, WebhookRequest, WebhookSender } from './webhook-sender.ts';

/*
 * Sending a subscription's due deliveries: claim one (store/subscriptions.ts), build its body
 * (the event envelope, or a Slack message), sign it per Standard Webhooks at this attempt's time,
 * send it through the guard, then record the attempt and what comes next — delivered, retried
 * after the backoff, or given up after the last attempt. A 410 Gone disables the subscription at
 * once; so do 24 hours in which every attempt failed. Either raises a `subscription_disabled`
 * alert, audited as the hub's own action.
 */

export interface DispatchDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  send: WebhookSender;
  /** the hub's public URL (dashboard links in Slack messages), when known */
  publicUrl?: () => string | undefined;
  random?: () => number;
  /** told when an alert was raised, so a local publisher drains it at once */
  onEvents?: () => void;
  /** how long a claim holds a delivery: longer than an attempt can take (15 s) */
  leaseMs?: number;
}

/** A claim outlives the longest attempt (15 s) with room for the writes around it. */
export const CLAIM_LEASE_MS = 30_000;

/** Sends of one subscription under way at once, wherever they run. */
export const SENDS_PER_SUBSCRIPTION = 2;
/** How long a send waits for one of its subscription's slots in the table before leaving the delivery to their holders. */
export const SLOT_WAIT_MS = 2_000;

/**
 * How many sends a subscription may have under way at once: SENDS_PER_SUBSCRIPTION, or one while
 * its attempts fail (its last attempt failed: a receiver that hangs holds one slot for 15 s, not two).
 */
export const sendsAtOnce = (health: SubscriptionHealth, perSubscription = SENDS_PER_SUBSCRIPTION): number =>
  health.failingSince ? 1 : perSubscription;

export interface LaneOptions {
  /** due deliveries claimed in this pass at most */
  limit?: number;
  /** sends of this subscription at once in this pass (default: `sendsAtOnce` of its health) */
  concurrency?: number;
  /** epoch ms: claim nothing that could not finish by then */
  deadline?: number;
  /** a slot of a shared bound on sends in flight (the process's), released by calling what it resolves */
  acquire?: () => Promise<() => void>;
  /**
   * Other dispatchers send for this subscription too (Lambda invocations, the sweep): each send
   * takes one of the subscription's send slots in the table first (`sendsAtOnce` of them), so its
   * sends run in at most that many places at once. With no slot free, it tries again for up to
   * `slotWaitMs` (a receiver that answers frees its slot within moments), then the pass stops
   * (`busy`): what it leaves stays due, for the dispatchers holding the slots, a later pass or the
   * sweep.
   */
  slotsInTable?: boolean;
  /** how long a send waits for a slot in the table (default SLOT_WAIT_MS) */
  slotWaitMs?: number;
}

export interface LaneReport {
  /** deliveries claimed and attempted in this pass */
  attempted: number;
  delivered: number;
  /** the pass took as many as it could: more may be due */
  full: boolean;
  /** every send slot of the subscription was held by other dispatchers: the pass left what is due to them */
  busy?: boolean;
  /** when the soonest of what is left is due */
  nextDueAt?: string;
}

const USER_AGENT = 'Tributary-Webhooks/1.0 (+https://www.standardwebhooks.com)';
/** How stale `lastSuccessAt` may get on a healthy subscription (each refresh is a write). */
const SUCCESS_NOTE_MS = 60_000;

/** The request of one attempt: body, and the Standard Webhooks headers signed with every current secret. */
export const buildWebhookRequest = async (deps: Pick<DispatchDeps, 'db' | 'publicUrl'>, subscription: Subscription, delivery: QueuedDelivery, at: Date): Promise<WebhookRequest> => {
  let body: string;
  if (subscription.format === 'slack') {
    const itemId = subjectItemId(delivery.event);
    const item = itemId ? (await getItems(deps.db, delivery.tenantId, [itemId])).get(itemId) : undefined;
    const dashboardUrl = deps.publicUrl?.();
    body = JSON.stringify(slackMessageFor(delivery.event, { ...(item ? { item } : {}), ...(dashboardUrl ? { dashboardUrl } : {}) }));
  } else {
    body = JSON.stringify(delivery.event);
  }
  // One signature per secret, space-separated: a receiver still on the previous secret verifies during a rotation.
  const signature = signingSecrets(subscription, at)
    .map((secret) => new Webhook(secret).sign(delivery.eventId, at, body))
    .join(' ');
  return {
    url: subscription.url,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
};

/**
 * Disables an active subscription with its reason, raises its alert and audits it. False when it
 * was no longer active (paused or disabled meanwhile, or deleted), or when `still` no longer holds
 * of the record read just before the write (the write is conditional on that read's `rev`).
 */
export const disableSubscription = async (
  deps: Pick<DispatchDeps, 'db' | 'clock' | 'log' | 'onEvents'>,
  tenantId: string,
  subscriptionId: string,
  reason: string,
  still: (stored: StoredSubscription, now: Date) => boolean = () => true,
): Promise<boolean> => {
  for (let attempt = 0; attempt < 10; attempt++) {
    const stored = await getSubscription(deps.db, tenantId, subscriptionId);
    if (!stored || stored.subscription.status !== 'active') return false;
    const now = deps.clock();
    if (!still(stored, now)) return false;
    const at = now.toISOString();
    const next: Subscription = { ...stored.subscription, status: 'disabled', disabled: { at, reason }, updatedAt: at };
    if (!(await saveSubscription(deps.db, next, stored.rev))) continue;
    deps.log.warn('webhook subscription disabled', { tenantId, subscriptionId, reason });
    if (await raiseAlert(deps.db, tenantId, subscriptionDisabledAlert(next, reason), now)) deps.onEvents?.();
    await recordAudit(deps.db, { tenantId, actor: 'system', action: 'subscription.disabled', target: subscriptionId, detail: { reason }, at });
    return true;
  }
  return false;
};

const describeFailure = (result: SendResult): string =>
  result.status !== undefined ? `HTTP ${result.status}${result.status >= 300 && result.status < 400 ? ' (redirects are not followed)' : ''}` : (result.error ?? 'failed');

/** Sends one claimed delivery and records what came of it; returns the outcome. */
const attemptDelivery = async (deps: DispatchDeps, stored: StoredSubscription, delivery: QueuedDelivery, claim: string, startedAt: Date): Promise<DeliveryOutcome['kind'] | 'gone'> => {
  const { db } = deps;
  const { subscription } = stored;
  let result: SendResult;
  try {
    result = await deps.send(await buildWebhookRequest(deps, subscription, delivery, startedAt));
  } catch (error) {
    result = { error: String(error), durationMs: Date.now() - startedAt.getTime() };
  }
  const finishedAt = deps.clock();
  const at = finishedAt.toISOString();
  const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
  const gone = result.status === 410;
  let outcome: DeliveryOutcome;
  if (ok) {
    outcome = { kind: 'delivered', at, status: result.status! };
  } else {
    const delay = gone ? undefined : retryDelayMs(delivery.attempts - delivery.base, deps.random);
    const failure = { ...(result.status !== undefined ? { status: result.status } : {}), error: describeFailure(result) };
    outcome = delay === undefined ? { kind: 'failed', at, ...failure } : { kind: 'retry', at, nextAt: new Date(finishedAt.getTime() + delay).toISOString(), ...failure };
  }
  await completeDelivery(db, delivery, claim, outcome);
  await recordAttempt(db, subscription.tenantId, subscription.id, {
    eventId: delivery.eventId,
    eventType: delivery.type,
    attempt: delivery.attempts,
    at: startedAt.toISOString(),
    durationMs: result.durationMs,
    ...(result.status !== undefined ? { status: result.status } : {}),
    ...(outcome.kind !== 'delivered' ? { error: outcome.kind === 'failed' && !gone ? `${describeFailure(result)}; gave up after ${MAX_ATTEMPTS} attempts` : describeFailure(result) } : {}),
    outcome: outcome.kind === 'retry' ? 'retrying' : outcome.kind,
    ...(outcome.kind === 'retry' ? { nextAttemptAt: outcome.nextAt } : {}),
  });
  const log = { tenantId: subscription.tenantId, subscriptionId: subscription.id, eventId: delivery.eventId, attempt: delivery.attempts };
  if (ok) {
    // A healthy subscription's record is written at most once a minute, not once per delivery.
    const { failingSince, lastSuccessAt } = stored.health;
    if (failingSince || !lastSuccessAt || finishedAt.getTime() - Date.parse(lastSuccessAt) > SUCCESS_NOTE_MS) {
      await recordSubscriptionSuccess(db, subscription.tenantId, subscription.id, at);
      stored.health = { ...stored.health, lastSuccessAt: at };
      delete stored.health.failingSince;
    }
    return 'delivered';
  }
  deps.log.warn('webhook attempt failed', { ...log, error: describeFailure(result), ...(outcome.kind === 'retry' ? { nextAt: outcome.nextAt } : {}) });
  if (gone) {
    await disableSubscription(deps, subscription.tenantId, subscription.id, `the receiver answered 410 Gone to event ${delivery.eventId} at ${at}`);
    return 'gone';
  }
  const health = await recordSubscriptionFailure(db, subscription.tenantId, subscription.id, at, describeFailure(result));
  if (health) stored.health = health;
  if (health?.failingSince && finishedAt.getTime() - Date.parse(health.failingSince) >= DISABLE_AFTER_FAILING_MS) {
    await disableSubscription(deps, subscription.tenantId, subscription.id, failingReason(health.failingSince, describeFailure(result)), stillFailing);
    return 'gone';
  }
  return outcome.kind;
};

const failingReason = (since: string, last: string) => `every attempt has failed since ${since} (24 hours or more); the last: ${last}`;

/** Still failing for a day, as read now: a resume (which forgets the streak) between the decision and the write wins. */
const stillFailing = (stored: StoredSubscription, now: Date): boolean => {
  const since = stored.health.failingSince;
  return since !== undefined && now.getTime() - Date.parse(since) >= DISABLE_AFTER_FAILING_MS;
};

/**
 * A subscription ready to send: read again (strongly consistent) and active. A quiet subscription
 * has no attempt to fail, so its failing streak is checked here too, and one that has failed for a
 * day is disabled instead. Undefined when nothing is to be sent for it.
 */
export const openLane = async (deps: DispatchDeps, tenantId: string, subscriptionId: string): Promise<StoredSubscription | undefined> => {
  const stored = await getSubscription(deps.db, tenantId, subscriptionId);
  if (!stored || stored.subscription.status !== 'active') return undefined;
  const since = stored.health.failingSince;
  if (since && deps.clock().getTime() - Date.parse(since) >= DISABLE_AFTER_FAILING_MS) {
    await disableSubscription(deps, tenantId, subscriptionId, failingReason(since, stored.health.lastError ?? 'unknown'), stillFailing);
    return undefined;
  }
  return stored;
};

/**
 * Claims one due delivery and sends it, recording the outcome; undefined when another dispatcher
 * claimed it first. A failure to record leaves the claim to lapse: the delivery is due again, and
 * nothing is lost.
 */
export const sendDue = async (deps: DispatchDeps, stored: StoredSubscription, key: { pk: string; sk: string }): Promise<Awaited<ReturnType<typeof attemptDelivery>> | undefined> => {
  const claim = randomUUID();
  const startedAt = deps.clock();
  const delivery = await claimDelivery(deps.db, key, startedAt, deps.leaseMs ?? CLAIM_LEASE_MS, claim);
  if (!delivery) return undefined;
  return attemptDelivery(deps, stored, delivery, claim, startedAt);
};

/**
 * One pass over a subscription's due deliveries: at most `limit` claimed, `concurrency` sent at
 * once (`sendsAtOnce`: 2, or 1 while it fails). Nothing is sent for a subscription that is not
 * active. Idempotent and safe to run concurrently with other dispatchers (claims decide who sends;
 * with `slotsInTable`, the subscription's send slots bound how many send at once). The Lambda
 * dispatcher and the sweep run passes; the local runner (bus/webhook-runner.ts) keeps each lane
 * full instead.
 */
export const dispatchSubscription = async (deps: DispatchDeps, tenantId: string, subscriptionId: string, options: LaneOptions = {}): Promise<LaneReport> => {
  const limit = options.limit ?? 25;
  const leaseMs = deps.leaseMs ?? CLAIM_LEASE_MS;
  const report: LaneReport = { attempted: 0, delivered: 0, full: false };
  const stored = await openLane(deps, tenantId, subscriptionId);
  if (!stored) return report;
  const due = await listDueDeliveries(deps.db, subscriptionId, deps.clock(), limit);
  report.full = due.length >= limit;
  const slots = sendsAtOnce(stored.health);
  let next = 0;
  let stop = false;
  const late = () => options.deadline !== undefined && Date.now() + leaseMs > options.deadline;
  const random = deps.random ?? Math.random;
  const takeSlot = async (): Promise<SendSlot | undefined> => {
    const until = Date.now() + (options.slotWaitMs ?? SLOT_WAIT_MS);
    for (let pause = 50; ; pause = Math.min(pause * 2, 400)) {
      const slot = await takeSendSlot(deps.db, tenantId, subscriptionId, slots, deps.clock(), leaseMs, random);
      if (slot || stop || Date.now() + pause > until || late()) return slot;
      await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + random())));
    }
  };
  const worker = async () => {
    while (!stop && next < due.length) {
      if (late()) {
        report.full = true;
        return;
      }
      const key = due[next++]!;
      const release = options.acquire ? await options.acquire() : () => undefined;
      let slot: SendSlot | undefined;
      try {
        if (options.slotsInTable) {
          slot = await takeSlot();
          if (!slot) {
            report.busy = true;
            stop = true;
            return;
          }
        }
        const outcome = await sendDue(deps, stored, key);
        if (outcome === undefined) continue;
        report.attempted++;
        if (outcome === 'delivered') report.delivered++;
        if (outcome === 'gone') stop = true;
      } catch (error) {
        deps.log.warn('webhook delivery could not be recorded, it is sent again after its claim lapses', { tenantId, subscriptionId, key: key.sk, error: String(error) });
      } finally {
        // A slot that cannot be freed frees itself when its lease ends.
        if (slot) await releaseSendSlot(deps.db, slot).catch(() => undefined);
        release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? slots, Math.max(due.length, 1)) }, worker));
  const soonest = await nextDueAt(deps.db, subscriptionId);
  return { ...report, ...(soonest ? { nextDueAt: soonest } : {}) };
};

export interface DispatchAllReport {
  subscriptions: number;
  attempted: number;
  delivered: number;
  /** the deadline came before every subscription was looked at */
  incomplete: boolean;
}

/**
 * A pass over every subscription of the hub (the scheduled sweep in AWS: retries later than SQS
 * can delay, what a crash left claimed, and what a dispatcher left because the subscription's send
 * slots were held), `lanes` subscriptions at once, until `deadline`. Each send takes one of its
 * subscription's slots in the table, like the dispatcher function's.
 */
export const dispatchAll = async (deps: DispatchDeps, options: { deadline?: number; lanes?: number; listAll: () => Promise<{ tenantId: string; subscriptionId: string }[]> }): Promise<DispatchAllReport> => {
  const all = await options.listAll();
  const report: DispatchAllReport = { subscriptions: all.length, attempted: 0, delivered: 0, incomplete: false };
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      if (options.deadline !== undefined && Date.now() + (deps.leaseMs ?? CLAIM_LEASE_MS) > options.deadline) {
        report.incomplete = true;
        return;
      }
      const { tenantId, subscriptionId } = all[next++]!;
      try {
        const lane = await dispatchSubscription(deps, tenantId, subscriptionId, {
          ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
          limit: 100,
          slotsInTable: true,
        });
        report.attempted += lane.attempted;
        report.delivered += lane.delivered;
        if (lane.full) report.incomplete = true;
      } catch (error) {
        report.incomplete = true;
        deps.log.warn('webhook dispatch failed for a subscription, the next pass retries it', { tenantId, subscriptionId, error: String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.lanes ?? 8, Math.max(all.length, 1)) }, worker));
  return report;
};
