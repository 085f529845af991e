import type { Alert } from './alerts.ts';
import { clip } from './clip.ts';
import type { Digest } from './digest.ts';
import type { EventEnvelope } from './events.ts';
import type { Person, WorkItem } from './work-item.ts';

/**
 * Events as Slack incoming-webhook messages (pure): `text` always (the notification and the
 * fallback), plus Block Kit `blocks` (https://api.slack.com/messaging/webhooks,
 * https://api.slack.com/reference/block-kit/blocks). An alert says what happened, to which item,
 * whose it is, with links to the item in its tool and on the dashboard; a digest becomes a short
 * summary; item events one line each.
 */

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export interface SlackContext {
  /** the item the event is about, as the index holds it now (its tool URL and owners) */
  item?: WorkItem;
  /** the hub's public URL: links to the dashboard */
  dashboardUrl?: string;
}

/** Slack's limits: a section's text is at most 3000 characters, a header's 150. */
const SECTION_MAX = 3000;
const HEADER_MAX = 150;

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export const slackEscape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** `<url|label>`; a URL or label containing `|` or `>` would end the link early. */
export const slackLink = (url: string, label: string): string =>
  `<${url.replaceAll('|', '%7C').replaceAll('>', '%3E').replaceAll('<', '%3C')}|${slackEscape(label).replaceAll('|', '¦')}>`;

const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_MAX) } });
const context = (...texts: string[]): SlackBlock => ({ type: 'context', elements: texts.filter(Boolean).map((text) => ({ type: 'mrkdwn', text: clip(text, SECTION_MAX) })) });
const header = (text: string): SlackBlock => ({ type: 'header', text: { type: 'plain_text', text: clip(text, HEADER_MAX) } });

const personName = (p: Person): string => p.name ?? p.handles[0]?.handle ?? p.emails[0] ?? p.id;
const dashboardItem = (ctx: SlackContext, id: string) => (ctx.dashboardUrl ? `${ctx.dashboardUrl.replace(/\/$/, '')}/items/${encodeURIComponent(id)}` : undefined);

interface ItemLike {
  id: string;
  ref: string;
  title?: string;
  url?: string;
}

/** How people name an item: `octo/api#12`, `ACME-42`; an email thread by its subject alone. */
const shortRef = (ref: string): string => {
  const rest = ref.slice(ref.indexOf(':') + 1);
  if (ref.startsWith('jira:')) return rest.slice(rest.lastIndexOf('/') + 1);
  if (ref.startsWith('email:')) return '';
  return rest;
};

/** `octo/api#12 Fix login` linked to the tool, and to the item page on the dashboard. */
const itemLinks = (item: ItemLike, ctx: SlackContext): string => {
  const label = [shortRef(item.ref), item.title].filter(Boolean).join(' ') || item.ref;
  const dashboard = dashboardItem(ctx, item.id);
  if (!item.url) return dashboard ? slackLink(dashboard, label) : `*${slackEscape(label)}*`;
  return dashboard ? `${slackLink(item.url, label)} · ${slackLink(dashboard, 'open in Tributary')}` : slackLink(item.url, label);
};

const ownersOf = (item: Pick<WorkItem, 'owners'> | undefined): string | undefined =>
  item ? (item.owners.length > 0 ? item.owners.map(personName).join(', ') : 'unowned') : undefined;

const SEVERITY_EMOJI: Record<Alert['severity'], string> = { critical: ':rotating_light:', warning: ':warning:', info: ':information_source:' };

const alertMessage = (event: EventEnvelope, alert: Alert, ctx: SlackContext): SlackMessage => {
  const resolved = event.type === 'work.alert.resolved';
  const notice = alert.kind === 'unblocked';
  const kind = alert.kind.replaceAll('_', ' ');
  const headline = notice ? `:unlock: Unblocked` : resolved ? `:white_check_mark: Resolved: ${kind}` : `${SEVERITY_EMOJI[alert.severity]} ${kind}`;
  const text = `${notice ? 'Unblocked' : resolved ? `Resolved (${kind})` : `Alert (${kind}, ${alert.severity})`}: ${alert.message}`;
  const isItem = (alert.subjectType ?? 'item') === 'item';
  const subject: ItemLike = { ...alert.subject, ...(isItem && ctx.item ? { url: ctx.item.url, title: ctx.item.title } : {}) };
  const lines = [`*${headline}*`, slackEscape(alert.message)];
  const facts: string[] = [];
  if (isItem) {
    facts.push(`*Item:* ${itemLinks(subject, ctx)}`);
    const owners = ownersOf(ctx.item);
    if (owners) facts.push(`*Owner:* ${slackEscape(owners)}`);
  } else {
    facts.push(`*${alert.subjectType === 'subscription' ? 'Subscription' : alert.subjectType === 'team' ? 'Team' : 'Person'}:* ${slackEscape(alert.subject.title ?? alert.subject.ref)}`);
  }
  const related = alert.related.slice(0, 5).map((r) => itemLinks(r, ctx));
  if (related.length > 0) facts.push(`*${notice ? 'Done' : 'Related'}:* ${related.join(', ')}${alert.related.length > 5 ? ` and ${alert.related.length - 5} more` : ''}`);
  return { text, blocks: [section(lines.join('\n')), section(facts.join('\n')), context(`${alert.team ? `Team ${slackEscape(alert.team)} · ` : ''}${slackEscape(event.type)} · ${event.time}`)] };
};

const digestMessage = (event: EventEnvelope, digest: Digest, week: string, ctx: SlackContext): SlackMessage => {
  const scope = digest.team ? `team ${digest.team}` : 'everyone';
  const text = `Weekly digest ${week} (${scope}): ${digest.headline}`;
  const counts = [
    `*Closed:* ${digest.closed.count}`,
    `*Started:* ${digest.started.count}`,
    `*Newly blocked:* ${digest.newlyBlocked.count}`,
    `*Unblocked:* ${digest.unblocked.count}`,
    `*Alerts raised:* ${digest.alertsRaised.count}`,
    `*Alerts resolved:* ${digest.alertsResolved.count}`,
  ].join(' · ');
  const listed = (title: string, items: Digest['closed']['items']) =>
    items.length === 0 ? [] : [section(`*${title}*\n${items.slice(0, 5).map((i) => `• ${itemLinks(i, ctx)}${i.owner ? ` (${slackEscape(i.owner)})` : ''}`).join('\n')}`)];
  return {
    text,
    blocks: [
      header(`Weekly digest ${week}: ${scope}`),
      section(slackEscape(digest.headline)),
      section(counts),
      ...listed('Newly blocked', digest.newlyBlocked.items),
      ...listed('Closed', digest.closed.items),
      context(`${slackEscape(event.type)} · ${digest.since.slice(0, 10)} to ${digest.until.slice(0, 10)}`),
    ],
  };
};

/** One line per item event: what changed, on which item. */
const itemLine = (event: EventEnvelope): string => {
  const data = event.data as Record<string, any>;
  const status = (s: { name?: string } | undefined) => s?.name ?? '?';
  switch (event.type) {
    case 'work.item.created':
      return `New ${String(data.item?.kind ?? 'item').replace('_', ' ')}`;
    case 'work.item.status_changed':
      return `Status ${status(data.from)} → ${status(data.to)}`;
    case 'work.item.closed':
      return `Closed (${status(data.resolution)})`;
    case 'work.item.reopened':
      return `Reopened (was ${status(data.from)})`;
    case 'work.item.assigned': {
      const owners = (data.owners ?? []) as Person[];
      return owners.length > 0 ? `Assigned to ${owners.map(personName).join(', ')}` : 'Unassigned';
    }
    case 'work.item.updated':
      return `Updated: ${Object.keys(data.changes ?? {}).join(', ')}`;
    case 'work.item.deleted':
      return 'Deleted';
    case 'work.item.development_changed':
      return `${(data.commitsAdded ?? []).length} commit(s), ${(data.branchesAdded ?? []).length} branch(es) added`;
    case 'work.link.added':
      return `Now ${String(data.link?.type ?? 'linked').replace('_', ' ')} ${data.link?.target ?? ''}`;
    case 'work.link.removed':
      return `No longer ${String(data.link?.type ?? 'linked').replace('_', ' ')} ${data.link?.target ?? ''}`;
    default:
      return event.type;
  }
};

/** The Slack message of an event; `text` is escaped like the blocks (Slack reads it as mrkdwn too). */
export const slackMessageFor = (event: EventEnvelope, ctx: SlackContext = {}): SlackMessage => {
  const message = compose(event, ctx);
  return { ...message, text: clip(slackEscape(message.text), SECTION_MAX) };
};

const compose = (event: EventEnvelope, ctx: SlackContext): SlackMessage => {
  const data = event.data as { alert?: Alert; digest?: Digest; week?: string; item?: ItemLike & Partial<WorkItem> };
  if (data.alert && event.type.startsWith('work.alert.')) return alertMessage(event, data.alert, ctx);
  if (data.digest && event.type === 'work.digest.ready') return digestMessage(event, data.digest, data.week ?? '', ctx);
  const item: ItemLike = data.item ?? { id: '', ref: event.subject };
  const line = itemLine(event);
  const owners = ownersOf(ctx.item ?? (data.item?.owners ? (data.item as WorkItem) : undefined));
  const label = [shortRef(item.ref), item.title].filter(Boolean).join(' ') || item.ref;
  return {
    text: `${label}: ${line}`,
    blocks: [
      section(`${item.id ? itemLinks(item, ctx) : `*${slackEscape(label)}*`}\n${slackEscape(line)}`),
      context(`${owners ? `Owner: ${slackEscape(owners)} · ` : ''}${slackEscape(event.type)} · ${event.time}`),
    ],
  };
};
