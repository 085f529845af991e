import { githubRef, jiraRef, unresolvedJiraRef } from './references.ts';

/**
 * What a search box query names (pure): one item by its key or ref, or words of a title.
 * - a Jira key, `ACME-42` (any case): the refs it has on the tenant's known Jira sites;
 * - a GitHub issue or pull request, `octo/api#12`, or its URL;
 * - a Jira issue URL, `https://acme.atlassian.net/browse/ACME-42`;
 * - a ref as the API writes it, `jira:acme.atlassian.net/ACME-42`, `github:octo/api#12`, `email:…`;
 * - anything else: words, each of which must start a word of the item's title.
 */
export type SearchQuery = { kind: 'refs'; refs: string[]; words: string[] } | { kind: 'words'; words: string[] };

const JIRA_KEY = /^([A-Za-z][A-Za-z0-9_]*)-(\d+)$/;
const GITHUB_SHORT = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)#(\d+)$/;
const GITHUB_URL = /^https?:\/\/(?:www\.)?github\.com\/([\w.-]+\/[\w.-]+)\/(?:issues|pull)\/(\d+)(?:[/?#].*)?$/i;
const JIRA_URL = /^https?:\/\/([^/\s]+)\/browse\/([A-Za-z][A-Za-z0-9_]*-\d+)(?:[/?#].*)?$/i;
const REF = /^(github|jira|email):\S+$/;

/** Lowercased words of a text, as titles are searched: letters and digits, two characters at least. */
export const titleWords = (text: string): string[] => [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? [])];

/** The query as typed → what to look up. `jiraSites` maps known Jira project keys to their site. */
export const parseSearch = (raw: string, jiraSites: Readonly<Record<string, string>>): SearchQuery => {
  const q = raw.trim();
  const words = titleWords(q);
  const key = JIRA_KEY.exec(q);
  if (key) {
    const project = key[1]!.toUpperCase();
    const site = jiraSites[project];
    // The ref without a site is how links name a key before its project is known (an alias).
    return { kind: 'refs', refs: [...(site ? [jiraRef(site, q)] : []), unresolvedJiraRef(q)], words };
  }
  const github = GITHUB_SHORT.exec(q) ?? GITHUB_URL.exec(q);
  if (github) return { kind: 'refs', refs: [githubRef(github[1]!, Number(github[2]))], words };
  const jiraUrl = JIRA_URL.exec(q);
  if (jiraUrl) return { kind: 'refs', refs: [jiraRef(jiraUrl[1]!, jiraUrl[2]!)], words };
  if (REF.test(q)) return { kind: 'refs', refs: [q], words };
  return { kind: 'words', words };
};

/** Whether every word of the query starts a word of the title (`check fail` finds "Checkout fails"). */
export const titleMatches = (title: string, words: readonly string[]): boolean => {
  if (words.length === 0) return false;
  const have = titleWords(title);
  return words.every((w) => have.some((h) => h.startsWith(w)));
};
