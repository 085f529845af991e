import { describe, expect, it } from 'vitest';
import { extractReferences, githubRef, isProvisionalRef, jiraIssueIdRef, parseJiraRef } from '../../core/references.ts';

const repo = { source: 'github' as const, key: 'octo/api' };
const extract = (input: Partial<Parameters<typeof extractReferences>[0]>) =>
  extractReferences({ container: repo, jiraProjects: {}, self: githubRef('octo/api', 1), ...input });

describe('extractReferences: the tenant Jira sites', () => {
  it('takes a key of a project not known yet to be on the only Jira site, with low confidence', () => {
    expect(extract({ jiraProjects: { OPS: 'acme.atlassian.net' }, jiraSites: ['acme.atlassian.net'], title: 'ACME-123: retry payments' })).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-123', origin: 'key_mention', confidence: 0.5 },
    ]);
  });

  it('resolves it before any project of the site is known', () => {
    expect(extract({ jiraSites: ['acme.atlassian.net'], body: 'Fixes ACME-9' })).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-9', origin: 'closing_keyword', confidence: 0.5 },
    ]);
  });

  it('keeps the confidence of a known project', () => {
    expect(extract({ jiraProjects: { ACME: 'acme.atlassian.net' }, jiraSites: ['acme.atlassian.net'], title: 'ACME-123' })).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-123', origin: 'key_mention', confidence: 0.9 },
    ]);
  });

  it('does not guess between several sites when the project is unknown', () => {
    const sites = ['acme.atlassian.net', 'jira.acme.com'];
    expect(extract({ jiraProjects: { OPS: 'jira.acme.com' }, jiraSites: sites, title: 'ACME-123' })).toEqual([]);
  });

  it('never takes UTF-8 or SHA-256 for a key, even with a site', () => {
    expect(extract({ jiraSites: ['acme.atlassian.net'], title: 'Use UTF-8 and SHA-256 everywhere' })).toEqual([]);
  });
});

describe('Jira refs', () => {
  it('parses a key ref into site, key and project', () => {
    expect(parseJiraRef('jira:acme.atlassian.net/ACME-42')).toEqual({ site: 'acme.atlassian.net', key: 'ACME-42', project: 'ACME' });
    expect(parseJiraRef('jira:jira.acme.com/jira/OPS_2-7')).toEqual({ site: 'jira.acme.com/jira', key: 'OPS_2-7', project: 'OPS_2' });
  });

  it('does not parse id refs, provisional refs or other tools', () => {
    expect(parseJiraRef(jiraIssueIdRef('acme.atlassian.net', 10042))).toBeUndefined();
    expect(parseJiraRef('jira:ACME-42')).toBeUndefined();
    expect(parseJiraRef('github:octo/api#1')).toBeUndefined();
  });

  it('tells provisional refs: a key without its site, or an issue id', () => {
    expect(isProvisionalRef('jira:ACME-42')).toBe(true);
    expect(isProvisionalRef(jiraIssueIdRef('Acme.atlassian.net', '10042'))).toBe(true);
    expect(jiraIssueIdRef('Acme.atlassian.net', '10042')).toBe('jira:acme.atlassian.net/id/10042');
    expect(isProvisionalRef('jira:acme.atlassian.net/ACME-42')).toBe(false);
    expect(isProvisionalRef('github:octo/api#1')).toBe(false);
  });
});
