import * as z from 'zod';
import { deterministicId } from './ids.ts';
import { IsoDateTime, type WorkItem, isClosed } from './work-item.ts';

/**
 * Dependency alerts as pure rules: given an item, what it waits on and what it is linked to, the
 * tenant's thresholds and the time, which alert conditions hold. Each condition has a deterministic
 * id per (kind, subject, related items), so evaluating it again — a replay, a concurrent processor,
 * the sweep — names the same alert, and the store opens it at most once.
 */

export const AlertKind = z.enum([
  'unblocked',
  'blocker_stale',
  'blocker_overdue',
  'due_date_conflict',
  'dependency_cycle',
  'cross_team_blocker',
  'unowned_priority',
  'wip_over_limit',
  'request_unanswered',
  'pr_without_ticket',
  'ticket_done_pr_open',
  'pr_merged_ticket_open',
  'subscription_disabled',
]);
export type AlertKind = z.infer<typeof AlertKind>;

export const AlertState = z.enum(['open', 'resolved']);
export type AlertState = z.infer<typeof AlertState>;

export const AlertSeverity = z.enum(['info', 'warning', 'critical']);
export type AlertSeverity = z.infer<typeof AlertSeverity>;

export const AlertItem = z.object({ id: z.string(), ref: z.string(), title: z.string().optional() });
export type AlertItem = z.infer<typeof AlertItem>;

export const Alert = z.object({
  id: z.string().describe('deterministic per (kind, subject, related): one alert per condition'),
  kind: AlertKind,
  state: AlertState,
  severity: AlertSeverity,
  subject: AlertItem.describe(
    'the item someone must act on; for `wip_over_limit`, the person (`person:p_…`) or team (`team:{name}`); for `subscription_disabled`, the webhook subscription (`sub_…`)',
  ),
  subjectType: z.enum(['item', 'person', 'team', 'subscription']).optional().describe('what the subject is; absent: an item'),
  related: z.array(AlertItem).describe('the other items of the condition (blockers, cycle members, the ticket)'),
  team: z.string().optional().describe("the subject's team"),
  message: z.string(),
  openedAt: IsoDateTime,
  resolvedAt: IsoDateTime.optional(),
  /** how many times the condition opened (it may clear and hold again) */
  occurrence: z.number().int().positive(),
});
export type Alert = z.infer<typeof Alert>;

/** Per-tenant thresholds (`PUT /v1/settings`); every field has a default. */
export const AlertSettings = z.object({
  blockerStaleDays: z.number().int().min(1).max(365).default(5).describe('a blocker without activity for this long is stale'),
  unownedPriorityHours: z.number().int().min(0).max(24 * 90).default(24).describe('an urgent or high item without owner this long after creation'),
  prWithoutTicketHours: z.number().int().min(0).max(24 * 90).default(24).describe('an open PR linked to nothing this long after creation'),
  prMergedTicketOpenHours: z
    .number()
    .int()
    .min(0)
    .max(24 * 90)
    .default(24)
    .describe('grace period: a ticket still open this long after the last PR implementing it merged raises `pr_merged_ticket_open`'),
  requestSlaHours: z
    .number()
    .positive()
    .max(24 * 30)
    .default(24)
    .describe("an email request waiting this long for the team's answer raises `request_unanswered`"),
  wipLimitPerPerson: z.number().int().min(1).max(100).default(5).describe('work in progress (in progress, in review, blocked) one person may own; more raises `wip_over_limit`'),
  wipLimitPerTeam: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(20)
    .describe("work in progress of one team; a team's own `wipLimit` (PUT /v1/teams) takes precedence"),
  disabledKinds: z.array(AlertKind).default([]).describe('kinds never raised for this tenant'),
});
export type AlertSettings = z.infer<typeof AlertSettings>;
export const DEFAULT_ALERT_SETTINGS: AlertSettings = AlertSettings.parse({});

/** An alert condition that holds now. */
export interface AlertDraft {
  id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  subject: AlertItem;
  related: AlertItem[];
  team?: string;
  /** absent: an item */
  subjectType?: 'person' | 'team' | 'subscription';
  message: string;
  /** a notice (`unblocked`): it opens resolved, and is never raised twice */
  notice?: boolean;
}

export interface AlertInput {
  subject: WorkItem;
  /** indexed items the subject waits on (its blockers) */
  blockers: readonly WorkItem[];
  /** indexed items linked with the subject in either direction, with the link read from the subject's side */
  linked: readonly { item: WorkItem; type: string }[];
  /** whether any link, in either direction, names the subject (indexed or not) */
  hasAnyLink: boolean;
  /** ids of the blockers that were open when the subject was last evaluated */
  previousOpenBlockers: readonly string[];
  /** dependency cycles through the subject, as sorted member ids, with the members */
  cycles: readonly string[][];
  members: ReadonlyMap<string, WorkItem>;
  settings: AlertSettings;
  /** the `slaHours` of the email connection the subject came through, when it sets one (else `settings.requestSlaHours`) */
  requestSlaHours?: number;
  now: Date;
}

export interface AlertEvaluation {
  /** conditions holding now (the `dependency_cycle` ones may have another member as subject) */
  alerts: AlertDraft[];
  /** blockers open now: the derived `blocked` flag is `openBlockers.length > 0` */
  openBlockers: string[];
}

const SOURCE_NAMES = { github: 'GitHub', jira: 'Jira', email: 'email' } as const;
const KIND_NAMES: Record<WorkItem['kind'], string> = {
  issue: 'issue',
  pull_request: 'PR',
  task: 'task',
  bug: 'bug',
  story: 'story',
  epic: 'epic',
  subtask: 'subtask',
  incident: 'incident',
  request: 'request',
};

/** `octo/api#40`, `ACME-12`, or an email thread's subject: how people name an item. */
export const shortName = (item: Pick<WorkItem, 'ref' | 'source' | 'title'>): string => {
  if (item.source === 'email') return `"${item.title}"`;
  const afterColon = item.ref.slice(item.ref.indexOf(':') + 1);
  return item.source === 'jira' ? afterColon.slice(afterColon.lastIndexOf('/') + 1) : afterColon;
};

const personName = (p: WorkItem['owners'][number]): string => p.name ?? p.handles[0]?.handle ?? p.emails[0] ?? p.id;

/** `ACME-12 (Jira story, owned by Dana)`. */
export const describeItem = (item: WorkItem): string => {
  const owners = item.owners.map(personName);
  const owned = owners.length > 0 ? `, owned by ${owners.join(' and ')}` : ', unowned';
  return `${shortName(item)} (${SOURCE_NAMES[item.source]} ${KIND_NAMES[item.kind]}${owned})`;
};

const asAlertItem = (item: WorkItem): AlertItem => ({ id: item.id, ref: item.ref, title: item.title });

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ageOf = (now: Date, at: string | undefined): number => (at ? now.getTime() - Date.parse(at) : 0);
const days = (ms: number): string => {
  const n = Math.floor(ms / DAY);
  return n === 1 ? '1 day' : `${n} days`;
};

export const alertId = (kind: AlertKind, subjectId: string, relatedIds: readonly string[]): string =>
  deterministicId('alr', kind, subjectId, ...[...relatedIds].sort());

const draft = (
  kind: AlertKind,
  severity: AlertSeverity,
  subject: WorkItem,
  related: readonly WorkItem[],
  message: string,
  extra: Partial<AlertDraft> = {},
): AlertDraft => ({
  id: alertId(kind, subject.id, related.map((r) => r.id)),
  kind,
  severity,
  subject: asAlertItem(subject),
  related: related.map(asAlertItem),
  ...(subject.team ? { team: subject.team } : {}),
  message,
  ...extra,
});

const isOpen = (item: WorkItem): boolean => !item.deleted && !isClosed(item.status);

/**
 * Kinds an item with no link in either direction can raise: they relate it to nothing, so their ids
 * are known in advance ({@link alertId} with no related items) and a batch reads them by key.
 */
export const UNLINKED_KINDS: readonly AlertKind[] = ['unowned_priority', 'pr_without_ticket', 'request_unanswered'];

/** Kinds whose subject is always the evaluated item (the store resolves those that stop holding). */
export const SUBJECT_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>([
  'blocker_stale',
  'blocker_overdue',
  'due_date_conflict',
  'cross_team_blocker',
  'unowned_priority',
  'pr_without_ticket',
  'ticket_done_pr_open',
  'pr_merged_ticket_open',
  'request_unanswered',
]);

/** Email status names that wait on the team: the first message (`new`), or a later one from outside the team (`waiting`). */
export const AWAITING_TEAM_STATUSES: ReadonlySet<string> = new Set(['new', 'waiting']);

/** Whether an item is an email request whose latest message waits for the team's answer. */
export const awaitsTeamAnswer = (item: Pick<WorkItem, 'source' | 'kind' | 'status'>): boolean =>
  item.source === 'email' && item.kind === 'request' && !isClosed(item.status) && AWAITING_TEAM_STATUSES.has(item.status.name);

/** `2024-03-04 17:15 UTC`: alert messages are written once, so they name times, not ages. */
const utcMinute = (time: number): string => `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Every alert condition that holds for the subject now (pure). */
export const evaluateAlerts = (input: AlertInput): AlertEvaluation => {
  const { subject, settings, now } = input;
  const openBlockers = input.blockers.filter(isOpen);
  const evaluation: AlertEvaluation = { alerts: [], openBlockers: openBlockers.map((b) => b.id).sort() };
  if (subject.deleted) return evaluation;
  const out = evaluation.alerts;
  const open = isOpen(subject);
  const name = describeItem(subject);

  // unblocked: the last open blocker closed (a link removal does not unblock anything by itself).
  const previously = new Set(input.previousOpenBlockers);
  const closedSince = input.blockers.filter((b) => previously.has(b.id) && !isOpen(b));
  if (open && previously.size > 0 && openBlockers.length === 0 && closedSince.length > 0) {
    const names = closedSince.map(describeItem).join(', ');
    out.push(draft('unblocked', 'info', subject, closedSince, `${name} is unblocked: ${names} ${closedSince.length === 1 ? 'is' : 'are'} done`, { notice: true }));
  }

  if (open) {
    for (const blocker of openBlockers) {
      const waiting = ageOf(now, blocker.activityAt);
      if (waiting >= settings.blockerStaleDays * DAY) {
        out.push(
          draft('blocker_stale', 'warning', subject, [blocker], `${describeItem(blocker)} has had no activity for ${days(waiting)} while ${name} waits on it`),
        );
      }
      if (blocker.dueAt && Date.parse(blocker.dueAt) < now.getTime()) {
        out.push(
          draft('blocker_overdue', 'critical', subject, [blocker], `${describeItem(blocker)} was due ${blocker.dueAt.slice(0, 10)} and still blocks ${name}`),
        );
      }
      if (blocker.dueAt && subject.dueAt && Date.parse(blocker.dueAt) > Date.parse(subject.dueAt)) {
        out.push(
          draft(
            'due_date_conflict',
            'warning',
            subject,
            [blocker],
            `${describeItem(blocker)} is due ${blocker.dueAt.slice(0, 10)}, after ${name} which it blocks is due ${subject.dueAt.slice(0, 10)}`,
          ),
        );
      }
      if (blocker.team && subject.team && blocker.team !== subject.team) {
        out.push(
          draft(
            'cross_team_blocker',
            'info',
            subject,
            [blocker],
            `${describeItem(blocker)} of team ${blocker.team} blocks ${name} of team ${subject.team}`,
          ),
        );
      }
    }

    const urgent = subject.priority.level === 'urgent' || subject.priority.level === 'high';
    if (urgent && subject.owners.length === 0 && ageOf(now, subject.createdAt) >= settings.unownedPriorityHours * HOUR) {
      out.push(draft('unowned_priority', subject.priority.level === 'urgent' ? 'critical' : 'warning', subject, [], `${name} is ${subject.priority.level} priority and has no owner`));
    }

    if (subject.kind === 'pull_request') {
      if (!input.hasAnyLink && ageOf(now, subject.createdAt) >= settings.prWithoutTicketHours * HOUR) {
        out.push(draft('pr_without_ticket', 'info', subject, [], `${name} is linked to no ticket`));
      }
      const tickets = input.linked
        .filter((l) => l.type === 'implements' && l.item.kind !== 'pull_request' && !l.item.deleted && isClosed(l.item.status))
        .map((l) => l.item);
      for (const ticket of tickets) {
        out.push(draft('ticket_done_pr_open', 'warning', subject, [ticket], `${describeItem(ticket)} is ${ticket.status.name} but ${name} is still open`));
      }
    }

    // The tools disagree the other way: every PR implementing the ticket is finished, one merged a
    // grace period ago, and the ticket is still open (nobody moved it to done).
    if (subject.kind !== 'pull_request') {
      const prs = input.linked.filter((l) => l.type === 'implemented_by' && l.item.kind === 'pull_request' && !l.item.deleted).map((l) => l.item);
      const merged = prs.filter((pr) => pr.status.category === 'done');
      if (merged.length > 0 && prs.every((pr) => isClosed(pr.status))) {
        const lastMerge = Math.max(...merged.map((pr) => Date.parse(pr.closedAt ?? pr.updatedAt)));
        const since = now.getTime() - lastMerge;
        if (since >= settings.prMergedTicketOpenHours * HOUR) {
          const unique = [...new Map(merged.map((pr) => [pr.id, pr])).values()];
          const names = unique.map(describeItem).join(', ');
          out.push(
            draft(
              'pr_merged_ticket_open',
              'warning',
              subject,
              unique,
              `${names} ${unique.length === 1 ? 'was' : 'were'} merged ${utcMinute(lastMerge)} but ${name} is still ${subject.status.name}`,
            ),
          );
        }
      }
    }

    // An email request waiting for the team's answer longer than the SLA (the latest message's time).
    if (awaitsTeamAnswer(subject)) {
      const sla = input.requestSlaHours ?? settings.requestSlaHours;
      const waiting = ageOf(now, subject.updatedAt);
      if (waiting >= sla * HOUR) {
        const from = subject.requester ? ` from ${personName(subject.requester)}` : '';
        out.push(
          draft(
            'request_unanswered',
            subject.priority.level === 'urgent' || subject.priority.level === 'high' ? 'critical' : 'warning',
            subject,
            [],
            `${shortName(subject)} (email request${from}) has had no answer from the team since ${utcMinute(Date.parse(subject.updatedAt))}, past the ${sla}-hour SLA`,
          ),
        );
      }
    }
  }

  for (const cycle of input.cycles) {
    const members = cycle.map((id) => input.members.get(id)).filter((m): m is WorkItem => m !== undefined);
    if (members.length !== cycle.length) continue;
    const [first, ...rest] = members;
    out.push(
      draft('dependency_cycle', 'critical', first!, rest, `${members.map(describeItem).join(', ')} block each other in a cycle: none can finish first`),
    );
  }

  const disabled = new Set(settings.disabledKinds);
  evaluation.alerts = out.filter((a) => !disabled.has(a.kind));
  return evaluation;
};
