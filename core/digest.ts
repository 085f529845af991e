import * as z from 'zod';
import { type Alert, AlertItem, AlertKind, AlertSeverity } from './alerts.ts';
import { deterministicId } from './ids.ts';
import { IsoDateTime, Source, StatusCategory, type WorkItem, isClosed } from './work-item.ts';

/**
 * The status digest (pure): what moved in a window of days, tenant-wide or for one team — what
 * closed, what started, what became blocked, what was unblocked, which alerts were raised and
 * resolved. `GET /v1/views/digest` answers it for any window; the sweep publishes last ISO week's
 * as `work.digest.ready` every week (pipeline/weekly-digest.ts).
 */

/** Entries listed per section; `count` always counts them all. */
export const DIGEST_LISTED = 50;

export const DigestItem = z.object({
  id: z.string(),
  ref: z.string(),
  title: z.string(),
  source: Source,
  url: z.string().optional(),
  status: StatusCategory,
  owner: z.string().nullable().describe('the first owner, by name (null when unowned)'),
  team: z.string().nullable(),
  at: IsoDateTime.describe('when it closed, started, became blocked or was unblocked'),
});
export type DigestItem = z.infer<typeof DigestItem>;

export const DigestAlert = z.object({
  id: z.string(),
  kind: AlertKind,
  severity: AlertSeverity,
  message: z.string(),
  subject: AlertItem,
  related: z.array(AlertItem),
  at: IsoDateTime.describe('when it was raised or resolved'),
});
export type DigestAlert = z.infer<typeof DigestAlert>;

const section = <T extends z.ZodType>(entry: T, what: string) =>
  z.object({ count: z.number().int(), items: z.array(entry).describe(`${what}, newest first, at most ${DIGEST_LISTED}`) });

export const Digest = z.object({
  team: z.string().nullable().describe('the team it is scoped to; null for the whole tenant'),
  days: z.number().int(),
  since: IsoDateTime,
  until: IsoDateTime,
  headline: z.string().describe('one sentence with every count, for a chat message or an email subject'),
  closed: section(DigestItem, 'items done or cancelled in the window (the tool’s close time)'),
  started: section(DigestItem, 'items whose work started in the window'),
  newlyBlocked: section(DigestItem, 'open items blocked now whose blocked flag turned on in the window'),
  unblocked: section(DigestItem, 'items whose last open blocker closed in the window'),
  alertsRaised: section(DigestAlert, 'alerts raised in the window (the `unblocked` notices are in `unblocked`)'),
  alertsResolved: section(DigestAlert, 'alerts resolved in the window'),
});
export type Digest = z.infer<typeof Digest>;

export interface DigestInput {
  /** scope to this team (items by the current team map, alerts by their subject's team) */
  team?: string;
  since: Date;
  until: Date;
  /** candidates for closed and started (e.g. the work in progress and the work closed since `since`) */
  items: readonly WorkItem[];
  /** items with the derived blocked flag, and since when */
  blocked: readonly { item: WorkItem; since: string }[];
  /** items that `unblocked` notices name, with the notice's time */
  unblocked: readonly { item: WorkItem; at: string }[];
  /** candidate alerts (raised or resolved around the window) */
  alerts: readonly Alert[];
}

const ownerName = (item: WorkItem): string | null => {
  const owner = item.owners[0];
  return owner ? (owner.name ?? owner.handles[0]?.handle ?? owner.emails[0] ?? owner.id) : null;
};

const entryOf = (item: WorkItem, at: string): DigestItem => ({
  id: item.id,
  ref: item.ref,
  title: item.title,
  source: item.source,
  ...(item.url ? { url: item.url } : {}),
  status: item.status.category,
  owner: ownerName(item),
  team: item.team ?? null,
  at,
});

const alertEntry = (alert: Alert, at: string): DigestAlert => ({
  id: alert.id,
  kind: alert.kind,
  severity: alert.severity,
  message: alert.message,
  subject: alert.subject,
  related: alert.related,
  at,
});

const listed = <T extends { at: string; id: string }>(entries: T[]) => {
  const unique = [...new Map(entries.map((e) => [e.id, e])).values()].sort((a, b) => b.at.localeCompare(a.at) || a.id.localeCompare(b.id));
  return { count: unique.length, items: unique.slice(0, DIGEST_LISTED) };
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const buildDigest = (input: DigestInput): Digest => {
  const since = input.since.toISOString();
  const until = input.until.toISOString();
  const inWindow = (time: string | undefined): time is string => time !== undefined && time >= since && time < until;
  const ofTeam = (team: string | undefined) => input.team === undefined || team === input.team;
  const items = input.items.filter((i) => !i.deleted && ofTeam(i.team));

  const closed = listed(items.filter((i) => isClosed(i.status) && inWindow(i.closedAt)).map((i) => entryOf(i, i.closedAt!)));
  const started = listed(items.filter((i) => inWindow(i.startedAt)).map((i) => entryOf(i, i.startedAt!)));
  const newlyBlocked = listed(
    input.blocked.filter(({ item, since: from }) => !item.deleted && !isClosed(item.status) && ofTeam(item.team) && inWindow(from)).map(({ item, since: from }) => entryOf(item, from)),
  );
  const unblocked = listed(input.unblocked.filter(({ item, at }) => ofTeam(item.team) && inWindow(at)).map(({ item, at }) => entryOf(item, at)));
  const alerts = input.alerts.filter((a) => a.kind !== 'unblocked' && ofTeam(a.team));
  const alertsRaised = listed(alerts.filter((a) => inWindow(a.openedAt)).map((a) => alertEntry(a, a.openedAt)));
  const alertsResolved = listed(alerts.filter((a) => a.state === 'resolved' && inWindow(a.resolvedAt)).map((a) => alertEntry(a, a.resolvedAt!)));

  const days = Math.round((input.until.getTime() - input.since.getTime()) / 86_400_000);
  const scope = input.team === undefined ? '' : ` for ${input.team}`;
  const headline =
    `Last ${plural(days, 'day')}${scope}: ${closed.count} closed, ${started.count} started, ${newlyBlocked.count} newly blocked, ` +
    `${unblocked.count} unblocked; ${plural(alertsRaised.count, 'alert')} raised, ${alertsResolved.count} resolved.`;
  return { team: input.team ?? null, days, since, until, headline, closed, started, newlyBlocked, unblocked, alertsRaised, alertsResolved };
};

/** The ISO 8601 week of a time, e.g. `2026-W48` (weeks start on Monday; week 1 holds the year's first Thursday). */
export const isoWeekOf = (time: Date): string => {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const weekday = (day.getUTCDay() + 6) % 7;
  day.setUTCDate(day.getUTCDate() - weekday + 3); // the Thursday of this week decides the year
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
};

/** The last full ISO week before `now`: Monday 00:00 UTC to the next Monday, and its name. */
export const previousIsoWeek = (now: Date): { week: string; since: Date; until: Date } => {
  const until = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((now.getUTCDay() + 6) % 7)));
  const since = new Date(until.getTime() - 7 * 86_400_000);
  return { week: isoWeekOf(since), since, until };
};

/** What a digest is about, as an event subject: `digest:2026-W48` or `digest:2026-W48/payments`. */
export const digestSubject = (week: string, team: string | undefined): string => `digest:${week}${team === undefined ? '' : `/${team}`}`;

/** The id of a weekly digest's event: one per (tenant, team, ISO week), whoever publishes it. */
export const digestEventId = (tenantId: string, team: string | undefined, week: string): string =>
  deterministicId('evt', 'work.digest.ready', tenantId, team ?? '*', week);
