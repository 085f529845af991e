import { describe, expect, it } from 'vitest';
import { categorize } from '../../core/category.ts';
import type { Kind, ObservedItem } from '../../core/work-item.ts';
import { githubUpsert } from '../fixtures/work-items.ts';

const item = (overrides: Partial<Pick<ObservedItem, 'source' | 'kind' | 'labels'>> = {}) => ({
  source: 'github' as const,
  kind: 'issue' as const,
  labels: [] as string[],
  ...overrides,
});

describe('categorize', () => {
  it('calls plain GitHub issues and pull requests project work', () => {
    expect(categorize(item())).toBe('project');
    expect(categorize(item({ kind: 'pull_request' }))).toBe('project');
    expect(categorize(item({ kind: 'bug', labels: ['bug'] }))).toBe('project');
  });

  it('calls a real bug issue and a real pull request project work', () => {
    expect(categorize(githubUpsert('issues', 'opened').item)).toBe('project');
    expect(categorize(githubUpsert('pull_request', 'opened').item)).toBe('project');
  });

  it.each(['task', 'story', 'epic', 'subtask', 'bug'] satisfies Kind[])('calls a Jira %s project work', (kind) => {
    expect(categorize(item({ source: 'jira', kind }))).toBe('project');
  });

  it('calls everything that comes by email a request, whatever its kind or labels', () => {
    expect(categorize(item({ source: 'email', kind: 'request' }))).toBe('request');
    expect(categorize(item({ source: 'email', kind: 'incident', labels: ['ops'] }))).toBe('request');
    expect(categorize(item({ source: 'email', kind: 'task' }))).toBe('request');
  });

  it('calls the request kind a request in any tool', () => {
    expect(categorize(item({ source: 'jira', kind: 'request' }))).toBe('request');
  });

  it('calls incidents operational', () => {
    expect(categorize(item({ kind: 'incident' }))).toBe('operational');
    expect(categorize(item({ source: 'jira', kind: 'incident' }))).toBe('operational');
  });

  it('calls a real issue labelled incident operational', () => {
    const change = githubUpsert('issues', 'opened', (payload) => {
      payload.issue.labels = [{ ...payload.issue.labels[0], name: 'incident' }];
    });
    expect(change.item.kind).toBe('incident');
    expect(categorize(change.item)).toBe('operational');
  });

  it.each([
    'ops',
    'operations',
    'Operational',
    'incident',
    'maintenance',
    'chore',
    'toil',
    'oncall',
    'on-call',
    'support',
    'security',
    'infra',
    'Infrastructure',
    'tech debt',
    'tech-debt',
    'techdebt',
    'type:ops',
    'type/chore',
    'type maintenance',
    'TYPE:Security',
  ])('calls work labelled %j operational', (label) => {
    expect(categorize(item({ labels: ['enhancement', label] }))).toBe('operational');
  });

  it.each(['request', 'question', 'help wanted', 'support request', 'type:request', 'type/question', 'Question'])(
    'calls work labelled %j a request',
    (label) => {
      expect(categorize(item({ labels: [label] }))).toBe('request');
    },
  );

  it('prefers request to operational when both kinds of label are there', () => {
    expect(categorize(item({ labels: ['ops', 'question'] }))).toBe('request');
    expect(categorize(item({ kind: 'incident', labels: ['question'] }))).toBe('request');
  });

  it.each(['opsgenie', 'devops', 'supporting docs', 'security-review', 'infra-cost', 'chores', 'requests', 'bug', 'enhancement', 'area:ops', 'type:'])(
    'does not read %j as a category label: labels match whole words only',
    (label) => {
      expect(categorize(item({ labels: [label] }))).toBe('project');
    },
  );
});
