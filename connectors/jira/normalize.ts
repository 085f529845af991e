import type * as z from 'zod';
import type { ItemChange, LinkChange, Normalized } from '../../core/changes.ts';
import type { NormalizeContext, StoredDelivery } from '../../core/connector.ts';
import { MalformedPayloadError, ValidationError } from '../../core/errors.ts';
import { commentMentions, jiraCommentOrigin, jiraIssueIdRef, jiraRef } from '../../core/references.ts';
import { isoOfJiraTime, orderingTimeOf } from './dates.ts';
import { linkTypesOf } from './link-types.ts';
import { type JiraObserveContext, descriptionText, observeIssue, projectKeyOf } from './observe.ts';
import {
  CommentEvent,
  IssueDeletedEvent,
  IssueEvent,
  IssueLinkEvent,
  JIRA_EVENT_NAME,
  UNNAMED_JIRA_EVENT,
  commentIdOfCommentUrl,
  issueIdOfCommentUrl,
} from './payload-schemas.ts';
import { parseJiraSettings } from './settings.ts';

type JiraPayload = Readonly<Record<string, unknown>>;

/** The changes a delivery makes, or why it says nothing the index holds. */
type EventOutcome = ItemChange[] | { ignored: string };

type EventNormalizer = (payload: JiraPayload, delivery: StoredDelivery, context: JiraObserveContext) => EventOutcome;

/** A payload of a supported event that does not have the fields the mapping needs: say which. */
export const parseJiraPayload = <Schema extends z.ZodType>(schema: Schema, payload: unknown, event: string): z.output<Schema> => {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    `The Jira ${event} payload`,
  );
};

/** A supported event without the object it is about (`jira:issue_updated` without `issue`) says nothing to index. */
const without = (payload: JiraPayload, event: string, field: string): { ignored: string } | undefined =>
  payload[field] === undefined || payload[field] === null ? { ignored: `The Jira ${event} payload has no \`${field}\`: there is nothing to index.` } : undefined;

/*
 * Jira moves an issue to another project by giving it a new key; the changelog says so with a `Key`
 * item. The old ref becomes a tombstone pointing at the new one, and links to it follow (alias).
 */
const movedFrom = (changelog: readonly { field: string; fromString?: string | null }[]): string | undefined =>
  changelog.find((entry) => entry.field.toLowerCase() === 'key' && entry.fromString)?.fromString ?? undefined;

/**
 * An issue's state, ordered by `fields.updated` (else the webhook `timestamp`, else when it was
 * received). An issue without a readable `created` is dated by when it was first seen.
 */
const normalizeIssue: EventNormalizer = (payload, delivery, context) => {
  const nothing = without(payload, delivery.event, 'issue');
  if (nothing) return nothing;
  const event = parseJiraPayload(IssueEvent, payload, delivery.event);
  const { fields } = event.issue;
  const updated = orderingTimeOf([['fields.updated', fields.updated], ['timestamp', event.timestamp]], delivery.receivedAt);
  const created = isoOfJiraTime(fields.created);
  const changelog = event.changelog?.items ?? [];
  const times = { createdAt: created ?? delivery.receivedAt, updatedAt: updated.at };
  const observation = observeIssue(event.issue, context, times, changelog);
  const { site } = context.settings;
  const activityAt = event.comment?.updated ?? event.comment?.created;
  const changes: ItemChange[] = [];
  const oldKey = movedFrom(changelog);
  const aliases = [...observation.aliases];
  if (oldKey && jiraRef(site, oldKey) !== observation.item.ref) {
    const oldRef = jiraRef(site, oldKey);
    changes.push({ op: 'delete', ref: oldRef, at: updated.at, reason: 'transferred', movedTo: observation.item.ref, orderedBy: updated.orderedBy });
    aliases.push(oldRef);
  }
  changes.push({
    op: 'upsert',
    item: observation.item,
    linkOrigins: observation.linkOrigins,
    aliases,
    ...(activityAt ? { activityAt } : {}),
    orderedBy: updated.orderedBy,
    ...(created ? {} : { createdAtUnknown: true }),
  });
  return changes;
};

/**
 * The deletion time: the webhook's, else the issue's last update, else when the delivery was
 * received. A `timestamp` without a zone yields to a zoned `fields.updated`, so that a deletion from
 * a server west of UTC never reads as older than the update before it.
 */
const normalizeIssueDeleted: EventNormalizer = (payload, delivery, context) => {
  const nothing = without(payload, delivery.event, 'issue');
  if (nothing) return nothing;
  const event = parseJiraPayload(IssueDeletedEvent, payload, delivery.event);
  const { at, orderedBy } = orderingTimeOf([['timestamp', event.timestamp], ['fields.updated', event.issue.fields?.updated]], delivery.receivedAt);
  return [{ op: 'delete', ref: jiraRef(context.settings.site, event.issue.key), at, reason: 'deleted', orderedBy }];
};

/**
 * An issue link event names its issues by id only. The changes use id refs, which the pipeline
 * resolves to the issues' key refs; both ends get the same links their `fields.issuelinks` show,
 * so the two paths give the same edges, once. Link events are reflected in the issues' own state,
 * so one older than what the index holds of an issue changes nothing there.
 */
const normalizeIssueLink: EventNormalizer = (payload, delivery, context) => {
  const nothing = without(payload, delivery.event, 'issueLink');
  if (nothing) return nothing;
  const event = parseJiraPayload(IssueLinkEvent, payload, delivery.event);
  const { site } = context.settings;
  const link = event.issueLink;
  const { at, orderedBy } = orderingTimeOf([['timestamp', event.timestamp]], delivery.receivedAt);
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
    orderedBy,
  });
  return [side(source, types.outward, destination), side(destination, types.inward, source)];
};

/**
 * A comment is activity on its issue at the comment's time; the payload's partial issue is not a
 * state to index. What the comment names is stated whole under the comment's own origin (a
 * `complete` link change): all its mentions when written or edited, none once deleted, so an edit
 * that drops a key removes that mention and a deletion removes them all, while the issue's own
 * mentions and other comments' stay. A new comment that names nothing states nothing, nor does the
 * deletion of one whose last text named nothing (its edits stated that). A deletion is ordered by
 * the webhook's time, else by the comment's last update (which it must not lose to).
 */
const normalizeComment: EventNormalizer = (payload, delivery, context) => {
  const nothing = without(payload, delivery.event, 'comment');
  if (nothing) return nothing;
  const event = parseJiraPayload(CommentEvent, payload, delivery.event);
  const { site } = context.settings;
  const issueId = event.issue?.id ?? issueIdOfCommentUrl(event.comment.self);
  const ref = event.issue?.key ? jiraRef(site, event.issue.key) : jiraIssueIdRef(site, issueId!);
  const commentTime: [string, unknown][] =
    delivery.event === 'comment_created'
      ? [['comment.created', event.comment.created]]
      : delivery.event === 'comment_updated'
        ? [['comment.updated', event.comment.updated]]
        : [];
  const afterTimestamp: [string, unknown][] = delivery.event === 'comment_deleted' ? [['comment.updated', event.comment.updated]] : [];
  const { at, orderedBy } = orderingTimeOf([...commentTime, ['timestamp', event.timestamp], ...afterTimestamp], delivery.receivedAt);
  const changes: ItemChange[] = [{ op: 'activity', ref, at, orderedBy }];
  const commentId = event.comment.id ?? commentIdOfCommentUrl(event.comment.self);
  if (commentId === undefined || commentId === null || commentId === '') return changes;
  const origin = jiraCommentOrigin(site, commentId);
  const project = event.issue?.key ? projectKeyOf(event.issue.key).toUpperCase() : undefined;
  const mentions = commentMentions(
    {
      body: descriptionText(event.comment.body ?? ''),
      container: { source: 'jira', key: project ?? '' },
      // The issue's own project is known to be on this site even before the tenant's directory says so.
      jiraProjects: { ...context.jiraProjects, ...(project ? { [project]: site } : {}) },
      jiraSites: [...new Set([...(context.jiraSites ?? []), site])],
      ...(event.issue?.key ? { self: ref } : {}),
    },
    origin,
  );
  const deleted = delivery.event === 'comment_deleted';
  // Nothing to state: a new comment naming nothing, or a deleted one whose last text named nothing.
  if (mentions.length === 0 && (delivery.event === 'comment_created' || (deleted && event.comment.body !== undefined))) return changes;
  changes.push({ op: 'link', ref, at, add: deleted ? [] : mentions, remove: [], origin, complete: true, orderedBy });
  return changes;
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

/** Why a delivery stored without an event name ({@link UNNAMED_JIRA_EVENT}) is not indexed. */
const unnamedReason = (payload: JiraPayload): string => {
  const name = payload.webhookEvent;
  if (typeof name === 'string' && JIRA_EVENT_NAME.test(name)) return `Tributary does not index Jira ${name} events.`;
  if (name === undefined || name === null || (typeof name === 'string' && name.trim() === '')) {
    return 'The payload has no `webhookEvent`, where every Jira webhook names its event (e.g. "jira:issue_updated"): there is nothing to index.';
  }
  const shape = typeof name === 'string' ? `${name.length} characters` : Array.isArray(name) ? 'an array' : `a ${typeof name}`;
  return `The payload's \`webhookEvent\` is not a Jira event name (${shape}; Jira sends names like "jira:issue_updated"): there is nothing to index.`;
};

/**
 * Pure: a stored Jira delivery → changes to the index, or why it is ignored. Deterministic: every
 * timestamp comes from the payload (or the delivery's `receivedAt`), never from the clock, and the
 * connection's rules are read from its settings each time, so a replay applies the current rules.
 * Ignores a delivery that says nothing the index holds (an unsupported event, no `webhookEvent`, a
 * supported event without the object it is about); throws ValidationError, naming each field, when
 * a supported event lacks a field the mapping needs (the delivery fails, retryable by replay).
 */
export function normalizeJiraDelivery(delivery: StoredDelivery, context: NormalizeContext): Normalized {
  const normalizer = NORMALIZERS.get(delivery.event);
  if (!normalizer && delivery.event !== UNNAMED_JIRA_EVENT) {
    return { outcome: 'ignored', event: delivery.event, reason: `Tributary does not index Jira ${delivery.event} events.` };
  }
  const payload = parseJson(delivery.body);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new MalformedPayloadError('The stored Jira delivery is not a JSON object.');
  }
  const record = payload as JiraPayload;
  if (!normalizer) return { outcome: 'ignored', event: delivery.event, reason: unnamedReason(record) };
  const observeContext: JiraObserveContext = {
    settings: parseJiraSettings(context.connection.settings),
    jiraProjects: context.jiraProjects,
    ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}),
  };
  const outcome = normalizer(record, delivery, observeContext);
  return 'ignored' in outcome
    ? { outcome: 'ignored', event: delivery.event, reason: outcome.ignored }
    : { outcome: 'changes', event: delivery.event, changes: outcome };
}
