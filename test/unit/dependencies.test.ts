import { describe, expect, it } from 'vitest';
import { Dependencies, type IncomingLink, IncomingLink as IncomingLinkSchema, confirmedIncoming, directDependencies } from '../../core/dependencies.ts';
import { itemIdForRef } from '../../core/ids.ts';
import { INVERSE_LINK_TYPE } from '../../core/links.ts';
import { applyChange } from '../../core/merge.ts';
import { type Link, LinkType, type WorkItem } from '../../core/work-item.ts';
import { at, githubUpsert, indexedItem, link } from '../fixtures/work-items.ts';

const ISSUE = 'github:codertocat/hello-world#1';
const PR = 'github:codertocat/hello-world#2';

/** Real issue #1 from issues.opened. */
const realIssue = (): WorkItem => applyChange(undefined, githubUpsert('issues', 'opened'))!;

/** Real pull request #2 from pull_request.opened, with another body. */
const realPullRequest = (body: string): WorkItem =>
  applyChange(
    undefined,
    githubUpsert('pull_request', 'opened', (payload) => {
      payload.pull_request.body = body;
    }),
  )!;

const byId = (...items: WorkItem[]): Map<string, WorkItem> => new Map(items.map((item) => [item.id, item]));

/** The reverse edges the store keeps at a target: one per link another item holds to it. */
const edgesTo = (target: string, ...holders: WorkItem[]): { from: string; link: Link }[] =>
  holders.flatMap((holder) => holder.links.filter((l) => l.target === target).map((l) => ({ from: holder.ref, link: l })));

describe('confirmedIncoming', () => {
  it('reads a link another item still holds from this item side, inverted', () => {
    const pr = realPullRequest('Blocked by #1');
    expect(pr.links).toEqual([link('blocked_by', ISSUE, 'key_mention', 0.9)]);
    const incoming = confirmedIncoming(ISSUE, edgesTo(ISSUE, pr), byId(pr));
    expect(incoming).toEqual([{ type: 'blocks', target: PR, origin: 'key_mention', confidence: 0.9 }]);
    for (const l of incoming) expect(IncomingLinkSchema.parse(l)).toEqual(l);
  });

  it('drops a reverse edge the holder no longer holds (the link was removed from its text)', () => {
    const before = realPullRequest('Blocked by #1');
    const edges = edgesTo(ISSUE, before);
    const after = realPullRequest('No longer waiting on anything.');
    expect(confirmedIncoming(ISSUE, edges, byId(after))).toEqual([]);
  });

  it('drops a reverse edge whose holder the index does not hold', () => {
    const pr = realPullRequest('Blocked by #1');
    expect(confirmedIncoming(ISSUE, edgesTo(ISSUE, pr), new Map())).toEqual([]);
  });

  it('drops a reverse edge when the holder now links this item with another type', () => {
    const holder = indexedItem({ ref: 'github:octo/api#5', links: [link('relates', ISSUE)] });
    const staleEdge = { from: holder.ref, link: link('blocks', ISSUE) };
    expect(confirmedIncoming(ISSUE, [staleEdge], byId(holder))).toEqual([]);
  });

  it('drops a reverse edge when the holder links another item with that type', () => {
    const holder = indexedItem({ ref: 'github:octo/api#5', links: [link('blocks', 'github:octo/api#6')] });
    expect(confirmedIncoming(ISSUE, [{ from: holder.ref, link: link('blocks', ISSUE) }], byId(holder))).toEqual([]);
  });

  it('keeps confirmed edges and drops stale ones, in the order given', () => {
    const a = indexedItem({ ref: 'github:octo/api#10', links: [link('blocks', ISSUE)] });
    const b = indexedItem({ ref: 'github:octo/api#11', links: [] });
    const c = indexedItem({ ref: 'jira:acme.atlassian.net/ACME-3', source: 'jira', links: [link('child', ISSUE)] });
    const edges = [
      { from: a.ref, link: link('blocks', ISSUE) },
      { from: b.ref, link: link('blocked_by', ISSUE) },
      { from: c.ref, link: link('child', ISSUE) },
    ];
    expect(confirmedIncoming(ISSUE, edges, byId(a, b, c))).toEqual([
      { type: 'blocked_by', target: a.ref, origin: 'source_link', confidence: 1 },
      { type: 'parent', target: c.ref, origin: 'source_link', confidence: 1 },
    ]);
  });

  it.each(LinkType.options.map((type) => [type, INVERSE_LINK_TYPE[type]] as const))('reads a held %s link as %s', (type, inverse) => {
    const holder = indexedItem({ ref: 'github:octo/api#5', links: [link(type, ISSUE)] });
    expect(confirmedIncoming(ISSUE, edgesTo(ISSUE, holder), byId(holder)).map((l) => l.type)).toEqual([inverse]);
  });

  it('inverts every link type to one that inverts back', () => {
    for (const type of LinkType.options) expect(INVERSE_LINK_TYPE[INVERSE_LINK_TYPE[type]]).toBe(type);
  });
});

describe('directDependencies', () => {
  it('lists what an item is blocked by as upstream, from its own links', () => {
    const issue = realIssue();
    const pr = realPullRequest('Blocked by #1');
    const deps = directDependencies(pr, [], byId(issue));
    expect(deps).toEqual({
      upstream: [
        {
          id: itemIdForRef(ISSUE),
          ref: ISSUE,
          indexed: true,
          title: issue.title,
          url: issue.url,
          status: issue.status,
          via: { type: 'blocked_by', origin: 'key_mention', confidence: 0.9 },
        },
      ],
      downstream: [],
    });
    expect(Dependencies.parse(deps)).toEqual(deps);
  });

  it('lists what an item blocks as downstream, from its own links', () => {
    const pr = realPullRequest('This blocks #1');
    const deps = directDependencies(pr, [], byId(realIssue()));
    expect(deps.upstream).toEqual([]);
    expect(deps.downstream.map((d) => [d.ref, d.via.type])).toEqual([[ISSUE, 'blocks']]);
  });

  it('lists an item that holds `blocked_by` this one as downstream', () => {
    const issue = realIssue();
    const pr = realPullRequest('Blocked by #1');
    const incoming = confirmedIncoming(ISSUE, edgesTo(ISSUE, pr), byId(pr));
    const deps = directDependencies(issue, incoming, byId(pr));
    expect(deps.upstream).toEqual([]);
    expect(deps.downstream).toEqual([
      { id: pr.id, ref: PR, indexed: true, title: pr.title, url: pr.url, status: pr.status, via: { type: 'blocks', origin: 'key_mention', confidence: 0.9 } },
    ]);
  });

  it('lists an item that holds `blocks` this one as upstream', () => {
    const issue = realIssue();
    const pr = realPullRequest('Blocks #1');
    const incoming = confirmedIncoming(ISSUE, edgesTo(ISSUE, pr), byId(pr));
    const deps = directDependencies(issue, incoming, byId(pr));
    expect(deps.downstream).toEqual([]);
    expect(deps.upstream.map((d) => [d.ref, d.via.type])).toEqual([[PR, 'blocked_by']]);
  });

  it('marks a neighbour the index does not hold yet as not indexed, without its details', () => {
    const item = indexedItem({ links: [link('blocked_by', 'jira:acme.atlassian.net/ACME-9')] });
    const [upstream] = directDependencies(item, [], new Map()).upstream;
    expect(upstream).toEqual({
      id: itemIdForRef('jira:acme.atlassian.net/ACME-9'),
      ref: 'jira:acme.atlassian.net/ACME-9',
      indexed: false,
      via: { type: 'blocked_by', origin: 'source_link', confidence: 1 },
    });
  });

  it('leaves links that are not dependencies out', () => {
    const item = indexedItem({
      links: (['parent', 'child', 'relates', 'duplicates', 'implements', 'implemented_by', 'mentions'] as const).map((type, i) =>
        link(type, `github:octo/api#${20 + i}`),
      ),
    });
    const incoming: IncomingLink[] = [{ type: 'implemented_by', target: 'github:octo/api#30', origin: 'closing_keyword', confidence: 1 }];
    expect(directDependencies(item, incoming, new Map())).toEqual({ upstream: [], downstream: [] });
  });

  it('combines both directions: own links first, then incoming ones', () => {
    const item = indexedItem({ links: [link('blocked_by', 'github:octo/api#2'), link('blocks', 'github:octo/api#3')], updatedAt: at(1) });
    const incoming: IncomingLink[] = [
      { type: 'blocked_by', target: 'github:octo/api#4', origin: 'key_mention', confidence: 0.9 },
      { type: 'blocks', target: 'github:octo/api#5', origin: 'source_link', confidence: 1 },
    ];
    const deps = directDependencies(item, incoming, new Map());
    expect(deps.upstream.map((d) => d.ref)).toEqual(['github:octo/api#2', 'github:octo/api#4']);
    expect(deps.downstream.map((d) => d.ref)).toEqual(['github:octo/api#3', 'github:octo/api#5']);
  });

  // BUG (core/dependencies.ts:46 `const all = [...item.links, ...incoming]`): when both items hold
  // the dependency (`Blocks #2` on the issue and `Blocked by #1` on the pull request, or any Jira
  // issue link, which Jira shows on both issues), the neighbour is listed twice: once from the
  // item's own link and once from the confirmed reverse edge. Expected: one entry per neighbour.
  it('lists a neighbour once when both items hold the dependency', () => {
    const issue = applyChange(
      undefined,
      githubUpsert('issues', 'opened', (payload) => {
        payload.issue.body = 'This blocks #2';
      }),
    )!;
    const pr = realPullRequest('Blocked by #1');
    expect(issue.links).toEqual([link('blocks', PR, 'key_mention', 0.9)]);
    const incoming = confirmedIncoming(ISSUE, edgesTo(ISSUE, pr), byId(pr));
    const deps = directDependencies(issue, incoming, byId(pr));
    expect(deps.downstream.map((d) => d.ref)).toEqual([PR]);
  });
});
