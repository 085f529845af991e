import { extractReferences, jiraIssueIdRef, jiraRef, unresolvedJiraRef } from '../../core/references.ts';
import type { Category, Container, Kind, Link, LinkOrigin, ObservedItem } from '../../core/work-item.ts';
import { type CustomFieldValues, readCustomFields } from './custom-fields.ts';
import { linkTypesOf } from './link-types.ts';
import type { JiraIssue, JiraIssueFields } from './payload-schemas.ts';
import { personOfJiraUser } from './people.ts';
import { mapJiraPriority } from './priority.ts';
import type { CategoryRule, JiraSettings } from './settings.ts';
import { mapJiraStatus } from './status.ts';

/** An issue as one delivery shows it, the link origins that delivery is authoritative for, and its other refs. */
export interface JiraObservation {
  item: ObservedItem;
  linkOrigins: LinkOrigin[];
  aliases: string[];
}

/** When the issue was created and last updated, as normalize read them (with their fallbacks). */
export interface IssueTimes {
  createdAt: string;
  updatedAt: string;
}

/** What observing an issue needs besides the issue. */
export interface JiraObserveContext {
  settings: JiraSettings;
  jiraProjects: Readonly<Record<string, string>>;
  jiraSites?: readonly string[];
}

/** Issue links, parents and sub-tasks are Jira's own; text mentions are read from the summary and description. */
const LINK_ORIGINS: readonly LinkOrigin[] = ['source_link', 'closing_keyword', 'key_mention'];

/**
 * Kind from the issue type name: Jira's defaults (Bug, Task, Story, Epic, Sub-task) and Jira Service
 * Management's (Incident, Service request…). Any other type (Improvement, Spike…) is a task.
 */
export function kindOfIssueType(issueType: { name: string; subtask?: boolean | null } | null | undefined): Kind {
  if (!issueType) return 'task';
  const name = issueType.name.toLowerCase();
  if (issueType.subtask || /\bsub-?task\b/.test(name)) return 'subtask';
  if (/\bepic\b/.test(name)) return 'epic';
  if (/\b(?:bug|defect)\b/.test(name)) return 'bug';
  if (/\bstory\b/.test(name)) return 'story';
  if (/\b(?:incident|outage)\b/.test(name)) return 'incident';
  if (/\b(?:request|help|support)\b/.test(name)) return 'request';
  return 'task';
}

const matchesAny = (wanted: readonly string[] | undefined, actual: readonly string[]): boolean =>
  wanted === undefined || wanted.some((w) => actual.some((a) => a.toLowerCase() === w.toLowerCase()));

/** The category of the first rule whose every condition holds. */
export function categoryByRules(
  rules: readonly CategoryRule[],
  issue: { issueType: string; project: string; labels: readonly string[]; components: readonly string[] },
): Category | undefined {
  return rules.find(
    (rule) =>
      matchesAny(rule.issueTypes, [issue.issueType]) &&
      matchesAny(rule.projects, [issue.project]) &&
      matchesAny(rule.labels, issue.labels) &&
      matchesAny(rule.components, issue.components),
  )?.category;
}

/** The plain text of a description: wiki markup as is, or the text nodes of an Atlassian Document Format tree. */
export function descriptionText(description: unknown): string {
  if (typeof description === 'string') return description;
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as { type?: unknown; text?: unknown; content?: unknown; attrs?: { url?: unknown; href?: unknown } };
    if (typeof record.text === 'string') parts.push(record.text);
    if (record.type === 'inlineCard' && typeof record.attrs?.url === 'string') parts.push(record.attrs.url);
    if (Array.isArray(record.content)) {
      for (const child of record.content) walk(child);
      parts.push('\n');
    }
  };
  walk(description);
  return parts.join(' ');
}

const sourceLink = (type: Link['type'], target: string): Link => ({ type, target, origin: 'source_link', confidence: 1 });

/** The links Jira itself records: issue links, the parent, sub-tasks, and an epic link field. */
const sourceLinksOf = (fields: JiraIssueFields, site: string, custom: CustomFieldValues): Link[] => {
  const links: Link[] = [];
  for (const issueLink of fields.issuelinks ?? []) {
    const types = linkTypesOf(issueLink.type);
    if (issueLink.outwardIssue) links.push(sourceLink(types.outward, jiraRef(site, issueLink.outwardIssue.key)));
    if (issueLink.inwardIssue) links.push(sourceLink(types.inward, jiraRef(site, issueLink.inwardIssue.key)));
  }
  if (fields.parent) links.push(sourceLink('child', jiraRef(site, fields.parent.key)));
  if (custom.epicLink) links.push(sourceLink('child', jiraRef(site, custom.epicLink)));
  for (const subtask of fields.subtasks ?? []) links.push(sourceLink('parent', jiraRef(site, subtask.key)));
  return links;
};

/**
 * Keys and URLs mentioned in the summary and description. A Jira issue naming another does not
 * implement it: a plain key mention between Jira issues is a `mentions` link.
 */
const mentionsOf = (issue: JiraIssue, ref: string, container: Container, context: JiraObserveContext): Link[] => {
  const site = context.settings.site;
  const links = extractReferences({
    title: issue.fields.summary,
    body: descriptionText(issue.fields.description),
    container,
    // The issue's own project is known to be on this site even before the tenant's directory says so.
    jiraProjects: { ...context.jiraProjects, [container.key]: site },
    jiraSites: [...new Set([...(context.jiraSites ?? []), site])],
    self: ref,
  });
  return links.map((link) =>
    link.type === 'implements' && link.origin === 'key_mention' && link.target.startsWith('jira:') ? { ...link, type: 'mentions' } : link,
  );
};

/** The web page of the issue: from its REST `self` URL (keeps a Data Center context path), else from the site. */
const browseUrl = (issue: JiraIssue, site: string): string => {
  const self = issue.self ?? '';
  const api = self.indexOf('/rest/api/');
  const base = api >= 0 ? self.slice(0, api) : `https://${site}`;
  return `${base}/browse/${issue.key}`;
};

/** `ACME-42` → `ACME`: the project of an issue whose payload does not carry it. */
export const projectKeyOf = (issueKey: string): string => issueKey.slice(0, issueKey.lastIndexOf('-'));

/**
 * A Jira issue as a work item. `closedAt` is the resolution date, or the update time when this
 * delivery's changelog moves the issue into a closed status; `startedAt` is derived by the core from
 * the first observation in a started status, which for a transition delivery is its `updated` time.
 */
export function observeIssue(
  issue: JiraIssue,
  context: JiraObserveContext,
  times: IssueTimes,
  changelog: readonly { field: string; toString?: string | null }[] = [],
): JiraObservation {
  const { settings } = context;
  const { site } = settings;
  const { fields } = issue;
  const ref = jiraRef(site, issue.key);
  const custom = readCustomFields(fields as Record<string, unknown>, settings.customFields);
  const labels = fields.labels ?? [];
  const components = (fields.components ?? []).map((c) => c.name);
  const fixVersions = (fields.fixVersions ?? []).map((v) => v.name);
  const container: Container = {
    source: 'jira',
    key: (fields.project?.key ?? projectKeyOf(issue.key)).toUpperCase(),
    ...(fields.project?.name ? { name: fields.project.name } : {}),
    ...(custom.sprint ? { sprint: custom.sprint } : {}),
    ...(fixVersions.length > 0 ? { fixVersions } : {}),
  };
  const status = mapJiraStatus(
    { name: fields.status.name, categoryKey: fields.status.statusCategory?.key, resolution: fields.resolution?.name },
    settings.statusRules,
  );
  const closed = status.category === 'done' || status.category === 'cancelled';
  const transitioned = changelog.some((entry) => entry.field.toLowerCase() === 'status' || entry.field.toLowerCase() === 'resolution');
  const closedAt = closed ? (fields.resolutiondate ?? (transitioned ? times.updatedAt : undefined)) : undefined;
  const owner = personOfJiraUser(fields.assignee);
  const requester = personOfJiraUser(fields.reporter) ?? personOfJiraUser(fields.creator);
  const category =
    custom.category ??
    categoryByRules(settings.categoryRules, { issueType: fields.issuetype?.name ?? '', project: container.key, labels, components });
  const item: ObservedItem = {
    ref,
    source: 'jira',
    kind: kindOfIssueType(fields.issuetype),
    title: fields.summary,
    url: browseUrl(issue, site),
    container,
    status,
    priority: mapJiraPriority(fields.priority?.name, settings.priorityRules),
    owners: owner ? [owner] : [],
    ...(requester ? { requester } : {}),
    ...(custom.team ? { team: custom.team } : {}),
    ...(category ? { category } : {}),
    labels: [...labels, ...components.map((name) => `component:${name}`)],
    ...(fields.duedate ? { dueAt: fields.duedate } : {}),
    ...(custom.plannedStartAt ? { plannedStartAt: custom.plannedStartAt } : {}),
    ...(custom.storyPoints !== undefined ? { storyPoints: custom.storyPoints } : {}),
    createdAt: times.createdAt,
    updatedAt: times.updatedAt,
    ...(closedAt ? { closedAt } : {}),
    links: [...sourceLinksOf(fields, site, custom), ...mentionsOf(issue, ref, container, context)],
  };
  return {
    item,
    linkOrigins: [...LINK_ORIGINS],
    aliases: [unresolvedJiraRef(issue.key), ...(issue.id ? [jiraIssueIdRef(site, issue.id)] : [])],
  };
}
