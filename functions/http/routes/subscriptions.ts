import { Hono } from 'hono';
import * as z from 'zod';
import { subscriptionCacheFor, matchAndEnqueue } from '../../../bus/subscription-matching.ts';
import { type TargetPolicy, checkTarget } from '../../../bus/webhook-target.ts';
import { alertId } from '../../../core/alerts.ts';
import { AppError, NotFoundError, ValidationError } from '../../../core/errors.ts';
import { randomId } from '../../../core/ids.ts';
import type { Clock } from '../../../core/ports.ts';
import { DEFAULT_RETENTION } from '../../../core/retention.ts';
import {
  MAX_SUBSCRIPTIONS_PER_TENANT,
  SECRET_ROTATION_GRACE_MS,
  type Subscription,
  SubscriptionFilter,
  SubscriptionFormat,
  SubscriptionStatus,
  SubscriptionTypes,
  newWebhookSecret,
} from '../../../core/subscriptions.ts';
import { resolveAlert } from '../../../store/alerts.ts';
import { recordAudit } from '../../../store/audit.ts';
import type { Db } from '../../../store/db.ts';
import { readTenantLog } from '../../../store/event-log.ts';
import {
  type StoredSubscription,
  deleteSubscriptionRecord,
  deleteSubscriptionRows,
  getSubscription,
  listAttempts,
  listSubscriptions,
  requeueUndelivered,
  saveSubscription,
} from '../../../store/subscriptions.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody, parseQuery } from '../problem.ts';
import { isEventCursor } from './events.ts';
import { pageOf } from './items.ts';

const Url = z.string().min(1).max(2000).describe('where events are POSTed: `https` (loopback and private addresses are refused, after resolution too)');
const Description = z.string().min(1).max(200);

const CreateSubscription = z.object({
  url: Url,
  types: SubscriptionTypes.describe('event-type patterns: `work.item.*`, `work.alert.raised`, `*`'),
  filter: SubscriptionFilter.optional(),
  format: SubscriptionFormat.default('json'),
  description: Description.optional(),
});

/** JSON Merge Patch (RFC 7396): `null` removes `filter` or `description`. */
const UpdateSubscription = z.object({
  url: Url.optional(),
  types: SubscriptionTypes.optional(),
  filter: SubscriptionFilter.nullable().optional(),
  format: SubscriptionFormat.optional(),
  description: Description.nullable().optional(),
  status: z
    .enum(['active', 'paused'])
    .optional()
    .describe('`paused` stops sending (matching events keep queuing); `active` resumes a paused or disabled subscription and sends what it missed'),
});

const RotateSecret = z.object({
  graceSeconds: z.number().int().min(0).max(7 * 86_400).default(SECRET_ROTATION_GRACE_MS / 1000).describe('how long the previous secret keeps signing beside the new one'),
});

const Replay = z.object({
  since: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'is an ISO 8601 date-time').describe('send again every matching event from this time on (the event log keeps TRIBUTARY_RETENTION_EVENT_DAYS)'),
  until: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'is an ISO 8601 date-time').optional().describe('up to this time (default: now)'),
  cursor: z.string().optional().describe('`nextCursor` of the previous answer: go on from there'),
});

const AttemptsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().describe('`nextCursor` of the previous page'),
  eventId: z.string().max(100).optional().describe("one event's attempts"),
});

export const SubscriptionView = z.object({
  id: z.string(),
  url: z.string(),
  types: z.array(z.string()),
  filter: SubscriptionFilter.optional(),
  format: SubscriptionFormat,
  description: z.string().optional(),
  status: SubscriptionStatus,
  disabledReason: z.string().optional().describe('why the hub disabled it'),
  disabledAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  secretRotatedAt: z.string().optional(),
  previousSecretExpiresAt: z.string().optional().describe('until then, each delivery carries a signature with the previous secret too'),
  failingSince: z.string().optional().describe('every attempt has failed since then; 24 hours of it disables the subscription'),
  lastSuccessAt: z.string().optional(),
  lastFailureAt: z.string().optional(),
  lastError: z.string().optional(),
});

const WithSecret = SubscriptionView.extend({ secret: z.string().describe('shown once: `whsec_` + base64, as Standard Webhooks defines it; verify each delivery with it') });

const Attempt = z.object({
  eventId: z.string().describe('also the `webhook-id` of every attempt of the event'),
  eventType: z.string(),
  attempt: z.number().int().describe('1 for the first'),
  at: z.string(),
  durationMs: z.number(),
  status: z.number().int().optional().describe("the receiver's HTTP status"),
  error: z.string().optional(),
  outcome: z.enum(['delivered', 'retrying', 'failed']),
  nextAttemptAt: z.string().optional().describe('when the next attempt is due'),
});

const ReplayAnswer = z.object({
  queued: z.number().int().describe('matching events queued to be sent again'),
  from: z.string().describe('where the replay started (`since`, or the oldest the event log keeps)'),
  nextCursor: z.string().nullable().describe('more events remain: POST again with `cursor`'),
});

export const subscriptionOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/subscriptions',
    summary: 'Subscribe a URL to events: signed (Standard Webhooks), retried for about a day, with a durable queue',
    tag: 'subscriptions',
    scope: 'admin',
    body: CreateSubscription,
    responses: {
      201: { description: 'Created, with its signing secret (shown once)', schema: WithSecret },
      422: { description: 'Invalid body, or the URL is refused (`target-refused`: not https, or a loopback, private, link-local or metadata address)' },
    },
  },
  { method: 'get', path: '/v1/subscriptions', summary: 'List subscriptions (without secrets)', tag: 'subscriptions', scope: 'admin', responses: { 200: { description: 'All subscriptions', schema: pageOf(SubscriptionView) } } },
  { method: 'get', path: '/v1/subscriptions/{id}', summary: 'One subscription, with how its deliveries go', tag: 'subscriptions', scope: 'admin', responses: { 200: { description: 'The subscription', schema: SubscriptionView } } },
  {
    method: 'patch',
    path: '/v1/subscriptions/{id}',
    summary: 'Change a subscription (JSON Merge Patch): pause or resume it, change its types, filter, format, URL or description',
    tag: 'subscriptions',
    scope: 'admin',
    body: UpdateSubscription,
    responses: { 200: { description: 'The subscription as updated', schema: SubscriptionView }, 422: { description: 'Invalid body or refused URL' } },
  },
  { method: 'delete', path: '/v1/subscriptions/{id}', summary: 'Delete a subscription with its queue and attempts', tag: 'subscriptions', scope: 'admin', responses: { 204: { description: 'Deleted' } } },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/rotate-secret',
    summary: 'A new signing secret; the previous one keeps signing beside it for `graceSeconds` (default 24 hours)',
    tag: 'subscriptions',
    scope: 'admin',
    body: RotateSecret,
    responses: { 200: { description: 'The new secret', schema: WithSecret } },
  },
  {
    method: 'get',
    path: '/v1/subscriptions/{id}/attempts',
    summary: 'Delivery attempts, newest first: event, attempt number, status or error, duration, when, and when the next is due',
    tag: 'subscriptions',
    scope: 'admin',
    query: AttemptsQuery,
    responses: { 200: { description: 'Attempts', schema: pageOf(Attempt) } },
  },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/replay',
    summary: 'Send again every matching event since a time, read from the event log (at most 5000 per call: repeat with `cursor`)',
    tag: 'subscriptions',
    scope: 'admin',
    body: Replay,
    responses: { 202: { description: 'Queued', schema: ReplayAnswer }, 400: { description: '`cursor` is not a cursor of the event log' } },
  },
];

export interface SubscriptionRouteDeps {
  db: Db;
  clock: Clock;
  /** the SSRF guard's policy (TRIBUTARY_ALLOW_PRIVATE_TARGETS, the resolver) */
  webhookTargets: TargetPolicy;
  /** told when a subscription has work to send now (a local dispatcher runs its lane) */
  onSubscriptionWork?: (tenantId: string, subscriptionId: string) => void;
  /** told when an alert was resolved (a local publisher drains it at once) */
  onEvents?: () => void;
}

const view = ({ subscription: s, health }: StoredSubscription): z.infer<typeof SubscriptionView> => {
  const previous = s.secrets[1];
  return {
    id: s.id,
    url: s.url,
    types: s.types,
    ...(s.filter ? { filter: s.filter } : {}),
    format: s.format,
    ...(s.description ? { description: s.description } : {}),
    status: s.status,
    ...(s.disabled ? { disabledReason: s.disabled.reason, disabledAt: s.disabled.at } : {}),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...(previous ? { secretRotatedAt: s.secrets[0]!.createdAt, ...(previous.expiresAt ? { previousSecretExpiresAt: previous.expiresAt } : {}) } : {}),
    ...health,
  };
};

/** What the audit log keeps of a URL: where it points, never its path or query (they may carry a token). */
const auditedTarget = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
};

/** Events read from the log per replay call. */
const REPLAY_MAX_EVENTS = 5000;

export const subscriptionRoutes = (deps: SubscriptionRouteDeps) => {
  const cache = subscriptionCacheFor(deps.db);
  const own = async (tenantId: string, id: string): Promise<StoredSubscription> => {
    const stored = await getSubscription(deps.db, tenantId, id);
    if (!stored) throw new NotFoundError(`Subscription ${id}`);
    return stored;
  };
  /** Writes a change read at `stored.rev`; a concurrent change (the dispatcher disabling it) answers 409: read and try again. */
  const save = async (stored: StoredSubscription, next: Subscription, options: { resetHealth?: boolean } = {}) => {
    if (!(await saveSubscription(deps.db, next, stored.rev, options))) {
      throw new AppError({ status: 409, type: 'subscription-changed', title: 'Conflict', detail: `Subscription ${next.id} changed meanwhile (the hub may have disabled it): read it again and retry.` });
    }
    cache.invalidate(next.tenantId);
    return { ...stored, subscription: next, rev: stored.rev + 1 };
  };
  const resolveDisabledAlert = async (tenantId: string, id: string, now: Date) => {
    if (await resolveAlert(deps.db, tenantId, id, alertId('subscription_disabled', id, []), now)) deps.onEvents?.();
  };

  return new Hono<AuthEnv>()
    .post('/', async (c) => {
      const body = await parseJsonBody(c, CreateSubscription);
      const { tenantId, tokenId } = c.get('principal');
      const target = await checkTarget(body.url, deps.webhookTargets);
      if ((await listSubscriptions(deps.db, tenantId)).length >= MAX_SUBSCRIPTIONS_PER_TENANT) {
        throw new ValidationError([{ path: '', message: `a tenant has at most ${MAX_SUBSCRIPTIONS_PER_TENANT} subscriptions: delete one first` }], 'The request');
      }
      const now = deps.clock().toISOString();
      const secret = newWebhookSecret();
      const subscription: Subscription = {
        id: randomId('sub'),
        tenantId,
        url: target.url.href,
        types: [...new Set(body.types)],
        ...(body.filter ? { filter: body.filter } : {}),
        format: body.format,
        ...(body.description ? { description: body.description } : {}),
        status: 'active',
        secrets: [{ value: secret, createdAt: now }],
        createdAt: now,
        updatedAt: now,
      };
      await saveSubscription(deps.db, subscription, 0);
      cache.invalidate(tenantId);
      const detail = { target: auditedTarget(subscription.url), types: subscription.types, format: subscription.format };
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'subscription.created', target: subscription.id, detail, at: now });
      return c.json({ ...view({ subscription, health: {}, rev: 1 }), secret }, 201);
    })
    .get('/', async (c) => c.json({ items: (await listSubscriptions(deps.db, c.get('principal').tenantId)).map(view), nextCursor: null }))
    .get('/:id', async (c) => c.json(view(await own(c.get('principal').tenantId, c.req.param('id')))))
    .patch('/:id', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const stored = await own(tenantId, c.req.param('id'));
      const patch = await parseJsonBody(c, UpdateSubscription);
      const current = stored.subscription;
      const now = deps.clock();
      const url = patch.url !== undefined && patch.url !== current.url ? (await checkTarget(patch.url, deps.webhookTargets)).url.href : current.url;
      const { filter: _filter, description: _description, disabled: _disabled, ...kept } = current;
      const filter = patch.filter === undefined ? current.filter : (patch.filter ?? undefined);
      const description = patch.description === undefined ? current.description : (patch.description ?? undefined);
      const resuming = patch.status === 'active' && current.status !== 'active';
      const status = patch.status ?? current.status;
      const next: Subscription = {
        ...kept,
        url,
        ...(patch.types ? { types: [...new Set(patch.types)] } : {}),
        ...(filter ? { filter } : {}),
        ...(patch.format ? { format: patch.format } : {}),
        ...(description ? { description } : {}),
        status,
        ...(status === 'disabled' && current.disabled ? { disabled: current.disabled } : {}),
        updatedAt: now.toISOString(),
      };
      // A resume is a fresh start: everything not delivered is due now, and the failing streak is
      // forgotten. Both happen before any dispatcher can read the subscription active: the queue
      // is reset while nothing sends for it (a dispatcher's pass could otherwise claim and send
      // an event that the reset then queues again), and the streak goes in the very write that
      // makes it active (a pass reading it active with the old streak would disable it again).
      const requeued = resuming ? await requeueUndelivered(deps.db, tenantId, current.id, now) : 0;
      const saved = await save(stored, next, { resetHealth: resuming });
      if (resuming) {
        saved.health = {};
        if (current.status === 'disabled') await resolveDisabledAlert(tenantId, current.id, now);
        deps.onSubscriptionWork?.(tenantId, current.id);
      }
      const changed = Object.keys(patch).filter((k) => JSON.stringify((patch as Record<string, unknown>)[k]) !== JSON.stringify((current as unknown as Record<string, unknown>)[k]));
      await recordAudit(deps.db, {
        tenantId,
        actor: tokenId,
        action: resuming ? 'subscription.resumed' : patch.status === 'paused' && current.status !== 'paused' ? 'subscription.paused' : 'subscription.updated',
        target: current.id,
        detail: { changed, ...(resuming ? { requeued, from: current.status } : {}), ...(url !== current.url ? { target: auditedTarget(url) } : {}) },
        at: now.toISOString(),
      });
      return c.json(view(saved));
    })
    .delete('/:id', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const stored = await own(tenantId, c.req.param('id'));
      const now = deps.clock();
      await deleteSubscriptionRecord(deps.db, tenantId, stored.subscription.id);
      cache.invalidate(tenantId);
      const rows = await deleteSubscriptionRows(deps.db, tenantId, stored.subscription.id);
      await resolveDisabledAlert(tenantId, stored.subscription.id, now);
      const detail = { target: auditedTarget(stored.subscription.url), queuedAndAttemptsDeleted: rows };
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'subscription.deleted', target: stored.subscription.id, detail, at: now.toISOString() });
      return c.body(null, 204);
    })
    .post('/:id/rotate-secret', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const stored = await own(tenantId, c.req.param('id'));
      const { graceSeconds } = await parseJsonBody(c, RotateSecret);
      const now = deps.clock();
      const secret = newWebhookSecret();
      const expiresAt = new Date(now.getTime() + graceSeconds * 1000).toISOString();
      // Only the secret being replaced keeps signing for the grace window; older ones stop now.
      const next: Subscription = {
        ...stored.subscription,
        secrets: [{ value: secret, createdAt: now.toISOString() }, { ...stored.subscription.secrets[0]!, expiresAt }],
        updatedAt: now.toISOString(),
      };
      const saved = await save(stored, next);
      const detail = { graceSeconds, previousSecretExpiresAt: expiresAt };
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'subscription.secret_rotated', target: next.id, detail, at: now.toISOString() });
      return c.json({ ...view(saved), secret });
    })
    .get('/:id/attempts', async (c) => {
      const { tenantId } = c.get('principal');
      const stored = await own(tenantId, c.req.param('id'));
      const query = parseQuery(c, AttemptsQuery);
      return c.json(await listAttempts(deps.db, tenantId, stored.subscription.id, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}), ...(query.eventId ? { eventId: query.eventId } : {}) }));
    })
    .post('/:id/replay', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const stored = await own(tenantId, c.req.param('id'));
      const body = await parseJsonBody(c, Replay);
      if (body.cursor !== undefined && !isEventCursor(body.cursor)) {
        throw new AppError({ status: 400, type: 'invalid-cursor', title: 'Invalid cursor', detail: 'The cursor is not one of the event log: pass `nextCursor` back unchanged.' });
      }
      const now = deps.clock();
      const retentionDays = (deps.db.retention ?? DEFAULT_RETENTION).eventDays;
      const oldest = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
      const since = new Date(Date.parse(body.since)).toISOString();
      const from = since < oldest ? oldest : since;
      const until = body.until ? new Date(Date.parse(body.until)).toISOString() : now.toISOString();
      // A cursor's leading time sorts with the others: `from` as a cursor starts at the first event of that millisecond.
      let after = body.cursor ?? from;
      let read = 0;
      let queued = 0;
      let more = false;
      for (;;) {
        const page = await readTenantLog(deps.db, tenantId, { after, limit: 500, until: now });
        const inRange = page.filter(({ event }) => Date.parse(event.time) <= Date.parse(until));
        const result = await matchAndEnqueue(
          { db: deps.db, clock: deps.clock },
          inRange.map((e) => e.event),
          inRange.map((e) => e.cursor),
          { only: stored, replace: true },
        );
        queued += result.queued.length;
        read += page.length;
        if (page.length > 0) after = page.at(-1)!.cursor;
        if (page.length < 500 || inRange.length < page.length) break;
        if (read >= REPLAY_MAX_EVENTS) {
          more = true;
          break;
        }
      }
      if (queued > 0) deps.onSubscriptionWork?.(tenantId, stored.subscription.id);
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'subscription.replayed', target: stored.subscription.id, detail: { since: from, until, queued }, at: now.toISOString() });
      return c.json({ queued, from, nextCursor: more ? after : null }, 202);
    });
};
