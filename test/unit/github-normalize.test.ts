import { describe, expect, it } from 'vitest';
import { github } from '../../connectors/github/index.ts';
import { ItemChange, type Normalized, type UpsertChange } from '../../core/changes.ts';
import { ValidationError } from '../../core/errors.ts';
import { personIdFor } from '../../core/ids.ts';
import { githubExample, githubExamples, toBody } from '../fixtures/github-examples.ts';

const RECEIVED_AT = '2030-01-01T00:00:00.000Z';
const ACME = { ACME: 'acme.atlassian.net' };

const normalize = (event: string, payload: unknown, jiraProjects: Record<string, string> = {}): Normalized =>
  github.normalize(
    { event, headers: { 'x-github-event': event }, body: toBody(payload), receivedAt: RECEIVED_AT },
    { connection: { id: 'con_test', settings: {} }, jiraProjects },
  );

const changesOf = (result: Normalized): ItemChange[] => {
  if (result.outcome !== 'changes') throw new Error(`expected changes, got ignored: ${result.reason}`);
  return result.changes;
};

/** The single upsert a delivery gives. */
const upsertOf = (event: string, payload: unknown, jiraProjects?: Record<string, string>): UpsertChange => {
  const changes = changesOf(normalize(event, payload, jiraProjects));
  expect(changes).toHaveLength(1);
  const [change] = changes;
  if (change?.op !== 'upsert') throw new Error(`expected an upsert, got ${change?.op}`);
  return change;
};

/** A real example payload to change for one case (a fresh copy every time). */
const example = (event: string, action?: string): any => githubExample(event, action).payload;

const ISSUE_UPSERTS = [
  'opened', 'edited', 'closed', 'reopened', 'assigned', 'unassigned',
  'labeled', 'unlabeled', 'milestoned', 'demilestoned',
];

/** What each supported event and action is expected to give. */
const expectedOutcome = (event: string, action: string | undefined): Normalized['outcome'] => {
  switch (event) {
    case 'issues':
      return ISSUE_UPSERTS.includes(action!) || action === 'deleted' || action === 'transferred' ? 'changes' : 'ignored';
    case 'pull_request':
      return 'changes';
    case 'pull_request_review':
      return action === 'submitted' ? 'changes' : 'ignored';
    case 'issue_comment':
      return action === 'created' ? 'changes' : 'ignored';
    default:
      return 'ignored';
  }
};

const SUPPORTED = ['issues', 'pull_request', 'pull_request_review', 'issue_comment'];

describe('github.normalize on every example payload of @octokit/webhooks-examples', () => {
  const supported = githubExamples(undefined, { hosts: 'all' }).filter((example) => SUPPORTED.includes(example.event));

  it('covers every supported event, github.com and GitHub Enterprise Server', () => {
    expect(new Set(supported.map((example) => example.event))).toEqual(new Set(SUPPORTED));
    expect(supported.length).toBeGreaterThan(70);
  });

  it.each(supported.map((example) => [example.name, example] as const))('normalizes %s', (_, example) => {
    const result = normalize(example.event, example.payload);
    expect(result.outcome).toBe(expectedOutcome(example.event, example.action));
    expect(result.event).toBe(example.event);
    if (result.outcome === 'ignored') {
      expect(result.reason).toContain(example.action);
      return;
    }
    expect(result.changes.length).toBeGreaterThan(0);
    for (const change of result.changes) expect(ItemChange.parse(change)).toEqual(change);
    const refs = result.changes.map((change) => (change.op === 'upsert' ? change.item.ref : change.ref));
    for (const ref of refs) expect(ref).toMatch(/^github:[a-z0-9._-]+\/[a-z0-9._-]+#\d+$/);
  });

  it('ignores every example of every other event', () => {
    // push, create and delete are read for commits and branches (github-development.test.ts).
    const others = githubExamples(undefined, { hosts: 'all' }).filter(
      (example) => !SUPPORTED.includes(example.event) && !['push', 'create', 'delete'].includes(example.event),
    );
    expect(others.length).toBeGreaterThan(200);
    for (const other of others) {
      const result = normalize(other.event, other.payload);
      expect(result, other.name).toEqual({ outcome: 'ignored', event: other.event, reason: expect.any(String) });
    }
  });

  it('gives the same changes for the same delivery, whenever it is normalized', () => {
    for (const { event, payload } of githubExamples('pull_request')) {
      expect(normalize(event, payload)).toEqual(normalize(event, structuredClone(payload)));
    }
  });
});

describe('github.normalize: identity', () => {
  it('keys items by repository and number, lowercased', () => {
    const { item } = upsertOf('issues', example('issues', 'opened'));
    expect(item.ref).toBe('github:codertocat/hello-world#1');
    expect(item.source).toBe('github');
    expect(item.container).toEqual({ source: 'github', key: 'codertocat/hello-world', name: 'Codertocat/Hello-World' });
    expect(item.url).toBe('https://github.com/Codertocat/Hello-World/issues/1');
  });

  it('maps an issue event about a pull request to the pull request, not a second item', () => {
    const issueShaped = example('issues', 'milestoned');
    expect(issueShaped.issue.pull_request).toBeDefined();
    const fromIssueEvent = upsertOf('issues', issueShaped);
    const fromPullRequestEvent = upsertOf('pull_request', example('pull_request', 'opened'));
    expect(fromIssueEvent.item.ref).toBe(fromPullRequestEvent.item.ref);
    expect(fromIssueEvent.item.kind).toBe('pull_request');
    expect(fromIssueEvent.item.status).toEqual({ name: 'open', category: 'in_review' });
  });

  it('does not claim branch-name links from an issue-shaped pull request, which has no branch', () => {
    expect(upsertOf('issues', example('issues', 'milestoned')).linkOrigins).toEqual(['closing_keyword', 'key_mention']);
    expect(upsertOf('pull_request', example('pull_request', 'opened')).linkOrigins).toEqual([
      'closing_keyword',
      'key_mention',
      'branch_name',
    ]);
  });

  it('takes the kind bug or incident from a label of that exact name, otherwise issue', () => {
    const payload = example('issues', 'opened');
    expect(upsertOf('issues', payload).item.kind).toBe('bug');
    payload.issue.labels = [{ name: 'Incident' }, { name: 'bug' }];
    expect(upsertOf('issues', payload).item.kind).toBe('incident');
    payload.issue.labels = [{ name: 'bug report' }];
    expect(upsertOf('issues', payload).item.kind).toBe('issue');
    expect(upsertOf('pull_request', example('pull_request', 'labeled')).item.kind).toBe('pull_request');
  });
});

describe('github.normalize: status', () => {
  const issueWith = (changes: Record<string, unknown>) => {
    const payload = example('issues', 'opened');
    Object.assign(payload.issue, { assignee: null, assignees: [], labels: [] }, changes);
    return upsertOf('issues', payload).item.status;
  };

  it('marks an open, unassigned issue as todo', () => {
    expect(issueWith({})).toEqual({ name: 'open', category: 'todo' });
  });

  it('marks an assigned issue, or one labelled in progress, as in_progress', () => {
    expect(issueWith({ assignees: [example('issues', 'opened').issue.user] })).toEqual({ name: 'open', category: 'in_progress' });
    for (const name of ['in progress', 'In-Progress', 'WIP', 'doing', 'status: in progress']) {
      expect(issueWith({ labels: [{ name }] }).category, name).toBe('in_progress');
    }
  });

  it('marks an open item labelled blocked as blocked, whatever else it says', () => {
    expect(issueWith({ labels: [{ name: 'blocked' }, { name: 'wip' }] })).toEqual({ name: 'open', category: 'blocked' });
    const pullRequest = example('pull_request', 'opened');
    pullRequest.pull_request.labels = [{ name: 'Blocked' }];
    expect(upsertOf('pull_request', pullRequest).item.status).toEqual({ name: 'open', category: 'blocked' });
  });

  it('marks an issue closed as completed (or without reason) as done, and as not planned as cancelled', () => {
    const closed = { state: 'closed', closed_at: '2019-05-16T10:00:00Z', labels: [{ name: 'blocked' }] };
    expect(issueWith({ ...closed, state_reason: 'completed' })).toEqual({ name: 'closed', category: 'done' });
    expect(issueWith({ ...closed, state_reason: null })).toEqual({ name: 'closed', category: 'done' });
    expect(issueWith({ ...closed, state_reason: 'not_planned' })).toEqual({ name: 'closed', category: 'cancelled' });
  });

  it('marks a draft pull request as in_progress and a ready one as in_review', () => {
    expect(upsertOf('pull_request', example('pull_request', 'converted_to_draft')).item.status).toEqual({
      name: 'draft',
      category: 'in_progress',
    });
    expect(upsertOf('pull_request', example('pull_request', 'ready_for_review')).item.status).toEqual({
      name: 'open',
      category: 'in_review',
    });
  });

  it('marks a merged pull request as done, closed at its merge time when closed_at is missing', () => {
    const payload = example('pull_request', 'closed');
    Object.assign(payload.pull_request, { merged: true, merged_at: '2019-05-15T15:21:18Z', closed_at: null });
    const { item } = upsertOf('pull_request', payload);
    expect(item.status).toEqual({ name: 'merged', category: 'done' });
    expect(item.closedAt).toBe('2019-05-15T15:21:18.000Z');
  });

  it('marks a pull request closed without merging as cancelled', () => {
    const { item } = upsertOf('pull_request', example('pull_request', 'closed'));
    expect(item.status).toEqual({ name: 'closed', category: 'cancelled' });
    expect(item.closedAt).toBe('2019-05-15T15:21:18.000Z');
  });

  it('reads merged from merged_at when the pull request shape has no merged flag', () => {
    const review = example('pull_request_review', 'submitted');
    expect(review.pull_request.merged).toBeUndefined();
    Object.assign(review.pull_request, { state: 'closed', merged_at: '2019-05-15T16:00:00Z' });
    expect(upsertOf('pull_request_review', review).item.status).toEqual({ name: 'merged', category: 'done' });
  });

  it('marks an issue-shaped pull request merged when its pull_request.merged_at is set', () => {
    const payload = example('issues', 'milestoned');
    payload.issue.state = 'closed';
    payload.issue.pull_request.merged_at = '2019-05-16T09:00:00Z';
    const { item } = upsertOf('issues', payload);
    expect(item.status).toEqual({ name: 'merged', category: 'done' });
    expect(item.closedAt).toBe('2019-05-16T09:00:00.000Z');
  });
});

describe('github.normalize: priority', () => {
  it.each([
    ['priority:urgent', 'urgent'],
    ['Priority: High', 'high'],
    ['priority/high', 'high'],
    ['priority-medium', 'medium'],
    ['priority: low', 'low'],
    ['P0', 'urgent'],
    ['p1', 'high'],
    ['P2', 'medium'],
    ['P3', 'low'],
    ['P4', 'low'],
    ['critical', 'urgent'],
    ['urgent', 'urgent'],
    ['high priority', 'high'],
  ])('reads the label %s as %s priority', (name, level) => {
    const payload = example('issues', 'opened');
    payload.issue.labels = [{ name: 'bug' }, { name }];
    expect(upsertOf('issues', payload).item.priority).toEqual({ name, level });
  });

  it('takes the most urgent of several priority labels', () => {
    const payload = example('issues', 'opened');
    payload.issue.labels = [{ name: 'P3' }, { name: 'priority: high' }, { name: 'P2' }];
    expect(upsertOf('issues', payload).item.priority).toEqual({ name: 'priority: high', level: 'high' });
  });

  it('gives no priority without a priority label', () => {
    expect(upsertOf('issues', example('issues', 'opened')).item.priority).toEqual({ level: 'none' });
  });
});

describe('github.normalize: people, labels and dates', () => {
  it('takes assignees as owners and the author as requester, with their GitHub handles', () => {
    const { item } = upsertOf('issues', example('issues', 'opened'));
    const codertocat = {
      id: personIdFor('github:21031067'),
      handles: [{ source: 'github', handle: 'Codertocat', externalId: '21031067', url: 'https://github.com/Codertocat' }],
      emails: [],
    };
    expect(item.owners).toEqual([codertocat]);
    expect(item.requester).toEqual(codertocat);
  });

  it('falls back to the single assignee, and keeps the name and email GitHub sends', () => {
    const payload = example('issues', 'opened');
    payload.issue.assignees = null;
    payload.issue.assignee = { ...payload.issue.user, name: 'Mona Cat', email: 'mona@example.com' };
    const [owner] = upsertOf('issues', payload).item.owners;
    expect(owner).toMatchObject({ name: 'Mona Cat', emails: ['mona@example.com'] });
  });

  it('takes label names, the milestone due date and the timestamps of the payload in UTC', () => {
    const { item } = upsertOf('issues', example('issues', 'opened'));
    expect(item.labels).toEqual(['bug']);
    expect(item.dueAt).toBe('2019-05-23T07:00:00.000Z');
    expect(item.createdAt).toBe('2019-05-15T15:20:18.000Z');
    expect(item.updatedAt).toBe('2019-05-15T15:20:18.000Z');
    expect(item.closedAt).toBeUndefined();
  });
});

describe('github.normalize: shapes some senders use', () => {
  it('indexes an issue whose number is sent as a string, under the same ref', () => {
    const payload = example('issues', 'opened');
    payload.issue.number = String(payload.issue.number);
    expect(upsertOf('issues', payload).item.ref).toBe('github:codertocat/hello-world#1');
    const pullRequest = example('pull_request', 'opened');
    pullRequest.pull_request.number = ' 2 ';
    expect(upsertOf('pull_request', pullRequest).item.ref).toBe('github:codertocat/hello-world#2');
  });

  it('indexes labels sent as plain names like labels sent as objects', () => {
    const payload = example('issues', 'opened');
    payload.issue.labels = ['bug', 'P1', { name: 'in progress' }];
    const { item } = upsertOf('issues', payload);
    expect(item.labels).toEqual(['bug', 'P1', 'in progress']);
    expect(item.kind).toBe('bug');
    expect(item.priority).toEqual({ name: 'P1', level: 'high' });
    const pullRequest = example('pull_request', 'labeled');
    pullRequest.pull_request.labels = ['blocked'];
    expect(upsertOf('pull_request', pullRequest).item.status.category).toBe('blocked');
  });

  it('tombstones a deleted issue whose number is a string', () => {
    const payload = example('issues', 'deleted');
    payload.issue.number = '1';
    expect(changesOf(normalize('issues', payload))).toEqual([expect.objectContaining({ op: 'delete', ref: 'github:codertocat/hello-world#1' })]);
  });

  it('still refuses a number that is not one, naming the field', () => {
    const payload = example('issues', 'opened');
    payload.issue.number = 'one';
    expect(() => normalize('issues', payload)).toThrow(/issue\.number/);
  });
});

describe('github.normalize: links', () => {
  it('links a pull request to what its body closes and to the Jira issue of its branch', () => {
    const payload = example('pull_request', 'opened');
    payload.pull_request.body = 'Fixes #1 and closes ACME-7. `ACME-8` is only an example.';
    payload.pull_request.head.ref = 'feature/ACME-12-login';
    const { item } = upsertOf('pull_request', payload, ACME);
    expect(item.links).toEqual([
      { type: 'implements', target: 'github:codertocat/hello-world#1', origin: 'closing_keyword', confidence: 1 },
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-7', origin: 'closing_keyword', confidence: 1 },
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-12', origin: 'branch_name', confidence: 0.9 },
    ]);
  });

  it('does not link a pull request to itself', () => {
    const payload = example('pull_request', 'opened');
    payload.pull_request.body = 'Fixes #2';
    expect(upsertOf('pull_request', payload).item.links).toEqual([]);
  });
});

describe('github.normalize: activity', () => {
  it('records a submitted review as activity on the pull request', () => {
    const payload = example('pull_request_review', 'submitted');
    const change = upsertOf('pull_request_review', payload);
    expect(change.item.ref).toBe('github:codertocat/hello-world#2');
    expect(change.activityAt).toBe(new Date(payload.review.submitted_at).toISOString());
  });

  it('records a new comment as activity on its issue', () => {
    const payload = example('issue_comment', 'created');
    const change = upsertOf('issue_comment', payload);
    expect(change.item.ref).toBe(`github:codertocat/hello-world#${payload.issue.number}`);
    expect(change.activityAt).toBe('2019-05-15T15:20:21.000Z');
  });

  it('records a comment on a pull request as activity on the pull request', () => {
    const payload = example('issue_comment', 'created');
    payload.issue.number = 2;
    payload.issue.pull_request = { url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/2' };
    const { item } = upsertOf('issue_comment', payload);
    expect(item.ref).toBe('github:codertocat/hello-world#2');
    expect(item.kind).toBe('pull_request');
  });

  it('ignores the edit and the deletion of a comment that names no other item: they are not activity', () => {
    expect(normalize('issue_comment', example('issue_comment', 'edited'))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('names no other item') });
    expect(normalize('issue_comment', example('issue_comment', 'deleted'))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('named no other item') });
  });
});

describe('github.normalize: what a comment names', () => {
  // Comment 492700400 on Codertocat/Hello-World#1, as the examples deliver it.
  const ISSUE = 'github:codertocat/hello-world#1';
  const ORIGIN = 'comment:github:492700400';
  const mention = (target: string, confidence = 0.8) => ({ type: 'mentions', target, origin: ORIGIN, confidence });

  it('states what a new comment names as mentions of its issue, beside the activity', () => {
    const payload = example('issue_comment', 'created');
    payload.comment.body = 'Same as Codertocat/Hello-World#7 and octo/api#12, see ACME-42 and https://github.com/octo/web/pull/3.';
    const [upsert, statement] = changesOf(normalize('issue_comment', payload, ACME));
    expect(upsert).toMatchObject({ op: 'upsert', item: { ref: ISSUE }, activityAt: '2019-05-15T15:20:21.000Z' });
    expect(statement).toEqual({
      op: 'link',
      ref: ISSUE,
      at: '2019-05-15T15:20:21.000Z',
      add: [mention('github:codertocat/hello-world#7'), mention('github:octo/api#12'), mention('jira:acme.atlassian.net/ACME-42'), mention('github:octo/web#3')],
      remove: [],
      origin: ORIGIN,
      complete: true,
    });
    expect(ItemChange.parse(statement)).toEqual(statement);
  });

  it('reads a bare #12 as an issue of the repository, and a closing keyword as a mention only', () => {
    const payload = example('issue_comment', 'created');
    payload.comment.body = 'Fixes #7, I think; not `#8`.';
    const [, statement] = changesOf(normalize('issue_comment', payload));
    expect(statement).toMatchObject({ add: [mention('github:codertocat/hello-world#7', 1)] });
  });

  it('never makes a comment mention its own issue, and leaves out keys no Jira site can place', () => {
    const payload = example('issue_comment', 'created');
    payload.comment.body = 'Like #1 says: GPT-4 and ACME-42.';
    expect(changesOf(normalize('issue_comment', payload)).map((c) => c.op)).toEqual(['upsert']);
  });

  it('states the mentions of an edited comment whole, at its update', () => {
    const payload = example('issue_comment', 'edited');
    payload.changes.body.from = 'Blocked on ACME-42.';
    payload.comment.body = 'Blocked on ACME-43.';
    expect(changesOf(normalize('issue_comment', payload, ACME))).toEqual([
      { op: 'link', ref: ISSUE, at: '2019-05-15T15:20:22.000Z', add: [mention('jira:acme.atlassian.net/ACME-43', 0.9)], remove: [], origin: ORIGIN, complete: true },
    ]);
  });

  it('states that an edited comment no longer names anything', () => {
    const payload = example('issue_comment', 'edited');
    payload.changes.body.from = 'Blocked on ACME-42.';
    expect(changesOf(normalize('issue_comment', payload, ACME))).toEqual([
      { op: 'link', ref: ISSUE, at: '2019-05-15T15:20:22.000Z', add: [], remove: [], origin: ORIGIN, complete: true },
    ]);
  });

  it('states that a deleted comment names nothing, at the latest time the payload carries', () => {
    const payload = example('issue_comment', 'deleted');
    payload.comment.body = 'Blocked on ACME-42.';
    payload.issue.updated_at = '2019-05-16T08:00:00Z';
    expect(changesOf(normalize('issue_comment', payload, ACME))).toEqual([
      { op: 'link', ref: ISSUE, at: '2019-05-16T08:00:00.000Z', add: [], remove: [], origin: ORIGIN, complete: true },
    ]);
  });

  it('gives the same changes for a comment on a pull request, addressed to the pull request', () => {
    const payload = example('issue_comment', 'created');
    payload.issue.number = 2;
    payload.issue.pull_request = { url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/2' };
    payload.comment.body = 'Implements ACME-42.';
    const [upsert, statement] = changesOf(normalize('issue_comment', payload, ACME));
    expect(upsert).toMatchObject({ item: { ref: 'github:codertocat/hello-world#2', kind: 'pull_request' } });
    expect(statement).toMatchObject({ ref: 'github:codertocat/hello-world#2', add: [{ type: 'mentions', target: 'jira:acme.atlassian.net/ACME-42' }] });
  });

  it.each(githubExamples('issue_comment', { hosts: 'all' }).map((e) => [e.name, e] as const))(
    'gives valid changes for %s when its comment names an item',
    (_, example) => {
      const payload = example.payload as any;
      payload.comment.body = 'See octo/api#12.';
      if (payload.changes?.body) payload.changes.body.from = 'See octo/api#11.';
      const result = changesOf(normalize('issue_comment', payload));
      for (const change of result) expect(ItemChange.parse(change)).toEqual(change);
      const statement = result.find((c) => c.op === 'link');
      expect(statement).toMatchObject({ origin: `comment:github:${payload.comment.id}`, complete: true, add: example.action === 'deleted' ? [] : [mention('github:octo/api#12')].map((m) => ({ ...m, origin: `comment:github:${payload.comment.id}` })) });
    },
  );
});

describe('github.normalize: removal', () => {
  it('turns a deleted issue into a tombstone timed by the payload, not the clock', () => {
    const payload = example('issues', 'deleted');
    expect(changesOf(normalize('issues', payload))).toEqual([
      { op: 'delete', ref: 'github:codertocat/hello-world#1', at: '2021-10-11T16:40:56.000Z', reason: 'deleted' },
    ]);
  });

  it('turns a transferred issue into a tombstone pointing at the new issue, and indexes the new issue', () => {
    const payload = example('issues', 'transferred');
    const [removal, arrival] = changesOf(normalize('issues', payload));
    expect(removal).toEqual({
      op: 'delete',
      ref: 'github:octo-org/octo-repo#1',
      at: '2021-03-11T14:54:13.000Z',
      reason: 'transferred',
      movedTo: 'github:codertocat/hello-world#1',
    });
    expect(arrival).toMatchObject({ op: 'upsert', item: { ref: 'github:codertocat/hello-world#1' } });
  });

  it('finds where a transferred issue went from its API URL when new_repository is missing', () => {
    const payload = example('issues', 'transferred');
    delete payload.changes.new_repository;
    expect(changesOf(normalize('issues', payload))).toEqual([
      expect.objectContaining({ op: 'delete', reason: 'transferred', movedTo: 'github:codertocat/hello-world#1' }),
    ]);
  });
});

describe('github.normalize: what it does not index', () => {
  it('ignores events it does not support, saying so', () => {
    expect(normalize('star', githubExample('star').payload)).toEqual({
      outcome: 'ignored',
      event: 'star',
      reason: 'Tributary does not index GitHub star events.',
    });
    expect(normalize('ping', githubExample('ping').payload).outcome).toBe('ignored');
  });

  it('ignores issue actions that change nothing it indexes', () => {
    for (const action of ['locked', 'unlocked', 'pinned', 'unpinned']) {
      expect(normalize('issues', example('issues', action)).outcome, action).toBe('ignored');
    }
  });

  it('rejects a supported event without a field it needs, naming the field', () => {
    const payload = example('issues', 'opened');
    delete payload.issue.created_at;
    payload.issue.updated_at = 'yesterday';
    const attempt = () => normalize('issues', payload);
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/issue\.created_at.*issue\.updated_at: "yesterday" is not a date/);
  });
});
