import type * as z from 'zod';
import type { ItemChange, LinkChange, Normalized } from '../../core/changes.ts';
import type { NormalizeContext, StoredDelivery } from '../../core/connector.ts';
import { MalformedPayloadError, ValidationError } from '../../core/errors.ts';
import { jiraIssueIdRef, jiraRef } from '../../core/references.ts';
import { linkTypesOf } from './link-types.ts';
import { type JiraObserveContext, observeIssue } from './observe.ts';
import { CommentEvent, IssueDeletedEvent, IssueEvent, IssueLinkEvent, issueIdOfCommentUrl } from './payload-schemas.ts';
import { parseJiraSettings } from './settings.ts';

type EventNormalizer = (payload: unknown, delivery: StoredDelivery, context: JiraObserveContext) => ItemChange[];

/** A payload of a supported event that does not have the fields the mapping needs: say which. */
export const parseJiraPayload = <Schema extends z.ZodType>(schema: Schema, payload: unknown, event: string): z.output<Schema> => {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    `The Jira ${event} payload`,
  );
};

/*
 * Jira moves an issue to another project by giving it a new key; the changelog says so with a `Key`
 * item. The old ref becomes a tombstone pointing at the new one, and links to it follow (alias).
 */
const movedFrom = (changelog: readonly { field: string; fromString?: string | null }[]): string | undefined =>
  changelog.find((entry) => entry.field.toLowerCase() === 'key' && entry.fromString)?.fromString ?? undefined;

const normalizeIssue: EventNormalizer = (payload, delivery, context) => {
  const event = parseJiraPayload(IssueEvent, payload, delivery.event);
  const changelog = event.changelog?.items ?? [];
  const observation = observeIssue(event.issue, context, changelog);
  const { site } = context.settings;
  const activityAt = event.comment?.updated ?? event.comment?.created;
  const changes: ItemChange[] = [];
  const oldKey = movedFrom(changelog);
  const aliases = [...observation.aliases];
  if (oldKey && jiraRef(site, oldKey) !== observation.item.ref) {
    const oldRef = jiraRef(site, oldKey);
    changes.push({ op: 'delete', ref: oldRef, at: observation.item.updatedAt, reason: 'transferred', movedTo: observation.item.ref });
    aliases.push(oldRef);
  }
  changes.push({
    op: 'upsert',
    item: observation.item,
    linkOrigins: observation.linkOrigins,
    aliases,
    ...(activityAt ? { activityAt } : {}),
  });
  return changes;
};

/** The deletion time: the webhook's, else the issue's last update, else when the delivery was received. */
const normalizeIssueDeleted: EventNormalizer = (payload, delivery, context) => {
  const event = parseJiraPayload(IssueDeletedEvent, payload, delivery.event);
  const at = event.timestamp ?? event.issue.fields?.updated ?? delivery.receivedAt;
  return [{ op: 'delete', ref: jiraRef(context.settings.site, event.issue.key), at, reason: 'deleted' }];
};

/**
 * An issue link event names its issues by id only. The changes use id refs, which the pipeline
 * resolves to the issues' key refs; both ends get the same links their `fields.issuelinks` show,
 * so the two paths give the same edges, once. Link events are reflected in the issues' own state,
 * so one older than what the index holds of an issue changes nothing there.
 */
const normalizeIssueLink: EventNormalizer = (payload, delivery, context) => {
  const event = parseJiraPayload(IssueLinkEvent, payload, delivery.event);
  const { site } = context.settings;
  const link = event.issueLink;
  const at = event.timestamp ?? delivery.receivedAt;
  const types = linkTypesOf({ name: link.issueLinkType.name, outward: link.issueLinkType.outwardName });
  const source = jiraIssueIdRef(site, link.sourceIssueId);
  const destination = jiraIssueIdRef(site, link.destinationIssueId);
  const created = delivery.event === 'issuelink_created';
  const side = (ref: string, type: LinkChange['add'][number]['type'], target: string): LinkChange => ({
    op: 'link',
    ref,
    at,
    add: created ? [{ type, target, origin: 'source_link', confidence: 1 }] : [],
    remove: created ? [] : [{ type, target }],
    reflectedInItem: true,
  });
  return [side(source, types.outward, destination), side(destination, types.inward, source)];
};

/** A comment is activity on its issue; the payload's partial issue is not a state to index. */
const normalizeComment: EventNormalizer = (payload, delivery, context) => {
  const event = parseJiraPayload(CommentEvent, payload, delivery.event);
  const { site } = context.settings;
  const issueId = event.issue?.id ?? issueIdOfCommentUrl(event.comment.self);
  const ref = event.issue?.key ? jiraRef(site, event.issue.key) : jiraIssueIdRef(site, issueId!);
  const at =
    delivery.event === 'comment_created'
      ? (event.comment.created ?? event.timestamp)
      : delivery.event === 'comment_updated'
        ? (event.comment.updated ?? event.timestamp)
        : event.timestamp;
  return [{ op: 'activity', ref, at: at ?? delivery.receivedAt }];
};

/** One entry per supported event: supporting another is adding a line, not a branch elsewhere. */
const NORMALIZERS: ReadonlyMap<string, EventNormalizer> = new Map([
  ['jira:issue_created', normalizeIssue],
  ['jira:issue_updated', normalizeIssue],
  ['jira:issue_deleted', normalizeIssueDeleted],
  ['issuelink_created', normalizeIssueLink],
  ['issuelink_deleted', normalizeIssueLink],
  ['comment_created', normalizeComment],
  ['comment_updated', normalizeComment],
  ['comment_deleted', normalizeComment],
]);

/** Every event the connector indexes; the rest are acknowledged and recorded as ignored. */
export const SUPPORTED_JIRA_EVENTS: readonly string[] = [...NORMALIZERS.keys()];

const parseJson = (body: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new MalformedPayloadError('The stored Jira delivery is not valid UTF-8 JSON.', cause);
  }
};

/**
 * Pure: a stored Jira delivery → changes to the index, or why it is ignored. Deterministic: every
 * timestamp comes from the payload (or the delivery's `receivedAt`), never from the clock, and the
 * connection's rules are read from its settings each time, so a replay applies the current rules.
 * Throws ValidationError when a supported event lacks a field the mapping needs.
 */
export function normalizeJiraDelivery(delivery: StoredDelivery, context: NormalizeContext): Normalized {
  const normalizer = NORMALIZERS.get(delivery.event);
  if (!normalizer) return { outcome: 'ignored', event: delivery.event, reason: `Tributary does not index Jira ${delivery.event} events.` };
  const payload = parseJson(delivery.body);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new MalformedPayloadError('The stored Jira delivery is not a JSON object.');
  }
  const observeContext: JiraObserveContext = {
    settings: parseJiraSettings(context.connection.settings),
    jiraProjects: context.jiraProjects,
    ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}),
  };
  return { outcome: 'changes', event: delivery.event, changes: normalizer(payload, delivery, observeContext) };
}
