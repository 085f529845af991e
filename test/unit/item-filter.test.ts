import { describe, expect, it } from 'vitest';
import { applyChange } from '../../core/merge.ts';
import { ItemFilter, containerKey, matchesFilter, personKeys } from '../../core/item-filter.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { at, githubPerson, githubUpsert, indexedItem } from '../fixtures/work-items.ts';

/** Real issue codertocat/hello-world#1 as indexed from issues.opened: a bug assigned to Codertocat. */
const realIssue = (): WorkItem => applyChange(undefined, githubUpsert('issues', 'opened'))!;

const tombstoned = (item: WorkItem): WorkItem => ({ ...item, deleted: { at: at(99), reason: 'deleted' }, version: item.version + 1 });

/** The filter as `GET /v1/items` parses it from the query string. */
const filter = (query: Record<string, string>): ItemFilter => ItemFilter.parse(query);

describe('ItemFilter', () => {
  it('parses an empty query as no filter', () => {
    expect(filter({})).toEqual({});
  });

  it('reads includeDeleted from query-string words', () => {
    expect(filter({ includeDeleted: 'true' }).includeDeleted).toBe(true);
    expect(filter({ includeDeleted: 'false' }).includeDeleted).toBe(false);
    expect(filter({ includeDeleted: '1' }).includeDeleted).toBe(true);
    expect(() => filter({ includeDeleted: 'maybe' })).toThrow();
  });

  it('accepts updatedSince with a UTC designator or an offset, and refuses a date alone', () => {
    expect(filter({ updatedSince: '2024-01-01T00:00:00Z' }).updatedSince).toBe('2024-01-01T00:00:00Z');
    expect(filter({ updatedSince: '2024-01-01T02:00:00+02:00' }).updatedSince).toBe('2024-01-01T02:00:00+02:00');
    expect(() => filter({ updatedSince: '2024-01-01' })).toThrow();
  });

  it('refuses values outside the catalog', () => {
    expect(() => filter({ source: 'gitlab' })).toThrow();
    expect(() => filter({ kind: 'feature' })).toThrow();
    expect(() => filter({ category: 'misc' })).toThrow();
    expect(() => filter({ status: 'open' })).toThrow();
  });
});

describe('personKeys', () => {
  it('lists the person id, every handle as lowercase source:handle, and every lowercase email', () => {
    const person = githubPerson('OctoCat', 583231, { emails: ['Octo.Cat@GitHub.com'] });
    person.handles.push({ source: 'jira', handle: '5b10ac8d82e05b22cc7d4ef5' });
    expect(personKeys(person)).toEqual([person.id, 'github:octocat', 'jira:5b10ac8d82e05b22cc7d4ef5', 'octo.cat@github.com']);
  });

  it('finds a real GitHub assignee by id and by login', () => {
    const [owner] = realIssue().owners;
    expect(personKeys(owner!)).toEqual([owner!.id, 'github:codertocat']);
  });
});

describe('containerKey', () => {
  it('joins the source and the key of the container', () => {
    expect(containerKey(realIssue())).toBe('github:codertocat/hello-world');
    expect(containerKey({ container: { source: 'jira', key: 'ACME' } })).toBe('jira:ACME');
  });
});

describe('matchesFilter', () => {
  it('matches every live item with no filter', () => {
    expect(matchesFilter(realIssue(), {})).toBe(true);
  });

  it('leaves tombstones out unless asked for them', () => {
    const deleted = tombstoned(realIssue());
    expect(matchesFilter(deleted, {})).toBe(false);
    expect(matchesFilter(deleted, filter({ includeDeleted: 'false' }))).toBe(false);
    expect(matchesFilter(deleted, filter({ includeDeleted: 'true' }))).toBe(true);
    expect(matchesFilter(realIssue(), filter({ includeDeleted: 'true' }))).toBe(true);
  });

  it('filters by source', () => {
    expect(matchesFilter(realIssue(), { source: 'github' })).toBe(true);
    expect(matchesFilter(realIssue(), { source: 'jira' })).toBe(false);
  });

  it('filters by kind', () => {
    expect(matchesFilter(realIssue(), { kind: 'bug' })).toBe(true);
    expect(matchesFilter(realIssue(), { kind: 'issue' })).toBe(false);
  });

  it('filters by category', () => {
    expect(matchesFilter(realIssue(), { category: 'project' })).toBe(true);
    expect(matchesFilter(indexedItem({ labels: ['ops'] }), { category: 'operational' })).toBe(true);
    expect(matchesFilter(realIssue(), { category: 'request' })).toBe(false);
  });

  it('filters by status category, not by the name the tool gives it', () => {
    const item = realIssue();
    expect(item.status).toEqual({ name: 'open', category: 'in_progress' });
    expect(matchesFilter(item, { status: 'in_progress' })).toBe(true);
    expect(matchesFilter(item, { status: 'todo' })).toBe(false);
  });

  it('filters by container as source:key', () => {
    expect(matchesFilter(realIssue(), { container: 'github:codertocat/hello-world' })).toBe(true);
    expect(matchesFilter(realIssue(), { container: 'codertocat/hello-world' })).toBe(false);
    expect(matchesFilter(realIssue(), { container: 'jira:codertocat/hello-world' })).toBe(false);
    expect(matchesFilter(realIssue(), { container: 'github:codertocat/other' })).toBe(false);
  });

  it('filters by one exact label', () => {
    const item = indexedItem({ labels: ['bug', 'good first issue'] });
    expect(matchesFilter(item, { label: 'good first issue' })).toBe(true);
    expect(matchesFilter(item, { label: 'bug' })).toBe(true);
    expect(matchesFilter(item, { label: 'good' })).toBe(false);
    expect(matchesFilter(item, { label: 'Bug' })).toBe(false);
  });

  it('finds an owner by person id', () => {
    const item = realIssue();
    expect(matchesFilter(item, { owner: item.owners[0]!.id })).toBe(true);
    expect(matchesFilter(item, { owner: githubPerson('hubot', 2).id })).toBe(false);
  });

  it('finds an owner by source:handle whatever the case', () => {
    const item = realIssue();
    expect(matchesFilter(item, { owner: 'github:Codertocat' })).toBe(true);
    expect(matchesFilter(item, { owner: 'github:codertocat' })).toBe(true);
    expect(matchesFilter(item, { owner: 'GITHUB:CODERTOCAT' })).toBe(true);
    expect(matchesFilter(item, { owner: 'codertocat' })).toBe(false);
    expect(matchesFilter(item, { owner: 'jira:codertocat' })).toBe(false);
  });

  it('finds an owner by email address whatever the case', () => {
    const item = indexedItem({ owners: [githubPerson('octocat', 1, { emails: ['octocat@github.com'] })] });
    expect(matchesFilter(item, { owner: 'OctoCat@GitHub.com' })).toBe(true);
    expect(matchesFilter(item, { owner: 'hubot@github.com' })).toBe(false);
  });

  it('matches an item with several owners by any one of them', () => {
    const item = indexedItem({ owners: [githubPerson('octocat', 1), githubPerson('hubot', 2)] });
    expect(matchesFilter(item, { owner: 'github:hubot' })).toBe(true);
    expect(matchesFilter(item, { owner: 'github:octocat' })).toBe(true);
  });

  it('does not take the requester for an owner', () => {
    const item = indexedItem({ owners: [], requester: githubPerson('octocat', 1) });
    expect(matchesFilter(item, { owner: 'github:octocat' })).toBe(false);
  });

  it('keeps items updated at or after updatedSince', () => {
    const item = indexedItem({ updatedAt: at(10) });
    expect(matchesFilter(item, { updatedSince: at(9) })).toBe(true);
    expect(matchesFilter(item, { updatedSince: at(10) })).toBe(true);
    expect(matchesFilter(item, { updatedSince: at(11) })).toBe(false);
  });

  it('compares updatedSince with an offset as the instant it names', () => {
    const item = indexedItem({ updatedAt: '2024-01-01T00:10:00.000Z' });
    expect(matchesFilter(item, filter({ updatedSince: '2024-01-01T02:10:00+02:00' }))).toBe(true);
    expect(matchesFilter(item, filter({ updatedSince: '2024-01-01T02:10:01+02:00' }))).toBe(false);
  });

  it('requires every given filter to match', () => {
    const item = realIssue();
    const all: ItemFilter = {
      source: 'github',
      kind: 'bug',
      category: 'project',
      status: 'in_progress',
      owner: 'github:codertocat',
      container: 'github:codertocat/hello-world',
      label: 'bug',
      updatedSince: '2019-05-15T00:00:00Z',
    };
    expect(matchesFilter(item, all)).toBe(true);
    for (const [key, wrong] of Object.entries({
      source: 'jira',
      kind: 'task',
      category: 'request',
      status: 'done',
      owner: 'github:hubot',
      container: 'github:octo/api',
      label: 'docs',
      updatedSince: '2030-01-01T00:00:00Z',
    })) {
      expect(matchesFilter(item, { ...all, [key]: wrong }), key).toBe(false);
    }
    expect(matchesFilter(tombstoned(item), all)).toBe(false);
  });
});
