import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { type AlertDraft, alertId } from './alerts.ts';
import { EventTypePattern, matchesAnyType } from './event-patterns.ts';
import type { EventEnvelope } from './events.ts';
import { Category, Source, type WorkItem } from './work-item.ts';

/**
 * Webhook subscriptions (pure part): what a subscription is, which events it gets, how its
 * deliveries are retried, and the alert that announces one disabled. Delivery follows Standard
 * Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` (bus/webhook-dispatcher.ts signs with the `standardwebhooks` package).
 */

export const SubscriptionFormat = z.enum(['json', 'slack']).describe('`json`: the event envelope, as on the bus; `slack`: a Slack incoming-webhook message');
export type SubscriptionFormat = z.infer<typeof SubscriptionFormat>;

export const SubscriptionStatus = z
  .enum(['active', 'paused', 'disabled'])
  .describe('`paused` by an admin or `disabled` by the hub (410 Gone, or every attempt failed for 24 hours): matching events wait in its queue; setting `active` sends them');
export type SubscriptionStatus = z.infer<typeof SubscriptionStatus>;

const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).min(1).max(max).optional();

/** Narrows a subscription to some work; every dimension named must match, an event without that dimension does not. */
export const SubscriptionFilter = z
  .object({
    sources: list(Source, 3).describe('the tool the item is in'),
    teams: list(z.string().min(1).max(100), 100).describe("the item's team (the team map's, as in GET /v1/items), an alert's or a digest's team"),
    projects: list(z.string().regex(/^(github|jira|email):.+$/i, 'is `{source}:{key}`, e.g. `github:octo/api`, `jira:ACME`'), 100).describe(
      'the container: a repository, a Jira project or a mailbox, `{source}:{key}` (case-insensitive)',
    ),
    categories: list(Category, 3).describe("the item's category"),
  })
  .strict();
export type SubscriptionFilter = z.infer<typeof SubscriptionFilter>;

export const SubscriptionTypes = z.array(EventTypePattern).min(1).max(50);

/** A signing secret; during a rotation the previous one signs beside the new one until `expiresAt`. */
export interface SubscriptionSecret {
  value: string;
  createdAt: string;
  expiresAt?: string;
}

/** A subscription as stored (store/subscriptions.ts), secrets included. */
export interface Subscription {
  id: string;
  tenantId: string;
  url: string;
  types: string[];
  filter?: SubscriptionFilter;
  format: SubscriptionFormat;
  description?: string;
  status: SubscriptionStatus;
  /** why and when the hub disabled it */
  disabled?: { at: string; reason: string };
  /** newest first */
  secrets: SubscriptionSecret[];
  createdAt: string;
  updatedAt: string;
}

/** How a subscription's deliveries have gone lately, kept beside the record by the dispatcher. */
export interface SubscriptionHealth {
  /** the first failure since the last success: when every attempt has failed for 24 hours, the hub disables it */
  failingSince?: string;
  lastSuccessAt?: string;
  lastFailureAt?: string;
  lastError?: string;
}

/** At most this many subscriptions per tenant: each published event is matched against all of them. */
export const MAX_SUBSCRIPTIONS_PER_TENANT = 100;

/** A signing secret as Standard Webhooks defines it: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** The secrets that sign at `now`: the current one and any still inside its rotation window. */
export const signingSecrets = (subscription: Pick<Subscription, 'secrets'>, now: Date): string[] =>
  subscription.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now.getTime()).map((s) => s.value);

/** How long the previous secret keeps signing after a rotation. */
export const SECRET_ROTATION_GRACE_MS = 24 * 3_600_000;

/**
 * The retry schedule: after the first attempt fails, retries about 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h and 10 h later (about a day in all), each ±20 % so receivers recovering from an outage are
 * not hit by every sender at once.
 */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** How long after attempt number `attempts` failed the next one is due; undefined when none is left. */
export const retryDelayMs = (attempts: number, random: () => number = Math.random): number | undefined => {
  const base = RETRY_DELAYS_MS[attempts - 1];
  return base === undefined ? undefined : Math.round(base * (0.8 + 0.4 * random()));
};

/** A 2xx within this long is a delivery; anything else is retried. */
export const ATTEMPT_TIMEOUT_MS = 15_000;

/** A subscription whose attempts have all failed for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 24 * 3_600_000;

/** What an event tells about the work it concerns, for `filter`. */
export interface EventFacets {
  source?: string;
  team?: string;
  project?: string;
  category?: string;
}

const projectOfRef = (ref: string): string | undefined => {
  const match = /^(github|jira|email):(.+)$/.exec(ref);
  if (!match) return undefined;
  const [, source, rest] = match;
  if (source === 'github') return `github:${rest!.split('#', 1)[0]}`;
  if (source === 'jira') return `jira:${rest!.slice(rest!.lastIndexOf('/') + 1).replace(/-\d+$/, '')}`;
  return `email:${rest!.split('/', 1)[0]}`;
};

/** The facets of an item. */
export const facetsOfItem = (item: Pick<WorkItem, 'source' | 'category' | 'container'> & { team?: string }): EventFacets => ({
  source: item.source,
  category: item.category,
  project: `${item.container.source}:${item.container.key}`,
  ...(item.team ? { team: item.team } : {}),
});

/** The facets an event carries itself: an item's (summary or full), an alert's, a digest's team. */
export const facetsOfEvent = (event: EventEnvelope): EventFacets => {
  const data = event.data as { item?: WorkItem; alert?: { team?: string; subjectType?: string; subject?: { ref?: string } }; digest?: { team?: string | null } };
  if (data.item?.source && data.item.container) return facetsOfItem(data.item);
  if (data.alert) {
    const isItem = (data.alert.subjectType ?? 'item') === 'item';
    const ref = data.alert.subject?.ref ?? '';
    const project = isItem ? projectOfRef(ref) : undefined;
    return {
      ...(isItem && project ? { source: ref.split(':', 1)[0], project } : {}),
      ...(data.alert.team ? { team: data.alert.team } : {}),
    };
  }
  if (data.digest?.team) return { team: data.digest.team };
  return {};
};

/** The item an event is about, when it is about one (its facets can then be read from the index). */
export const subjectItemId = (event: EventEnvelope): string | undefined => {
  const data = event.data as { item?: { id?: string }; alert?: { subjectType?: string; subject?: { id?: string } } };
  if (data.item?.id) return data.item.id;
  if (data.alert && (data.alert.subjectType ?? 'item') === 'item') return data.alert.subject?.id;
  return undefined;
};

/** Whether a filter needs facets the event may not carry (team and category are not in item summaries or alerts). */
export const filterNeedsItem = (filter: SubscriptionFilter | undefined, facets: EventFacets): boolean =>
  Boolean(filter && ((filter.teams && !facets.team) || (filter.categories && !facets.category) || (filter.sources && !facets.source) || (filter.projects && !facets.project)));

const has = (values: readonly string[] | undefined, value: string | undefined, fold = false): boolean =>
  !values || (value !== undefined && values.some((v) => (fold ? v.toLowerCase() === value.toLowerCase() : v === value)));

export const matchesFilter = (filter: SubscriptionFilter | undefined, facets: EventFacets): boolean =>
  !filter ||
  (has(filter.sources, facets.source) && has(filter.teams, facets.team) && has(filter.projects, facets.project, true) && has(filter.categories, facets.category));

/** Whether a subscription gets an event: its types, then its filter. */
export const subscriptionMatches = (subscription: Pick<Subscription, 'types' | 'filter'>, event: EventEnvelope, facets: EventFacets): boolean =>
  matchesAnyType(event.type, subscription.types) && matchesFilter(subscription.filter, facets);

/** How a subscription is named in messages: its description, else its target's host. */
export const subscriptionName = (subscription: Pick<Subscription, 'id' | 'url' | 'description'>): string => {
  let host = subscription.url;
  try {
    host = new URL(subscription.url).host;
  } catch {
    // stored URLs always parse; the raw value is the fallback
  }
  return subscription.description ? `"${subscription.description}" (${host})` : host;
};

/** The alert a disabled subscription raises: its subject is the subscription, resolved when it is resumed or deleted. */
export const subscriptionDisabledAlert = (subscription: Pick<Subscription, 'id' | 'url' | 'description'>, reason: string): AlertDraft => ({
  id: alertId('subscription_disabled', subscription.id, []),
  kind: 'subscription_disabled',
  severity: 'critical',
  subject: { id: subscription.id, ref: `subscription:${subscription.id}`, title: subscription.description ?? new URL(subscription.url).host },
  subjectType: 'subscription',
  related: [],
  message:
    `Webhook subscription ${subscription.id} to ${subscriptionName(subscription)} was disabled: ${reason}. ` +
    `Matching events wait in its queue; fix the receiver and set its status to active (PATCH /v1/subscriptions/${subscription.id}) to deliver them.`,
});
