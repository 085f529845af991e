import { type AlertDraft, type AlertItem, type AlertSettings, alertId, shortName } from './alerts.ts';
import type { TeamMap } from './teams.ts';
import { WIP_STATUSES, type WorkloadLimits } from './views.ts';
import type { Person, WorkItem } from './work-item.ts';

/**
 * Work-in-progress limits as pure rules: which people and teams an item counts against, the limit
 * of each, and the `wip_over_limit` alert of a subject from the items it has in progress.
 *
 * A subject is named by a key, `person:{personId}` or `team:{name}`, which is also the alert's
 * subject id: one alert per person or team, whatever items come and go.
 */
export type WipSubjectType = 'person' | 'team';

export interface WipSubject {
  key: string;
  type: WipSubjectType;
  /** how people call it: the person's name or first handle, the team's name */
  name: string;
}

const WIP = new Set(WIP_STATUSES);

const personName = (p: Person): string => p.name ?? p.handles[0]?.handle ?? p.emails[0] ?? p.id;

export const personSubjectKey = (personId: string): string => `person:${personId}`;
export const teamSubjectKey = (team: string): string => `team:${team}`;

export const subjectTypeOf = (key: string): WipSubjectType => (key.startsWith('team:') ? 'team' : 'person');

/** Whether the item is work in progress (started, not finished, not deleted). */
export const isWip = (item: WorkItem): boolean => !item.deleted && WIP.has(item.status.category);

/** The people (each owner once) and the team an item in progress counts against; none otherwise. */
export const wipSubjectsOf = (item: WorkItem | undefined): WipSubject[] => {
  if (!item || !isWip(item)) return [];
  const subjects = new Map<string, WipSubject>();
  for (const owner of item.owners) subjects.set(personSubjectKey(owner.id), { key: personSubjectKey(owner.id), type: 'person', name: personName(owner) });
  if (item.team) subjects.set(teamSubjectKey(item.team), { key: teamSubjectKey(item.team), type: 'team', name: item.team });
  return [...subjects.values()];
};

/** The limit of a subject: the tenant's settings, or for a team its own `wipLimit` in the team map. */
export const wipLimitOf = (subjectKey: string, settings: AlertSettings, teams: TeamMap): number => {
  if (subjectTypeOf(subjectKey) === 'person') return settings.wipLimitPerPerson;
  const name = subjectKey.slice('team:'.length);
  return teams.teams.find((t) => t.name === name)?.wipLimit ?? settings.wipLimitPerTeam;
};

/**
 * The limits the workload view measures against: the very ones {@link wipLimitOf} gives the
 * `wip_over_limit` alert (the tenant's settings, a team's own `wipLimit` first), so the two agree.
 */
export const workloadLimitsOf = (settings: AlertSettings, teams: TeamMap): WorkloadLimits => ({
  person: settings.wipLimitPerPerson,
  team: settings.wipLimitPerTeam,
  teams: Object.fromEntries(teams.teams.flatMap((t) => (t.wipLimit ? [[t.name, t.wipLimit]] : []))),
});

/** One alert per subject, whatever items come and go. */
export const wipAlertId = (subjectKey: string): string => alertId('wip_over_limit', subjectKey, []);

/** Items named in a message and listed as related: enough to act on, bounded for big teams. */
const NAMED_ITEMS = 5;
const RELATED_ITEMS = 20;

/** An item in progress as its subject's alert names it, from the item's membership row (store/wip.ts). */
export interface WipMember {
  id: string;
  ref: string;
  source: WorkItem['source'];
  title: string;
  /** the item's last activity when it started counting against the subject */
  since: string;
}

export const wipMemberOf = (item: WorkItem): WipMember => ({ id: item.id, ref: item.ref, source: item.source, title: item.title, since: item.activityAt });

const asAlertItem = (member: WipMember): AlertItem => ({ id: member.id, ref: member.ref, title: member.title });

/**
 * The `wip_over_limit` alert of a subject, when it has more work in progress than its limit;
 * undefined when the condition does not hold (or the kind is disabled).
 */
export const evaluateWip = (subject: WipSubject, members: readonly WipMember[], limit: number, settings: AlertSettings): AlertDraft | undefined => {
  if (settings.disabledKinds.includes('wip_over_limit') || members.length <= limit) return undefined;
  // In progress the longest first: the work most likely to be the one to finish or hand over.
  const ordered = [...members].sort((a, b) => a.since.localeCompare(b.since) || a.ref.localeCompare(b.ref));
  const named = ordered.slice(0, NAMED_ITEMS).map(shortName).join(', ');
  const more = ordered.length > NAMED_ITEMS ? ` and ${ordered.length - NAMED_ITEMS} more` : '';
  const who = subject.type === 'team' ? `Team ${subject.name}` : subject.name;
  const whose = subject.type === 'team' ? 'its' : 'the';
  return {
    id: wipAlertId(subject.key),
    kind: 'wip_over_limit',
    severity: 'warning',
    subject: { id: subject.key, ref: subject.key, title: subject.name },
    subjectType: subject.type,
    related: ordered.slice(0, RELATED_ITEMS).map(asAlertItem),
    ...(subject.type === 'team' ? { team: subject.name } : {}),
    message: `${who} has ${members.length} items in progress, over ${whose} WIP limit of ${limit}: ${named}${more}`,
  };
};
