import { describe, expect, it } from 'vitest';
import { readJiraTime } from '../../connectors/jira/dates.ts';
import { normalizeJiraDelivery } from '../../connectors/jira/normalize.ts';
import { UNNAMED_JIRA_EVENT } from '../../connectors/jira/payload-schemas.ts';
import { personOfJiraUser } from '../../connectors/jira/people.ts';
import { receiveJiraDelivery } from '../../connectors/jira/receive.ts';
import type { ItemChange, Normalized, UpsertChange } from '../../core/changes.ts';
import { ValidationError } from '../../core/errors.ts';
import { personIdFor } from '../../core/ids.ts';
import { applyChange } from '../../core/merge.ts';
import { ItemChange as ItemChangeSchema } from '../../core/changes.ts';
import { WorkItem } from '../../core/work-item.ts';
import { cloudPayload, dataCenterPayload, jiraFixture, jiraSettings, normalizeJira, toBody } from '../fixtures/jira-examples.ts';

/**
 * The shapes real Jira servers and integrations send besides the documented ones: locale
 * timestamps of old servers, times without a zone, users as bare `self` URLs, issues without
 * dates, status or priority. Each is indexed, or ignored or failed in processing with its reason;
 * none is refused when it arrives.
 */

const DATA_CENTER = { site: 'jira.acme.com', auth: 'basic' };
const RECEIVED_AT = '2030-01-01T00:00:00.000Z';
const dcRef = (key: string) => `jira:jira.acme.com/${key}`;

const changesOf = (result: Normalized): ItemChange[] => {
  if (result.outcome !== 'changes') throw new Error(`expected changes, got ignored: ${result.reason}`);
  for (const change of result.changes) expect(ItemChangeSchema.parse(change)).toEqual(change);
  return result.changes;
};

const upsertOf = (payload: unknown, settings: Record<string, unknown> = DATA_CENTER, receivedAt = RECEIVED_AT): UpsertChange => {
  const upserts = changesOf(normalizeJira(payload, { settings, receivedAt })).filter((c): c is UpsertChange => c.op === 'upsert');
  expect(upserts).toHaveLength(1);
  return upserts[0]!;
};

/** What processing makes of a body the ack path accepted: receive (as the ack path does), then normalize. */
const receiveThenNormalize = (payload: unknown, settings: Record<string, unknown> = {}): Normalized => {
  const body = toBody(payload);
  const { event } = receiveJiraDelivery({ headers: { 'content-type': 'application/json' }, body });
  return normalizeJiraDelivery(
    { event, headers: {}, body, receivedAt: RECEIVED_AT },
    { connection: { id: 'con_jira', settings: jiraSettings(settings) }, jiraProjects: {} },
  );
};

describe('jira: envelope timestamps old servers write', () => {
  it('indexes an issue whose envelope timestamp is written in a Jira Server locale form', () => {
    const payload = jiraFixture('data-center/issue-updated-ops-17-locale-timestamp');
    expect(readJiraTime(payload.timestamp)).toEqual({ millis: Date.parse('2019-01-30T19:48:08.900Z'), zoned: false });
    const { item, orderedBy } = upsertOf(payload);
    expect(item).toMatchObject({
      ref: dcRef('OPS-17'),
      status: { name: 'In Review', category: 'in_review' },
      createdAt: '2019-01-30T16:02:11.000Z',
      updatedAt: '2019-01-30T18:48:08.900Z',
      dueAt: '2019-02-08T00:00:00.000Z',
    });
    expect(orderedBy).toEqual({ field: 'fields.updated', zoned: true });
  });

  it('orders a link event by a US-locale timestamp whose day cannot be a month, marked as written without a zone', () => {
    const changes = changesOf(normalizeJira(jiraFixture('data-center/issuelink-created-ops-17-blocks-ops-19-us-locale-timestamp'), { settings: DATA_CENTER }));
    expect(changes.map((c) => (c.op === 'link' ? [c.ref, c.at, c.orderedBy] : c.op))).toEqual([
      ['jira:jira.acme.com/id/20317', '2019-06-13T12:51:58.687Z', { field: 'timestamp', zoned: false }],
      ['jira:jira.acme.com/id/20319', '2019-06-13T12:51:58.687Z', { field: 'timestamp', zoned: false }],
    ]);
  });

  it('indexes an issue whose envelope timestamp could be June 7 or July 6, ordered by fields.updated, never guessing', () => {
    const payload = jiraFixture('data-center/issue-updated-ops-17-ambiguous-timestamp');
    expect(readJiraTime(payload.timestamp)).toBeUndefined();
    const { item, orderedBy } = upsertOf(payload);
    expect(item).toMatchObject({ createdAt: '2019-06-03T14:14:27.000Z', updatedAt: '2019-06-07T17:51:58.687Z' });
    expect(orderedBy).toEqual({ field: 'fields.updated', zoned: true });
  });

  it("dates a deletion whose timestamp cannot be read by the issue's last update, and records that it did", () => {
    const changes = changesOf(normalizeJira(jiraFixture('data-center/issue-deleted-ops-19-ambiguous-timestamp'), { settings: DATA_CENTER }));
    expect(changes).toEqual([
      {
        op: 'delete',
        ref: dcRef('OPS-19'),
        at: '2024-03-04T14:30:00.000Z',
        reason: 'deleted',
        orderedBy: { field: 'fields.updated', zoned: true, skipped: ['timestamp'] },
      },
    ]);
  });

  it('dates a deletion without any readable time by when it was received', () => {
    const payload = jiraFixture('data-center/issue-deleted-ops-19-ambiguous-timestamp');
    delete payload.issue.fields;
    expect(changesOf(normalizeJira(payload, { settings: DATA_CENTER, receivedAt: RECEIVED_AT }))).toEqual([
      { op: 'delete', ref: dcRef('OPS-19'), at: RECEIVED_AT, reason: 'deleted', orderedBy: { field: 'received', zoned: true, skipped: ['timestamp', 'fields.updated'] } },
    ]);
  });

  it('orders a deletion with a timestamp beyond the range of a date by the issue, instead of failing it', () => {
    for (const timestamp of [1.2345678901234568e29, '123456789012345678901234567890', -1e300]) {
      const payload = cloudPayload('issue-deleted-acme-103');
      payload.timestamp = timestamp;
      const [change] = changesOf(normalizeJira(payload));
      expect(change).toMatchObject({ op: 'delete', orderedBy: { field: 'fields.updated', skipped: ['timestamp'] } });
    }
  });
});

describe('jira: times written without a zone', () => {
  it('orders an issue whose times have no zone by fields.updated, read as UTC and marked unzoned', () => {
    const { item, orderedBy } = upsertOf(jiraFixture('data-center/issue-updated-ops-17-unzoned-times'));
    expect(item).toMatchObject({ createdAt: '2019-01-30T17:02:11.000Z', updatedAt: '2019-01-30T19:48:08.900Z' });
    expect(orderedBy).toEqual({ field: 'fields.updated', zoned: false });
  });

  it('orders by a zoned envelope timestamp rather than a fields.updated without a zone', () => {
    const payload = jiraFixture('data-center/issue-updated-ops-17-unzoned-times');
    payload.timestamp = '1548870488900';
    const { item, orderedBy } = upsertOf(payload);
    expect(item.updatedAt).toBe('2019-01-30T17:48:08.900Z');
    expect(orderedBy).toEqual({ field: 'timestamp', zoned: true, skipped: ['fields.updated'] });
  });

  it('keeps the zoned state when an unzoned observation of the same moment arrives after it, and takes it only when surely newer', () => {
    const zoned = upsertOf(jiraFixture('data-center/issue-updated-ops-17-locale-timestamp'));
    const unzoned = upsertOf(jiraFixture('data-center/issue-updated-ops-17-unzoned-times'));
    const indexed = applyChange(undefined, zoned)!;
    // 19:48:08.900 without a zone reads an hour after 18:48:08.900Z, but may be any time within 14 h of it.
    const after = applyChange(indexed, unzoned);
    expect(after?.updatedAt ?? indexed.updatedAt).toBe('2019-01-30T18:48:08.900Z');
    expect(after?.orderedBy ?? indexed.orderedBy).toEqual({ field: 'fields.updated', zoned: true });
    const dayLater = jiraFixture('data-center/issue-updated-ops-17-unzoned-times');
    dayLater.issue.fields.updated = '2019-01-31T19:48:08.900';
    expect(applyChange(indexed, upsertOf(dayLater))).toMatchObject({ updatedAt: '2019-01-31T19:48:08.900Z', orderedBy: { zoned: false } });
  });
});

describe('jira: users carried only by their self URL', () => {
  it('identifies a Data Center user by the username or key its self URL names', () => {
    const { item } = upsertOf(jiraFixture('data-center/issue-updated-ops-17-users-self-only'));
    expect(item.owners).toEqual([
      {
        id: personIdFor('jira:jonas.weber'),
        name: 'Jonas Weber',
        handles: [{ source: 'jira', handle: 'jonas.weber', externalId: 'jonas.weber', url: 'https://jira.acme.com/rest/api/2/user?username=jonas.weber' }],
        emails: [],
      },
    ]);
    expect(item.requester).toEqual({
      id: personIdFor('jira:mira'),
      handles: [{ source: 'jira', handle: 'mira', externalId: 'mira', url: 'https://jira.acme.com/rest/api/2/user?key=mira' }],
      emails: [],
    });
  });

  it('identifies a Cloud user by the accountId its self URL names: the same person as with the full user', () => {
    const payload = cloudPayload('issue-updated-acme-101-in-progress');
    const full = upsertOf(payload, {}).item.owners[0]!;
    payload.issue.fields.assignee = { self: 'https://acme.atlassian.net/rest/api/2/user?accountId=5b10ac8d82e05b22cc7d4ef5' };
    const bare = upsertOf(payload, {}).item.owners[0]!;
    expect(bare.id).toBe(full.id);
    expect(bare.handles).toEqual([{ source: 'jira', handle: '5b10ac8d82e05b22cc7d4ef5', externalId: '5b10ac8d82e05b22cc7d4ef5', url: payload.issue.fields.assignee.self }]);
  });

  it('leaves a user whose self URL names nobody out, as an anonymous one', () => {
    expect(personOfJiraUser({ self: 'https://jira.acme.com/rest/api/2/user' })).toBeUndefined();
    expect(personOfJiraUser({ self: 'not a url' })).toBeUndefined();
    expect(personOfJiraUser({ self: 'https://jira.acme.com/rest/api/2/user?username=' })).toBeUndefined();
  });

  it('prefers the ids a user carries to the one its self URL names', () => {
    const user = dataCenterPayload().issue.fields.assignee;
    expect(personOfJiraUser({ ...user, self: 'https://jira.acme.com/rest/api/2/user?username=someone.else' })?.id).toBe(personIdFor('jira:JIRAUSER10100'));
  });
});

describe('jira: issues with fields missing or shaped differently', () => {
  it('indexes an issue without created or updated: updated at the webhook timestamp, created when first seen', () => {
    const change = upsertOf(jiraFixture('data-center/issue-created-ops-19-without-dates'));
    expect(change.item).toMatchObject({
      ref: dcRef('OPS-19'),
      kind: 'task',
      priority: { level: 'none' },
      status: { name: 'Open', category: 'todo' },
      createdAt: RECEIVED_AT,
      updatedAt: '2024-03-04T14:15:00.000Z',
    });
    expect(change.orderedBy).toEqual({ field: 'timestamp', zoned: true, skipped: ['fields.updated'] });
    expect(change.createdAtUnknown).toBe(true);
  });

  it('keeps the first-seen creation time of an undated issue whatever order its deliveries are processed in', () => {
    const payload = jiraFixture('data-center/issue-created-ops-19-without-dates');
    const first = upsertOf(payload, DATA_CENTER, '2030-01-01T00:00:00.000Z');
    const second = upsertOf({ ...payload, timestamp: 1709565300000 }, DATA_CENTER, '2030-01-02T00:00:00.000Z');
    for (const order of [[first, second], [second, first]]) {
      const item = order.reduce<WorkItem | undefined>((current, change) => applyChange(current, change) ?? current, undefined)!;
      expect(item).toMatchObject({ createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2024-03-04T15:15:00.000Z' });
    }
  });

  it('takes the project from the issue key when the payload has no project', () => {
    const payload = jiraFixture('data-center/issue-created-ops-19-without-dates');
    delete payload.issue.fields.project;
    expect(upsertOf(payload).item.container).toMatchObject({ source: 'jira', key: 'OPS' });
  });

  it('indexes a description in Atlassian Document Format, a timestamp as a string of epoch milliseconds and priority null', () => {
    const payload = jiraFixture('cloud/issue-created-acme-104-adf-description');
    expect(readJiraTime(payload.timestamp)).toEqual({ millis: 1709301600456, zoned: true });
    const { item } = upsertOf(payload, {});
    expect(item).toMatchObject({ ref: 'jira:acme.atlassian.net/ACME-104', priority: { level: 'none' }, updatedAt: '2024-03-01T14:00:00.000Z' });
    expect(item.links).toEqual([{ type: 'blocked_by', target: 'jira:acme.atlassian.net/ACME-101', origin: 'key_mention', confidence: 0.9 }]);
  });

  it('reads an issue type, a priority, a status and a resolution sent as plain names', () => {
    const payload = dataCenterPayload();
    Object.assign(payload.issue.fields, { issuetype: 'Bug', priority: 'Major', status: 'Resolved', resolution: "Won't Fix" });
    const { item } = upsertOf(payload);
    expect(item).toMatchObject({ kind: 'bug', priority: { name: 'Major', level: 'high' }, status: { name: 'Resolved', category: 'cancelled' } });
    payload.issue.fields.status = 'In Progress';
    payload.issue.fields.resolution = null;
    expect(upsertOf(payload).item.status).toEqual({ name: 'In Progress', category: 'in_progress' });
  });

  it('fails an issue without a status, naming the field: open and done work cannot be told apart without it', () => {
    const payload = jiraFixture('data-center/issue-updated-ops-17-without-status');
    expect(() => normalizeJira(payload, { settings: DATA_CENTER })).toThrow(ValidationError);
    expect(() => normalizeJira(payload, { settings: DATA_CENTER })).toThrow(/issue\.fields\.status/);
  });

  it.each([
    ['an issue without a key', () => cloudPayload('issue-updated-acme-101-in-progress'), (p: any) => delete p.issue.key, 'issue.key'],
    ['a link event without its issues', () => cloudPayload('issuelink-created-acme-101-blocks-acme-102'), (p: any) => delete p.issueLink.destinationIssueId, 'issueLink.destinationIssueId'],
    ['a comment that names no issue', () => cloudPayload('comment-created-acme-101'), (p: any) => ((p.comment.self = null), delete p.issue), 'issue.key'],
  ])('fails %s in processing, naming the field', (_, payloadOf, change, path) => {
    const payload = payloadOf();
    change(payload);
    expect(() => receiveThenNormalize(payload)).toThrow(ValidationError);
    try {
      receiveThenNormalize(payload);
    } catch (error) {
      expect((error as ValidationError).extensions.errors).toEqual([expect.objectContaining({ path })]);
    }
  });
});

describe('jira: deliveries that say nothing the index holds are ignored with their reason', () => {
  it('ignores jira:issue_updated without an issue', () => {
    expect(receiveThenNormalize(jiraFixture('cloud/issue-updated-without-issue'))).toEqual({
      outcome: 'ignored',
      event: 'jira:issue_updated',
      reason: 'The Jira jira:issue_updated payload has no `issue`: there is nothing to index.',
    });
  });

  it.each([
    ['issue-deleted-acme-103', 'issue'],
    ['issuelink-created-acme-101-blocks-acme-102', 'issueLink'],
    ['comment-created-acme-101', 'comment'],
  ] as const)('ignores %s without its %s', (name, field) => {
    const payload = cloudPayload(name);
    delete payload[field];
    expect(receiveThenNormalize(payload)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining(`\`${field}\``) });
  });

  it('stores a payload without webhookEvent under a placeholder event, and ignores it naming the field', () => {
    const payload = cloudPayload('issue-created-acme-101');
    delete payload.webhookEvent;
    expect(receiveThenNormalize(payload)).toEqual({
      outcome: 'ignored',
      event: UNNAMED_JIRA_EVENT,
      reason: expect.stringMatching(/^The payload has no `webhookEvent`/),
    });
  });

  it('stores a webhookEvent that is not an event name under the short placeholder, and ignores it naming the field', () => {
    for (const [webhookEvent, shape] of [['x'.repeat(236_597), '236597 characters'], [42, 'a number'], ['<script>', '8 characters']] as const) {
      const payload = cloudPayload('issue-created-acme-101');
      payload.webhookEvent = webhookEvent;
      const result = receiveThenNormalize(payload);
      expect(result).toMatchObject({ outcome: 'ignored', event: UNNAMED_JIRA_EVENT });
      expect(result.outcome === 'ignored' && result.reason).toContain(`\`webhookEvent\` is not a Jira event name (${shape}`);
    }
  });
});
