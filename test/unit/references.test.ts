import { describe, expect, it } from 'vitest';
import { extractReferences, githubRef, type ReferenceInput } from '../../core/references.ts';
import { Link } from '../../core/work-item.ts';

const repo = { source: 'github' as const, key: 'octo/api' };
const acme = { ACME: 'acme.atlassian.net', OPS: 'ops.atlassian.net' };

const extract = (input: Partial<ReferenceInput>) =>
  extractReferences({ container: repo, jiraProjects: acme, self: githubRef('octo/api', 99), ...input });

describe('githubRef', () => {
  it('lowercases owner and repository, since GitHub names are case-insensitive', () => {
    expect(githubRef('Octo-Org/Hello-World', 12)).toBe('github:octo-org/hello-world#12');
  });
});

describe('extractReferences: closing keywords', () => {
  it('marks a PR whose body says "Fixes #12" as implementing issue 12 of its own repository', () => {
    expect(extract({ body: 'Fixes #12' })).toEqual([
      { type: 'implements', target: 'github:octo/api#12', origin: 'closing_keyword', confidence: 1 },
    ]);
  });

  it.each(['close', 'closes', 'closed', 'fix', 'fixes', 'fixed', 'resolve', 'resolves', 'resolved', 'CLOSES', 'Fixes:'])(
    'understands the keyword "%s"',
    (keyword) => {
      expect(extract({ body: `${keyword} #7` }).map((link) => link.target)).toEqual(['github:octo/api#7']);
    },
  );

  it('resolves owner/repo#12 and full issue URLs to that repository, lowercased', () => {
    const links = extract({ body: 'Closes Octo/Web#3 and resolves https://github.com/Octo/Docs/issues/4.' });
    expect(links.map((link) => [link.target, link.origin])).toEqual([
      ['github:octo/web#3', 'closing_keyword'],
      ['github:octo/docs#4', 'closing_keyword'],
    ]);
  });

  it('takes every reference of a list after one keyword', () => {
    const links = extract({ body: 'Fixes #1, #2, octo/web#3 and #4 & #5' });
    expect(links.map((link) => link.target)).toEqual([
      'github:octo/api#1',
      'github:octo/api#2',
      'github:octo/web#3',
      'github:octo/api#4',
      'github:octo/api#5',
    ]);
  });

  it('stops a list at the first word that is not a separator', () => {
    expect(extract({ body: 'Fixes #1 which was reported in #2' }).map((link) => link.target)).toEqual([
      'github:octo/api#1',
    ]);
  });

  it('marks a PR that closes ACME-12 as implementing the Jira issue', () => {
    expect(extract({ body: 'Closes ACME-12' })).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-12', origin: 'closing_keyword', confidence: 1 },
    ]);
  });

  it('does not link bare mentions of GitHub issues', () => {
    expect(extract({ body: 'Similar to #3 and https://github.com/octo/api/issues/4' })).toEqual([]);
  });

  it('does not resolve a bare #12 outside a GitHub repository', () => {
    const links = extract({ container: { source: 'jira', key: 'ACME' }, self: undefined, body: 'Fixes #12' });
    expect(links).toEqual([]);
  });
});

describe('extractReferences: dependencies', () => {
  it('marks "blocked by #5" and "depends on owner/repo#6" as blocked_by', () => {
    const links = extract({ body: 'Blocked by #5.\nAlso depends on Octo/Web#6, #7' });
    expect(links).toEqual([
      { type: 'blocked_by', target: 'github:octo/api#5', origin: 'key_mention', confidence: 0.9 },
      { type: 'blocked_by', target: 'github:octo/web#6', origin: 'key_mention', confidence: 0.9 },
      { type: 'blocked_by', target: 'github:octo/api#7', origin: 'key_mention', confidence: 0.9 },
    ]);
  });

  it('marks "blocks #7" as blocks', () => {
    expect(extract({ body: 'This blocks #7' })).toEqual([
      { type: 'blocks', target: 'github:octo/api#7', origin: 'key_mention', confidence: 0.9 },
    ]);
  });

  it('lets a dependency phrase govern a Jira key instead of a plain mention', () => {
    expect(extract({ body: 'Depends on OPS-3' })).toEqual([
      { type: 'blocked_by', target: 'jira:ops.atlassian.net/OPS-3', origin: 'key_mention', confidence: 0.9 },
    ]);
  });
});

describe('extractReferences: Jira keys', () => {
  it('takes a key in the title with confidence 0.9 and in the body with 0.8', () => {
    expect(extract({ title: 'ACME-1: login', body: 'See OPS-2 for context' })).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-1', origin: 'key_mention', confidence: 0.9 },
      { type: 'implements', target: 'jira:ops.atlassian.net/OPS-2', origin: 'key_mention', confidence: 0.8 },
    ]);
  });

  it('takes a key from the branch name, even lower-cased, as a branch_name link', () => {
    expect(extract({ branch: 'feature/ACME-123-login' })).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-123', origin: 'branch_name', confidence: 0.9 },
    ]);
    expect(extract({ branch: 'jdoe/fix-acme-7_login' }).map((link) => link.target)).toEqual([
      'jira:acme.atlassian.net/ACME-7',
    ]);
  });

  it('only counts keys of known projects when Jira projects are known', () => {
    expect(extract({ body: 'Bumps FOO-12 and uses UTF-8' })).toEqual([]);
  });

  it('takes a key of an unknown project with low confidence while no Jira project is known', () => {
    expect(extract({ jiraProjects: {}, title: 'FOO-12 retry uploads', branch: 'foo-12' })).toEqual([
      { type: 'implements', target: 'jira:FOO-12', origin: 'key_mention', confidence: 0.5 },
    ]);
  });

  it.each(['UTF-8', 'UTF-16', 'ISO-8859-1', 'SHA-256', 'SHA-1', 'AES-256', 'RFC-9457', 'CVE-2024', 'COVID-19', 'GPT-4'])(
    'does not take %s for a Jira key',
    (text) => {
      expect(extract({ jiraProjects: {}, title: `Handle ${text} properly`, body: `${text} everywhere` })).toEqual([]);
    },
  );

  it('does not take UTF-8 for a Jira key, even with known projects', () => {
    expect(extract({ body: 'Decode as UTF-8' })).toEqual([]);
  });

  it('resolves a Jira browse URL to its site, and other keys of that project with it', () => {
    const links = extract({
      jiraProjects: {},
      body: 'Spec: https://acme.atlassian.net/browse/ACME-4. Follow-up in ACME-5.',
    });
    expect(links).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-4', origin: 'key_mention', confidence: 0.8 },
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-5', origin: 'key_mention', confidence: 0.8 },
    ]);
  });

  it('ignores keys inside other URLs', () => {
    const body = 'See https://example.com/docs/ACME-9/readme and https://github.com/octo/api/blob/ACME-8/x.md';
    expect(extract({ body })).toEqual([]);
  });
});

describe('extractReferences: text that is not prose', () => {
  it('ignores inline code spans', () => {
    expect(extract({ body: 'Run `fixes #3 ACME-1` then ``closes #4``' })).toEqual([]);
  });

  it('ignores fenced code blocks, closed or not', () => {
    const body = 'Intro\n```ts\nconst x = "ACME-1"; // fixes #2\n```\nFixes #5\n~~~\nblocked by #6';
    expect(extract({ body }).map((link) => link.target)).toEqual(['github:octo/api#5']);
  });

  it('ignores HTML comments, where PR templates keep their examples', () => {
    expect(extract({ body: '<!-- Write "Fixes #123" to close an issue -->\nNo issue.' })).toEqual([]);
  });

  it('closes a code span only with a run of backticks of its own length; a run without one is text', () => {
    const targets = (body: string) => extract({ body }).map((link) => link.target);
    expect(targets('`` Fixes #1 ` Fixes #2 `` Fixes #3')).toEqual(['github:octo/api#3']);
    expect(targets('``` Fixes #4 `` and `x` Fixes #5')).toEqual(['github:octo/api#4', 'github:octo/api#5']);
  });

  // Each of these took seconds to minutes with patterns that rescan the rest of the text from
  // every character of a run: a signed payload may carry a body of this size.
  it.each([
    ['a fence line of backticks without its newline', '`'.repeat(200_000)],
    ['a fence line of tildes without its newline', '~'.repeat(200_000)],
    ['runs of backticks of ever greater length', Array.from({ length: 600 }, (_, index) => '`'.repeat(index + 1)).join(' x ')],
    ['a URL with a long run of punctuation inside', `see https://example.com/a${'.'.repeat(200_000)}b`],
  ])('reads a body ending in %s in one pass, and the references before it', (_name, tail) => {
    expect(extract({ body: `Fixes #8 and ACME-9\n${tail}` }).map((link) => link.target)).toEqual([
      'github:octo/api#8',
      'jira:acme.atlassian.net/ACME-9',
    ]);
  });
});

describe('extractReferences: the result', () => {
  it('keeps one link per type and target, the most confident one', () => {
    const links = extract({ title: 'ACME-1 login', body: 'Fixes ACME-1. ACME-1 again.', branch: 'ACME-1-login' });
    expect(links).toEqual([
      { type: 'implements', target: 'jira:acme.atlassian.net/ACME-1', origin: 'closing_keyword', confidence: 1 },
    ]);
  });

  it('keeps different types to the same target apart', () => {
    const links = extract({ body: 'Fixes #3, blocked by #3' });
    expect(links.map((link) => link.type)).toEqual(['implements', 'blocked_by']);
  });

  it('never links an item to itself', () => {
    expect(extract({ body: 'Fixes #99 and #100' }).map((link) => link.target)).toEqual(['github:octo/api#100']);
    const jiraSelf = extract({
      container: { source: 'jira', key: 'ACME' },
      self: 'jira:acme.atlassian.net/ACME-1',
      body: 'ACME-1 duplicates ACME-2',
    });
    expect(jiraSelf.map((link) => link.target)).toEqual(['jira:acme.atlassian.net/ACME-2']);
  });

  it('returns valid links and nothing for empty input', () => {
    expect(extract({})).toEqual([]);
    const links = extract({ title: 'ACME-1', body: 'Fixes #2, blocks #3', branch: 'OPS-4' });
    for (const link of links) expect(Link.parse(link)).toEqual(link);
  });
});
