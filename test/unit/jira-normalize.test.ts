import { describe, expect, it } from 'vitest';
import { orderingTimeOf, parseJiraTime, readJiraTime } from '../../connectors/jira/dates.ts';
import { linkTypesOf } from '../../connectors/jira/link-types.ts';
import { categoryByRules, descriptionText, kindOfIssueType } from '../../connectors/jira/observe.ts';
import { mapJiraPriority } from '../../connectors/jira/priority.ts';
import { mapJiraStatus } from '../../connectors/jira/status.ts';
import { type ItemChange, ItemChange as ItemChangeSchema, type Normalized, type UpsertChange } from '../../core/changes.ts';
import { ValidationError } from '../../core/errors.ts';
import { personIdFor } from '../../core/ids.ts';
import { applyChange } from '../../core/merge.ts';
import { type Link, type WorkItem, WorkItem as WorkItemSchema } from '../../core/work-item.ts';
import {
  CLOUD_HISTORY,
  type CloudFixture,
  cloudPayload,
  dataCenterPayload,
  jiraFixture,
  normalizeJira,
} from '../fixtures/jira-examples.ts';
import { seededRandom, shuffled, withoutVersion } from '../fixtures/work-items.ts';

const SITE = 'acme.atlassian.net';
const ref = (key: string) => `jira:${SITE}/${key}`;
const CUSTOM_FIELDS = { customfield_10016: 'storyPoints', customfield_10001: 'team', customfield_10015: 'startDate' };

const changesOf = (result: Normalized): ItemChange[] => {
  if (result.outcome !== 'changes') throw new Error(`expected changes, got ignored: ${result.reason}`);
  return result.changes;
};

const upsertOf = (payload: unknown, settings?: Record<string, unknown>): UpsertChange => {
  const changes = changesOf(normalizeJira(payload, settings ? { settings } : {}));
  const upserts = changes.filter((c): c is UpsertChange => c.op === 'upsert');
  expect(upserts).toHaveLength(1);
  return upserts[0]!;
};

const sourceLink = (type: Link['type'], target: string): Link => ({ type, target, origin: 'source_link', confidence: 1 });

/** The origin of the links comment 10050 on ACME-101 states. */
const COMMENT_ORIGIN = 'comment:jira:acme.atlassian.net/10050';

describe('jira.normalize on real-shaped Jira Cloud payloads', () => {
  it.each(CLOUD_HISTORY.map((name) => [name]))('gives valid changes for %s', (name) => {
    const result = normalizeJira(cloudPayload(name as CloudFixture));
    const changes = changesOf(result);
    expect(result.event).toBe(cloudPayload(name as CloudFixture).webhookEvent);
    expect(changes.length).toBeGreaterThan(0);
    for (const change of changes) expect(ItemChangeSchema.parse(change)).toEqual(change);
  });

  it('is deterministic: the same delivery always gives the same changes', () => {
    for (const name of CLOUD_HISTORY) expect(normalizeJira(cloudPayload(name))).toEqual(normalizeJira(cloudPayload(name)));
  });

  it('indexes a created issue under jira:{site}/{KEY}, with its type, status, priority, people, labels and dates', () => {
    const { item, aliases, linkOrigins } = upsertOf(cloudPayload('issue-created-acme-101'));
    expect(item).toMatchObject({
      ref: ref('ACME-101'),
      source: 'jira',
      kind: 'bug',
      title: 'Checkout fails when the cart holds more than 100 items',
      url: 'https://acme.atlassian.net/browse/ACME-101',
      container: { source: 'jira', key: 'ACME', name: 'Acme Web', sprint: 'ACME Sprint 12', fixVersions: ['2024.03'] },
      status: { name: 'To Do', category: 'todo' },
      priority: { name: 'Highest', level: 'urgent' },
      owners: [],
      labels: ['checkout', 'customer-reported', 'component:Payments'],
      dueAt: '2024-03-15T00:00:00.000Z',
      createdAt: '2024-03-01T09:00:00.000Z',
      updatedAt: '2024-03-01T09:00:00.000Z',
    });
    expect(item.requester).toEqual({
      id: personIdFor('jira:557058:f58131cb-b67d-43c7-b30d-6b58d40bd077'),
      name: 'Ravi Menon',
      handles: [
        {
          source: 'jira',
          handle: '557058:f58131cb-b67d-43c7-b30d-6b58d40bd077',
          externalId: '557058:f58131cb-b67d-43c7-b30d-6b58d40bd077',
          url: 'https://acme.atlassian.net/rest/api/2/user?accountId=557058:f58131cb-b67d-43c7-b30d-6b58d40bd077',
        },
      ],
      emails: [],
    });
    expect(item.closedAt).toBeUndefined();
    expect(linkOrigins).toEqual(['source_link', 'closing_keyword', 'key_mention']);
    expect(aliases).toEqual(['jira:ACME-101', 'jira:acme.atlassian.net/id/10101']);
  });

  it('links an issue to its parent epic as its child', () => {
    expect(upsertOf(cloudPayload('issue-created-acme-101')).item.links).toEqual([sourceLink('child', ref('ACME-100'))]);
  });

  it('maps custom fields the connection names: story points, team and start date', () => {
    const { item } = upsertOf(cloudPayload('issue-created-acme-101'), { customFields: CUSTOM_FIELDS });
    expect(item).toMatchObject({ storyPoints: 5, team: 'Payments Team', plannedStartAt: '2024-03-04T00:00:00.000Z' });
  });

  it('ignores custom fields the connection does not map', () => {
    const { item } = upsertOf(cloudPayload('issue-created-acme-101'));
    expect(item.storyPoints).toBeUndefined();
    expect(item.team).toBeUndefined();
    expect(item.plannedStartAt).toBeUndefined();
  });

  it('takes the assignee of an update as the owner, by accountId, with the email Jira shares', () => {
    const { item } = upsertOf(cloudPayload('issue-updated-acme-101-in-progress'));
    expect(item.status).toEqual({ name: 'In Progress', category: 'in_progress' });
    expect(item.updatedAt).toBe('2024-03-01T10:30:00.000Z');
    expect(item.owners).toEqual([
      {
        id: personIdFor('jira:5b10ac8d82e05b22cc7d4ef5'),
        name: 'Alana Grant',
        handles: [
          {
            source: 'jira',
            handle: '5b10ac8d82e05b22cc7d4ef5',
            externalId: '5b10ac8d82e05b22cc7d4ef5',
            url: 'https://acme.atlassian.net/rest/api/2/user?accountId=5b10ac8d82e05b22cc7d4ef5',
          },
        ],
        emails: ['alana@acme.example'],
        // an Atlassian account's address: verified, so the same address in another tool merges the two people
        verifiedEmails: ['alana@acme.example'],
      },
    ]);
  });

  it('closes an issue moved to Done at its resolution date, with its issue links as edges', () => {
    const { item } = upsertOf(cloudPayload('issue-updated-acme-101-done'));
    expect(item.status).toEqual({ name: 'Done', category: 'done' });
    expect(item.closedAt).toBe('2024-03-02T16:00:00.000Z');
    expect(item.links).toEqual([sourceLink('blocks', ref('ACME-102')), sourceLink('child', ref('ACME-100'))]);
  });

  it('takes the close time from a changelog transition when the issue has no resolution date', () => {
    const payload = cloudPayload('issue-updated-acme-101-done');
    payload.issue.fields.resolutiondate = null;
    expect(upsertOf(payload).item.closedAt).toBe('2024-03-02T16:00:00.000Z');
    payload.changelog.items = [{ field: 'labels', fromString: '', toString: 'checkout' }];
    expect(upsertOf(payload).item.closedAt).toBeUndefined();
  });

  it('turns issuelink_created into links on both issues, by issue id, reflected in their own state', () => {
    const changes = changesOf(normalizeJira(cloudPayload('issuelink-created-acme-101-blocks-acme-102')));
    expect(changes).toEqual([
      {
        op: 'link',
        ref: 'jira:acme.atlassian.net/id/10101',
        at: '2024-03-01T11:00:00.789Z',
        add: [sourceLink('blocks', 'jira:acme.atlassian.net/id/10102')],
        remove: [],
        reflectedInItem: true,
        orderedBy: { field: 'timestamp', zoned: true },
      },
      {
        op: 'link',
        ref: 'jira:acme.atlassian.net/id/10102',
        at: '2024-03-01T11:00:00.789Z',
        add: [sourceLink('blocked_by', 'jira:acme.atlassian.net/id/10101')],
        remove: [],
        reflectedInItem: true,
        orderedBy: { field: 'timestamp', zoned: true },
      },
    ]);
  });

  it('turns issuelink_deleted into the removal of the same links', () => {
    const changes = changesOf(normalizeJira(cloudPayload('issuelink-deleted-acme-101-blocks-acme-102')));
    expect(changes.map((c) => (c.op === 'link' ? [c.ref, c.add, c.remove] : c.op))).toEqual([
      ['jira:acme.atlassian.net/id/10101', [], [{ type: 'blocks', target: 'jira:acme.atlassian.net/id/10102' }]],
      ['jira:acme.atlassian.net/id/10102', [], [{ type: 'blocked_by', target: 'jira:acme.atlassian.net/id/10101' }]],
    ]);
  });

  it('gives the same edge from an issue link event as from the fields.issuelinks of the issue', () => {
    const ids: Record<string, string> = { 'jira:acme.atlassian.net/id/10101': ref('ACME-101'), 'jira:acme.atlassian.net/id/10102': ref('ACME-102') };
    const [sourceSide] = changesOf(normalizeJira(cloudPayload('issuelink-created-acme-101-blocks-acme-102')));
    if (sourceSide?.op !== 'link') throw new Error('expected a link change');
    const fromEvent = sourceSide.add.map((l) => ({ ...l, target: ids[l.target]! }));
    const fromFields = upsertOf(cloudPayload('issue-updated-acme-101-done')).item.links.filter((l) => l.type === 'blocks');
    expect(fromEvent).toEqual(fromFields);
  });

  it('records a comment as activity on its issue at the comment time, and what it names as its mentions', () => {
    expect(changesOf(normalizeJira(cloudPayload('comment-created-acme-101')))).toEqual([
      { op: 'activity', ref: ref('ACME-101'), at: '2024-03-01T12:00:00.321Z', orderedBy: { field: 'comment.created', zoned: true } },
      {
        op: 'link',
        ref: ref('ACME-101'),
        at: '2024-03-01T12:00:00.321Z',
        // "Blocked on ACME-102": a comment names an item, it does not make a dependency.
        add: [{ type: 'mentions', target: ref('ACME-102'), origin: COMMENT_ORIGIN, confidence: 0.9 }],
        remove: [],
        origin: COMMENT_ORIGIN,
        complete: true,
        orderedBy: { field: 'comment.created', zoned: true },
      },
    ]);
  });

  it('finds the issue of a comment by the id in comment.self when the payload has no issue (older servers)', () => {
    const payload = cloudPayload('comment-created-acme-101');
    delete payload.issue;
    delete payload.comment.id;
    const [activity, mentions] = changesOf(normalizeJira(payload));
    expect(activity).toEqual({ op: 'activity', ref: 'jira:acme.atlassian.net/id/10101', at: '2024-03-01T12:00:00.321Z', orderedBy: { field: 'comment.created', zoned: true } });
    // The comment's id comes from comment.self too; the key of its own project is read on the connection's site.
    expect(mentions).toMatchObject({ op: 'link', ref: 'jira:acme.atlassian.net/id/10101', origin: COMMENT_ORIGIN, add: [{ target: ref('ACME-102') }] });
  });

  it('states the mentions of an edited comment whole, ordered by its update', () => {
    expect(changesOf(normalizeJira(jiraFixture('cloud/comment-updated-acme-101')))).toEqual([
      { op: 'activity', ref: ref('ACME-101'), at: '2024-03-01T12:30:00.000Z', orderedBy: { field: 'comment.updated', zoned: true } },
      {
        op: 'link',
        ref: ref('ACME-101'),
        at: '2024-03-01T12:30:00.000Z',
        // ACME-102 is no longer named: stated whole, the edit removes that mention.
        add: [{ type: 'mentions', target: ref('ACME-104'), origin: COMMENT_ORIGIN, confidence: 0.8 }],
        remove: [],
        origin: COMMENT_ORIGIN,
        complete: true,
        orderedBy: { field: 'comment.updated', zoned: true },
      },
    ]);
  });

  it('states an edited comment that names nothing any more: its mentions are removed', () => {
    const payload = jiraFixture('cloud/comment-updated-acme-101');
    payload.comment.body = 'Fixed by the rule engine change.';
    expect(changesOf(normalizeJira(payload))[1]).toMatchObject({ op: 'link', add: [], origin: COMMENT_ORIGIN, complete: true });
  });

  it('states that a deleted comment names nothing, at the time of the webhook', () => {
    expect(changesOf(normalizeJira(jiraFixture('cloud/comment-deleted-acme-101')))).toEqual([
      { op: 'activity', ref: ref('ACME-101'), at: '2024-03-01T13:00:00.000Z', orderedBy: { field: 'timestamp', zoned: true } },
      {
        op: 'link',
        ref: ref('ACME-101'),
        at: '2024-03-01T13:00:00.000Z',
        add: [],
        remove: [],
        origin: COMMENT_ORIGIN,
        complete: true,
        orderedBy: { field: 'timestamp', zoned: true },
      },
    ]);
  });

  it('orders a deletion whose timestamp has no zone by the comment\'s last update, which it must not lose to', () => {
    const payload = jiraFixture('cloud/comment-deleted-acme-101');
    payload.timestamp = '2024-03-01 13:00:00,000';
    const [, deletion] = changesOf(normalizeJira(payload));
    expect(deletion).toMatchObject({ at: '2024-03-01T12:30:00.000Z', orderedBy: { field: 'comment.updated', zoned: true, skipped: ['timestamp'] } });
  });

  it('states nothing for a new comment that names nothing, nor for the deletion of one whose text named nothing', () => {
    const created = cloudPayload('comment-created-acme-101');
    created.comment.body = 'Reproduced with 120 items.';
    expect(changesOf(normalizeJira(created)).map((c) => c.op)).toEqual(['activity']);
    const deleted = jiraFixture('cloud/comment-deleted-acme-101');
    deleted.comment.body = 'Reproduced with 120 items.';
    expect(changesOf(normalizeJira(deleted)).map((c) => c.op)).toEqual(['activity']);
    // Without its text, a deletion still states that the comment names nothing.
    delete deleted.comment.body;
    expect(changesOf(normalizeJira(deleted))[1]).toMatchObject({ op: 'link', add: [], complete: true });
  });

  it('reads a comment in Atlassian Document Format, URLs and GitHub references included', () => {
    const payload = cloudPayload('comment-created-acme-101');
    payload.comment.body = {
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'Same as OPS-7, fixed by octo/api#12 and ' }, { type: 'inlineCard', attrs: { url: 'https://github.com/octo/web/pull/3' } }] },
      ],
    };
    const [, mentions] = changesOf(normalizeJira(payload, { context: { jiraProjects: { OPS: SITE } } }));
    if (mentions?.op !== 'link') throw new Error('expected a link change');
    expect(mentions.add.map((l) => [l.type, l.target])).toEqual([
      ['mentions', ref('OPS-7')],
      ['mentions', 'github:octo/api#12'],
      ['mentions', 'github:octo/web#3'],
    ]);
  });

  it('never makes a comment mention the issue it is on', () => {
    const payload = cloudPayload('comment-created-acme-101');
    payload.comment.body = 'As said in ACME-101 and ACME-102.';
    const [, mentions] = changesOf(normalizeJira(payload));
    expect(mentions).toMatchObject({ add: [{ target: ref('ACME-102') }] });
  });

  it('tombstones a deleted issue at the time of the webhook', () => {
    expect(changesOf(normalizeJira(cloudPayload('issue-deleted-acme-103')))).toEqual([
      { op: 'delete', ref: ref('ACME-103'), at: '2024-03-01T13:05:00.333Z', reason: 'deleted', orderedBy: { field: 'timestamp', zoned: true } },
    ]);
  });

  it('reads a key mentioned in the description as a mention, never as implementing', () => {
    const { item } = upsertOf(cloudPayload('issue-created-acme-103'));
    expect(item.links).toEqual([{ type: 'mentions', target: ref('ACME-101'), origin: 'key_mention', confidence: 0.8 }]);
  });

  it('reads dependency phrases and GitHub issue URLs in the description', () => {
    const payload = cloudPayload('issue-created-acme-103');
    payload.issue.fields.description = 'Blocked by ACME-101. Fixes https://github.com/Acme/Web/issues/412 once merged.';
    expect(upsertOf(payload).item.links).toEqual([
      { type: 'blocked_by', target: ref('ACME-101'), origin: 'key_mention', confidence: 0.9 },
      { type: 'implements', target: 'github:acme/web#412', origin: 'closing_keyword', confidence: 1 },
    ]);
  });

  it('reads the text of a description in Atlassian Document Format', () => {
    const adf = {
      type: 'doc',
      version: 1,
      content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Depends on ' }, { type: 'text', text: 'ACME-7', marks: [{ type: 'strong' }] }] }],
    };
    expect(descriptionText(adf)).toContain('ACME-7');
    const payload = cloudPayload('issue-created-acme-103');
    payload.issue.fields.description = adf;
    expect(upsertOf(payload).item.links).toEqual([{ type: 'blocked_by', target: ref('ACME-7'), origin: 'key_mention', confidence: 0.9 }]);
  });

  it('tombstones the old key and indexes the new one when the changelog shows a move to another project', () => {
    const payload = cloudPayload('issue-updated-acme-101-in-progress');
    payload.issue.key = 'OPS-7';
    payload.issue.fields.project = { ...payload.issue.fields.project, key: 'OPS', name: 'Operations' };
    payload.changelog.items = [
      { field: 'Key', fieldtype: 'jira', from: null, fromString: 'ACME-101', to: null, toString: 'OPS-7' },
      { field: 'project', fieldtype: 'jira', from: '10000', fromString: 'Acme Web', to: '10200', toString: 'Operations' },
    ];
    const changes = changesOf(normalizeJira(payload));
    expect(changes[0]).toEqual({
      op: 'delete',
      ref: ref('ACME-101'),
      at: '2024-03-01T10:30:00.000Z',
      reason: 'transferred',
      movedTo: ref('OPS-7'),
      orderedBy: { field: 'fields.updated', zoned: true },
    });
    expect(changes[1]).toMatchObject({ op: 'upsert', item: { ref: ref('OPS-7'), container: { key: 'OPS' } } });
    expect((changes[1] as UpsertChange).aliases).toContain(ref('ACME-101'));
  });

  it('refuses an issue event without an issue key, naming the field', () => {
    const payload = cloudPayload('issue-created-acme-101');
    delete payload.issue.key;
    expect(() => normalizeJira(payload)).toThrow(ValidationError);
    expect(() => normalizeJira(payload)).toThrow(/issue\.key/);
  });

  it.each(['worklog_created', 'sprint_started', 'project_created', 'jira:version_released', 'user_created', 'board_updated'])(
    'records %s as ignored',
    (event) => {
      const result = normalizeJira({ webhookEvent: event, timestamp: 1709283600000 });
      expect(result).toEqual({ outcome: 'ignored', event, reason: expect.stringContaining(event) });
    },
  );
});

describe('jira.normalize on a Jira Data Center payload', () => {
  const settings = { site: 'jira.acme.com', auth: 'basic', customFields: { customfield_10101: 'epicLink', customfield_10106: 'storyPoints' } };

  it('identifies Data Center users by key, with their username as the handle', () => {
    const { item } = upsertOf(dataCenterPayload(), settings);
    expect(item.owners).toEqual([
      {
        id: personIdFor('jira:JIRAUSER10100'),
        name: 'Jonas Weber',
        handles: [{ source: 'jira', handle: 'jonas.weber', externalId: 'JIRAUSER10100', url: 'https://jira.acme.com/rest/api/2/user?username=jonas.weber' }],
        emails: ['jonas.weber@acme.example'],
      },
    ]);
    expect(item.requester?.id).toBe(personIdFor('jira:mira'));
  });

  it('reads +0100 offsets, a string timestamp, the greenhopper sprint and the epic link field', () => {
    const { item } = upsertOf(dataCenterPayload(), settings);
    expect(item).toMatchObject({
      ref: 'jira:jira.acme.com/OPS-17',
      url: 'https://jira.acme.com/browse/OPS-17',
      kind: 'task',
      status: { name: 'In Review', category: 'in_review' },
      priority: { name: 'Critical', level: 'urgent' },
      container: { source: 'jira', key: 'OPS', name: 'Operations', sprint: 'OPS Sprint 9' },
      labels: ['ops', 'on-call', 'component:Database'],
      storyPoints: 8,
      dueAt: '2024-03-08T00:00:00.000Z',
      createdAt: '2024-03-04T08:00:00.000Z',
      updatedAt: '2024-03-04T10:20:00.000Z',
    });
    expect(item.links).toEqual([
      sourceLink('child', 'jira:jira.acme.com/OPS-1'),
      { type: 'mentions', target: 'jira:jira.acme.com/OPS-12', origin: 'key_mention', confidence: 0.8 },
    ]);
  });

  it('keeps a Data Center context path in the ref and the URL', () => {
    const payload = dataCenterPayload();
    payload.issue.self = 'https://jira.acme.com/jira/rest/api/2/issue/20317';
    const { item } = upsertOf(payload, { ...settings, site: 'https://jira.acme.com/jira/' });
    expect(item.ref).toBe('jira:jira.acme.com/jira/OPS-17');
    expect(item.url).toBe('https://jira.acme.com/jira/browse/OPS-17');
  });

  it('categorizes ops-labelled work as operational with the default rules', () => {
    const { item } = upsertOf(dataCenterPayload(), settings);
    expect(item.category).toBeUndefined();
    const indexed = applyChange(undefined, upsertOf(dataCenterPayload(), settings));
    expect(indexed?.category).toBe('operational');
  });
});

describe('jira: status, priority, kind and category mapping', () => {
  it.each([
    ['To Do', 'new', null, 'todo'],
    ['Open', 'new', null, 'todo'],
    ['Backlog', 'new', null, 'backlog'],
    ['Selected for Development', 'new', null, 'todo'],
    ['In Progress', 'indeterminate', null, 'in_progress'],
    ['In Review', 'indeterminate', null, 'in_review'],
    ['Code Review', 'indeterminate', null, 'in_review'],
    ['QA', 'indeterminate', null, 'in_review'],
    ['Blocked', 'indeterminate', null, 'blocked'],
    ['On Hold', 'new', null, 'blocked'],
    ['Done', 'done', 'Done', 'done'],
    ['Closed', 'done', 'Fixed', 'done'],
    ['Closed', 'done', "Won't Do", 'cancelled'],
    ['Resolved', 'done', 'Duplicate', 'cancelled'],
    ["Won't Do", 'done', null, 'cancelled'],
    ['Cancelled', 'done', null, 'cancelled'],
    ['Resolved', undefined, 'Fixed', 'done'],
    ['Triage', undefined, null, 'todo'],
  ])('maps status %j (category %s, resolution %s) to %s', (name, categoryKey, resolution, expected) => {
    expect(mapJiraStatus({ name, categoryKey, resolution })).toEqual({ name, category: expected });
  });

  it('lets the connection rules override a status by name, in any case', () => {
    expect(mapJiraStatus({ name: 'Ready for Deploy', categoryKey: 'indeterminate' }, { 'ready for deploy': 'in_review' }).category).toBe('in_review');
    expect(mapJiraStatus({ name: 'Done', categoryKey: 'done' }, { DONE: 'cancelled' }).category).toBe('cancelled');
  });

  it.each([
    ['Highest', 'urgent'],
    ['High', 'high'],
    ['Medium', 'medium'],
    ['Low', 'low'],
    ['Lowest', 'none'],
    ['Blocker', 'urgent'],
    ['Critical', 'urgent'],
    ['Major', 'high'],
    ['Minor', 'low'],
    ['Trivial', 'none'],
    ['Whenever', 'none'],
  ])('maps priority %s to %s', (name, level) => {
    expect(mapJiraPriority(name)).toEqual({ name, level });
  });

  it('has no priority when the issue has none, and lets rules name custom priorities', () => {
    expect(mapJiraPriority(undefined)).toEqual({ level: 'none' });
    expect(mapJiraPriority('Sev 1', { 'sev 1': 'urgent' })).toEqual({ name: 'Sev 1', level: 'urgent' });
  });

  it.each([
    ['Bug', false, 'bug'],
    ['Task', false, 'task'],
    ['Story', false, 'story'],
    ['Epic', false, 'epic'],
    ['Sub-task', true, 'subtask'],
    ['Subtask', false, 'subtask'],
    ['Incident', false, 'incident'],
    ['Service request', false, 'request'],
    ['[System] Service request with approvals', false, 'request'],
    ['Improvement', false, 'task'],
  ])('maps issue type %s to kind %s', (name, subtask, kind) => {
    expect(kindOfIssueType({ name, subtask })).toBe(kind);
  });

  it('sets the category of the first rule whose every condition holds', () => {
    const rules = [
      { category: 'operational' as const, projects: ['OPS'], labels: ['toil'] },
      { category: 'request' as const, issueTypes: ['Access request'] },
      { category: 'operational' as const, components: ['database'] },
    ];
    const issue = { issueType: 'Task', project: 'OPS', labels: [] as string[], components: [] as string[] };
    expect(categoryByRules(rules, issue)).toBeUndefined();
    expect(categoryByRules(rules, { ...issue, labels: ['toil'] })).toBe('operational');
    expect(categoryByRules(rules, { ...issue, issueType: 'access REQUEST' })).toBe('request');
    expect(categoryByRules(rules, { ...issue, project: 'ACME', components: ['Database'] })).toBe('operational');
  });

  it('applies category rules and a category custom field to the item, the field winning', () => {
    const payload = cloudPayload('issue-created-acme-101');
    const byRule = upsertOf(payload, { categoryRules: [{ category: 'operational', labels: ['customer-reported'] }] });
    expect(applyChange(undefined, byRule)?.category).toBe('operational');
    payload.issue.fields.customfield_10050 = { self: 'x', value: 'Request', id: '10021' };
    const byField = upsertOf(payload, {
      categoryRules: [{ category: 'operational', labels: ['customer-reported'] }],
      customFields: { customfield_10050: 'category' },
    });
    expect(applyChange(undefined, byField)?.category).toBe('request');
  });

  it.each([
    [{ name: 'Blocks', outward: 'blocks' }, 'blocks', 'blocked_by'],
    [{ name: 'Duplicate', outward: 'duplicates' }, 'duplicates', 'relates'],
    [{ name: 'Relates', outward: 'relates to' }, 'relates', 'relates'],
    [{ name: 'Cloners', outward: 'clones' }, 'relates', 'relates'],
    [{ name: 'jira_subtask_link', outward: 'jira_subtask_outward' }, 'parent', 'child'],
    [{ name: 'Dependency', outward: 'depends on' }, 'blocked_by', 'blocks'],
    [{ name: 'Implementation', outward: 'implements' }, 'implements', 'implemented_by'],
    [{ name: 'Whatever', outward: 'is friends with' }, 'relates', 'relates'],
  ])('maps the link type %j to %s / %s', (type, outward, inward) => {
    expect(linkTypesOf(type)).toEqual({ outward, inward });
  });
});

describe('jira: lenient dates', () => {
  it.each([
    ['2024-03-01T09:00:00.000+0000', '2024-03-01T09:00:00.000Z'],
    ['2017-11-30T12:28:04.304+0300', '2017-11-30T09:28:04.304Z'],
    ['2024-03-01T09:00:00.000+01:00', '2024-03-01T08:00:00.000Z'],
    ['2024-03-01T09:00:00Z', '2024-03-01T09:00:00.000Z'],
    ['2017-12-25 16:33:21,396', '2017-12-25T16:33:21.396Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['1709283600123', '2024-03-01T09:00:00.123Z'],
    [1709283600123, '2024-03-01T09:00:00.123Z'],
    [1709283600, '2024-03-01T09:00:00.000Z'],
  ])('reads %j as %s', (value, expected) => {
    expect(new Date(parseJiraTime(value)!).toISOString()).toBe(expected);
  });

  it.each(['yesterday', '', '2024-13-45', 'Fri, 01 Mar 2024'])('refuses %j', (value) => {
    expect(parseJiraTime(value)).toBeUndefined();
  });

  it.each([
    ['2019-1-30 19:48:08,900', '2019-01-30T19:48:08.900Z', false],
    ['6/13/2019, 12:51:58 PM,687', '2019-06-13T12:51:58.687Z', false],
    ['6/13/2019, 12:05:00 AM', '2019-06-13T00:05:00.000Z', false],
    ['13/06/2019 09:15:00', '2019-06-13T09:15:00.000Z', false],
    ['30.01.2019 19:48:08,900', '2019-01-30T19:48:08.900Z', false],
    ['7/7/2019, 9:05:00 AM', '2019-07-07T09:05:00.000Z', false],
    ['2019/01/30 19:48:08', '2019-01-30T19:48:08.000Z', false],
    ['30/Jan/19 7:48 PM', '2019-01-30T19:48:00.000Z', false],
    ['30-Jan-2019 19:48:08', '2019-01-30T19:48:08.000Z', false],
    ['Jan 30, 2019, 7:48:08 PM', '2019-01-30T19:48:08.000Z', false],
    ['2024-03-01T09:00:00.000', '2024-03-01T09:00:00.000Z', false],
    ['2019-1-30 19:48:08,900 +0100', '2019-01-30T18:48:08.900Z', true],
    ['2019-01-30 19:48:08 GMT', '2019-01-30T19:48:08.000Z', true],
    ['2024-03-01T09:00:00.000-0500', '2024-03-01T14:00:00.000Z', true],
    ['1709283600123', '2024-03-01T09:00:00.123Z', true],
  ])('reads the form %j as %s, with a zone: %s', (value, expected, zoned) => {
    const instant = readJiraTime(value);
    expect(instant && { at: new Date(instant.millis).toISOString(), zoned: instant.zoned }).toEqual({ at: expected, zoned });
  });

  it.each([
    ['6/7/2019, 12:51:58 PM,687', 'June 7 or July 6: the day and the month are never guessed'],
    ['13/13/2019 10:00', 'no month 13'],
    ['2/30/2019, 1:00:00 PM', 'no February 30'],
    ['6/13/2019, 13:51:58 PM', 'no 13 PM'],
    ['6/13/2019, 12:51:58 PM,687,100', 'two fractions'],
    ['30 Janvier 2019 10:00', "another language's month"],
    ['2019-01-30 19:48:08 CST', 'a zone abbreviation naming several zones'],
    ['Wed Jan 30 19:48:08 2019', 'a weekday first'],
  ])('does not read %j (%s)', (value) => {
    expect(readJiraTime(value)).toBeUndefined();
  });
});

describe('jira: the time that orders a change', () => {
  const RECEIVED = '2030-01-01T00:00:00.000Z';

  it('takes the first candidate with a readable time, and records it', () => {
    expect(orderingTimeOf([['fields.updated', '2024-03-01T09:00:00.000+0000'], ['timestamp', 1709283600999]], RECEIVED)).toEqual({
      at: '2024-03-01T09:00:00.000Z',
      orderedBy: { field: 'fields.updated', zoned: true },
    });
  });

  it('passes over absent and unreadable candidates, listing them', () => {
    expect(orderingTimeOf([['timestamp', '6/7/2019, 12:51:58 PM'], ['fields.updated', '2019-06-07T12:51:58.000-0500']], RECEIVED)).toEqual({
      at: '2019-06-07T17:51:58.000Z',
      orderedBy: { field: 'fields.updated', zoned: true, skipped: ['timestamp'] },
    });
  });

  it('prefers a later candidate with a zone to an earlier one without', () => {
    expect(orderingTimeOf([['fields.updated', '2019-01-30T19:48:08.900'], ['timestamp', 1548870488900]], RECEIVED).orderedBy).toEqual({
      field: 'timestamp',
      zoned: true,
      skipped: ['fields.updated'],
    });
  });

  it('takes a time without a zone when no candidate has one', () => {
    expect(orderingTimeOf([['fields.updated', undefined], ['timestamp', '2019-1-30 19:48:08,900']], RECEIVED)).toEqual({
      at: '2019-01-30T19:48:08.900Z',
      orderedBy: { field: 'timestamp', zoned: false, skipped: ['fields.updated'] },
    });
  });

  it('falls back to when the delivery was received', () => {
    expect(orderingTimeOf([['timestamp', 'yesterday']], RECEIVED)).toEqual({ at: RECEIVED, orderedBy: { field: 'received', zoned: true, skipped: ['timestamp'] } });
  });
});

describe('jira: deliveries in any order end in the in-order state', () => {
  const ids: Record<string, string> = { 'jira:acme.atlassian.net/id/10101': ref('ACME-101'), 'jira:acme.atlassian.net/id/10102': ref('ACME-102') };
  const resolve = (change: ItemChange): ItemChange => {
    if (change.op !== 'link') return change;
    const target = (t: string) => ids[t] ?? t;
    return {
      ...change,
      ref: target(change.ref),
      add: change.add.map((l) => ({ ...l, target: target(l.target) })),
      remove: change.remove.map((l) => ({ ...l, target: target(l.target) })),
    };
  };
  const later: CloudFixture[] = [
    'issue-updated-acme-101-in-progress',
    'issuelink-created-acme-101-blocks-acme-102',
    'comment-created-acme-101',
    'issue-updated-acme-101-done',
    'issuelink-deleted-acme-101-blocks-acme-102',
  ];
  const run = (order: readonly CloudFixture[]): Map<string, WorkItem> => {
    const index = new Map<string, WorkItem>();
    for (const name of ['issue-created-acme-101', 'issue-created-acme-102', ...order] as CloudFixture[]) {
      for (const change of changesOf(normalizeJira(cloudPayload(name))).map(resolve)) {
        const key = change.op === 'upsert' ? change.item.ref : change.ref;
        const next = applyChange(index.get(key), change);
        if (next) index.set(key, next);
      }
    }
    return index;
  };

  it('ends ACME-101 done, no longer blocking ACME-102, with every field as in order', () => {
    const inOrder = run(later);
    const acme101 = inOrder.get(ref('ACME-101'))!;
    expect(WorkItemSchema.parse(acme101)).toEqual(acme101);
    expect(acme101).toMatchObject({ status: { category: 'done' }, startedAt: '2024-03-01T10:30:00.000Z', closedAt: '2024-03-02T16:00:00.000Z' });
    expect(acme101.activityAt).toBe('2024-03-02T16:00:00.000Z');
    // The comment's mention of ACME-102 is its own statement: the issue's updates leave it.
    expect(acme101.links).toEqual([sourceLink('child', ref('ACME-100')), { type: 'mentions', target: ref('ACME-102'), origin: COMMENT_ORIGIN, confidence: 0.9 }]);
    expect(inOrder.get(ref('ACME-102'))!.links).toEqual([sourceLink('child', ref('ACME-100'))]);
  });

  it.each(Array.from({ length: 30 }, (_, seed) => [seed + 1]))('ends in the same state whatever the order (seed %i)', (seed) => {
    const inOrder = run(later);
    const reordered = run(shuffled(later, seededRandom(seed)));
    for (const key of [ref('ACME-101'), ref('ACME-102')]) {
      expect(withoutVersion(reordered.get(key)!)).toEqual(withoutVersion(inOrder.get(key)!));
    }
  });
});

describe('jira: a comment created, edited and deleted, in any order', () => {
  const history = (): ItemChange[] =>
    [
      cloudPayload('issue-created-acme-101'),
      cloudPayload('comment-created-acme-101'),
      cloudPayload('issue-updated-acme-101-in-progress'),
      jiraFixture('cloud/comment-updated-acme-101'),
      jiraFixture('cloud/comment-deleted-acme-101'),
    ].flatMap((payload) => changesOf(normalizeJira(payload)));
  const run = (changes: readonly ItemChange[]): WorkItem | undefined => {
    // Amendments of an item not indexed yet wait for it, as the pipeline keeps them.
    let item: WorkItem | undefined;
    const waiting: ItemChange[] = [];
    for (const change of changes) {
      if (!item && change.op !== 'upsert') {
        waiting.push(change);
        continue;
      }
      item = applyChange(item, change) ?? item;
      if (change.op === 'upsert') for (const kept of waiting.splice(0)) item = applyChange(item, kept) ?? item;
    }
    return item;
  };
  const mentionsOf = (item: WorkItem | undefined) => item?.links.filter((l) => l.type === 'mentions').map((l) => l.target);

  it('names ACME-102, then ACME-104 after the edit, then nothing after the deletion', () => {
    const changes = history();
    const upTo = (fixtures: number) => run(changes.slice(0, [1, 3, 4, 6, 8][fixtures - 1]));
    expect(mentionsOf(upTo(2))).toEqual([ref('ACME-102')]);
    expect(mentionsOf(upTo(4))).toEqual([ref('ACME-104')]);
    expect(mentionsOf(upTo(5))).toEqual([]);
  });

  it.each(Array.from({ length: 20 }, (_, seed) => [seed + 1]))('ends with no mention left whatever the order (seed %i)', (seed) => {
    const inOrder = run(history())!;
    const reordered = run(shuffled(history(), seededRandom(seed)))!;
    expect(mentionsOf(reordered)).toEqual([]);
    expect(withoutVersion(reordered)).toEqual(withoutVersion(inOrder));
  });
});
