import { describe, expect, it } from 'vitest';
import { confirmedIncoming } from '../../core/dependencies.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { type ExploredNeighbourhood, buildItemContext, pullRequestStateOf, requestAnswerOf } from '../../core/item-context.ts';
import type { BlockingEdge } from '../../core/graph.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { githubPerson, indexedItem, link } from '../fixtures/work-items.ts';

const STORY = 'jira:acme.atlassian.net/ACME-42';
const EPIC = 'jira:acme.atlassian.net/ACME-1';
const SUBTASK = 'jira:acme.atlassian.net/ACME-43';
const PR = 'github:octo/api#12';
const EMAIL = 'email:support@acme.example/abc@customer.example';

const jira = (ref: string, overrides: Partial<WorkItem> = {}): WorkItem => ({
  ...indexedItem({ ref, source: 'jira', kind: 'story', title: ref.slice(-7), container: { source: 'jira', key: 'ACME' }, status: { name: 'In Progress', category: 'in_progress' } }),
  ...overrides,
});

const story = jira(STORY, { links: [link('child', EPIC), link('parent', SUBTASK)] });
const pr = indexedItem({ ref: PR, kind: 'pull_request', title: 'ACME-42 Retry', status: { name: 'draft', category: 'in_progress' }, owners: [githubPerson('octocat', 1)], links: [link('implements', STORY, 'key_mention', 0.9)] });
const email = indexedItem({
  ref: EMAIL,
  source: 'email',
  kind: 'request',
  title: 'Checkout fails',
  container: { source: 'email', key: 'support@acme.example' },
  status: { name: 'new', category: 'todo' },
  requester: { id: 'p_ana', name: 'Ana Lima', handles: [], emails: ['ana@customer.example'] },
  links: [link('relates', STORY, 'key_mention', 0.9)],
});

const related = new Map([pr, email, jira(EPIC), jira(SUBTASK)].map((i) => [i.id, i]));
const incoming = confirmedIncoming(STORY, [
  { from: PR, link: pr.links[0]! },
  { from: EMAIL, link: email.links[0]! },
], related);

const graph = (items: WorkItem[], edges: [WorkItem, WorkItem][], truncated = false): ExploredNeighbourhood => ({
  nodes: new Map(items.map((i) => [i.id, { id: i.id, ref: i.ref, item: i }])),
  edges: edges.map(([from, to]): BlockingEdge => ({ from: from.id, to: to.id, origin: 'source_link', confidence: 1 })),
  truncated,
});
const none = graph([], []);

describe('an item’s context across tools', () => {
  const context = buildItemContext({ item: story, incoming, related, upstream: none, downstream: none, blockedSince: new Map() });

  it('lists the PR implementing a story with its state, and the email mentioning it with its requester and answer', () => {
    expect(context.implementedBy).toEqual([
      expect.objectContaining({ ref: PR, source: 'github', pullRequest: 'draft', owners: ['octocat'], via: expect.objectContaining({ type: 'implemented_by', heldBy: 'other' }) }),
    ]);
    expect(context.mentionedIn).toEqual([expect.objectContaining({ ref: EMAIL, request: { requester: 'Ana Lima', answer: 'waiting' } })]);
    expect(context.related).toEqual([]);
  });

  it('lists an item whose comment names the story under "mentioned in", and the story among what that item mentions', () => {
    const issue = indexedItem({ ref: 'github:octo/api#7', title: 'Timeouts', links: [link('mentions', STORY, 'comment:github:492700400', 0.8)] });
    const withComment = buildItemContext({
      item: story,
      incoming: [...incoming, ...confirmedIncoming(STORY, [{ from: issue.ref, link: issue.links[0]! }], new Map([[issue.id, issue]]))],
      related: new Map([...related, [issue.id, issue]]),
      upstream: none,
      downstream: none,
      blockedSince: new Map(),
    });
    expect(withComment.mentionedIn.map((m) => [m.ref, m.via.origin])).toEqual(
      expect.arrayContaining([[issue.ref, 'comment:github:492700400'], [EMAIL, 'key_mention']]),
    );
    const fromIssue = buildItemContext({ item: issue, incoming: [], related: new Map([[story.id, story]]), upstream: none, downstream: none, blockedSince: new Map() });
    expect(fromIssue.mentions.map((m) => m.ref)).toEqual([STORY]);
    expect(fromIssue.related).toEqual([]);
  });

  it('reads parent and child links the way Jira states them', () => {
    expect(context.parents.map((p) => p.ref)).toEqual([EPIC]);
    expect(context.children.map((c) => c.ref)).toEqual([SUBTASK]);
  });

  it('names what the PR implements from its side', () => {
    const fromPr = buildItemContext({ item: pr, incoming: [], related: new Map([[story.id, story]]), upstream: none, downstream: none, blockedSince: new Map() });
    expect(fromPr.implements.map((i) => [i.ref, i.status?.name])).toEqual([[STORY, 'In Progress']]);
  });

  it('keeps one entry per item when both items state the same link, and lists items not indexed yet by ref', () => {
    const both = jira(STORY, { links: [link('relates', 'jira:acme.atlassian.net/ACME-9'), link('relates', PR, 'source_link', 0.5)] });
    const fromBoth = buildItemContext({
      item: both,
      incoming: [{ ...link('relates', PR, 'source_link', 1) }],
      related,
      upstream: none,
      downstream: none,
      blockedSince: new Map(),
    });
    expect(fromBoth.related.map((r) => [r.ref, r.indexed, r.via.confidence])).toEqual(
      expect.arrayContaining([
        ['jira:acme.atlassian.net/ACME-9', false, 1],
        [PR, true, 1],
      ]),
    );
    expect(fromBoth.related).toHaveLength(2);
  });

  it('follows blockers to the root blocker through open work only, each once, cycles included', () => {
    const a = jira('jira:acme.atlassian.net/ACME-50');
    const b = jira('jira:acme.atlassian.net/ACME-51');
    const root = jira('jira:acme.atlassian.net/ACME-52');
    const done = jira('jira:acme.atlassian.net/ACME-53', { status: { name: 'Done', category: 'done' } });
    const beyondDone = jira('jira:acme.atlassian.net/ACME-54');
    // root → b → a → story; done → story, beyondDone → done; a ↔ b cycle
    const upstream = graph([story, a, b, root, done, beyondDone], [[a, story], [b, a], [a, b], [root, b], [done, story], [beyondDone, done]]);
    const chain = buildItemContext({ item: story, incoming: [], related: new Map(), upstream, downstream: none, blockedSince: new Map([[a.id, '2024-01-02T00:00:00.000Z']]) }).blockedBy;
    expect(chain.nodes.map((n) => [n.ref.slice(-7), n.depth, n.root])).toEqual([
      ['ACME-50', 1, false],
      ['ACME-53', 1, false],
      ['ACME-51', 2, false],
      ['ACME-52', 3, true],
    ]);
    expect(chain.nodes.find((n) => n.id === a.id)?.blockedSince).toBe('2024-01-02T00:00:00.000Z');
    expect(chain.edges).toContainEqual({ from: root.id, to: b.id });
    expect(chain.nodes.some((n) => n.id === itemIdForRef(beyondDone.ref))).toBe(false);
  });
});

describe('states as people say them', () => {
  it('names a PR draft, open, in review, merged or closed', () => {
    const of = (name: string, category: WorkItem['status']['category']) => pullRequestStateOf({ kind: 'pull_request', status: { name, category } });
    expect([of('draft', 'in_progress'), of('open', 'in_progress'), of('open', 'in_review'), of('merged', 'done'), of('closed', 'cancelled')]).toEqual(['draft', 'open', 'in_review', 'merged', 'closed']);
    expect(pullRequestStateOf({ kind: 'issue', status: { name: 'open', category: 'todo' } })).toBeUndefined();
  });

  it("says whether the team answered an email request: only while its reply is the latest message", () => {
    const of = (name: string, category: WorkItem['status']['category']) => requestAnswerOf({ source: 'email', kind: 'request', status: { name, category } });
    expect([of('new', 'todo'), of('answered', 'in_progress'), of('waiting', 'todo'), of('closed', 'done')]).toEqual(['waiting', 'answered', 'waiting', 'closed']);
  });
});
