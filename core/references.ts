import type { CommentOrigin, Link, LinkOrigin, LinkType, Source } from './work-item.ts';

/**
 * Cross-tool reference extraction: the links a piece of free text (a title, a description, a
 * branch name) implies. Pure and tool-agnostic: GitHub uses it today, Jira and email reuse it.
 */

/** What {@link extractReferences} reads. */
export interface ReferenceInput {
  title?: string | null;
  body?: string | null;
  /** a branch name such as `feature/ACME-123-login` (GitHub pull requests) */
  branch?: string | null;
  /** where the text lives; a bare `#12` only resolves inside a GitHub repository */
  container: { source: Source; key: string };
  /** Jira project key → site (`ACME` → `acme.atlassian.net`); empty while no Jira connection is known */
  jiraProjects: Readonly<Record<string, string>>;
  /**
   * The tenant's Jira sites. With exactly one, a key of a project not known yet is taken to be that
   * site's (with low confidence) instead of being dropped or left without a site.
   */
  jiraSites?: readonly string[];
  /** the ref of the item the text belongs to: an item never links to itself */
  self?: string;
  /**
   * A bare GitHub mention (`#12`, `octo/api#12`) also counts, as a `mentions` link: in a commit
   * message it is how GitHub itself cross-references the issue.
   */
  githubMentions?: boolean;
}

/**
 * The cross-tool ref of a GitHub issue or pull request: `github:octo/api#12`.
 * GitHub owner and repository names are case-insensitive, so the ref is lowercased.
 */
export const githubRef = (repoFullName: string, number: number): string =>
  `github:${repoFullName.toLowerCase()}#${number}`;

/** The cross-tool ref of a Jira issue: `jira:acme.atlassian.net/ACME-42`. */
export const jiraRef = (site: string, key: string): string => `jira:${site.toLowerCase()}/${key.toUpperCase()}`;

/** The ref of a Jira key whose site is not known yet (no Jira connection): `jira:ACME-42`. */
export const unresolvedJiraRef = (key: string): string => `jira:${key.toUpperCase()}`;

/**
 * A Jira issue by its numeric id, `jira:acme.atlassian.net/id/10042`: Jira's issue link events name
 * issues only by id. A provisional ref: the pipeline resolves it to the issue's key ref.
 */
export const jiraIssueIdRef = (site: string, issueId: string | number): string => `jira:${site.toLowerCase()}/id/${issueId}`;

const JIRA_KEY_REF = /^jira:(.+)\/([A-Z][A-Z0-9_]*-\d+)$/;
const UNRESOLVED_JIRA_REF = /^jira:[A-Z][A-Z0-9_]*-\d+$/;
const JIRA_ID_REF = /^jira:.+\/id\/\d+$/;

/** The site and key of a `jira:{site}/{KEY}` ref, or undefined for any other ref. */
export const parseJiraRef = (ref: string): { site: string; key: string; project: string } | undefined => {
  const match = JIRA_KEY_REF.exec(ref);
  if (!match || JIRA_ID_REF.test(ref)) return undefined;
  const key = match[2]!;
  return { site: match[1]!, key, project: key.slice(0, key.lastIndexOf('-')) };
};

/**
 * A ref that stands in for another until the item behind it is indexed: a Jira key without its
 * site (`jira:ACME-42`) or a Jira issue id (`jira:{site}/id/10042`).
 */
export const isProvisionalRef = (ref: string): boolean => UNRESOLVED_JIRA_REF.test(ref) || JIRA_ID_REF.test(ref);

const CONFIDENCE = {
  closingKeyword: 1,
  dependencyPhrase: 0.9,
  titleKey: 0.9,
  branchKey: 0.9,
  bodyKey: 0.8,
  /** any key of an unknown project: it may be a Jira issue, or it may be `GPT-4` */
  unresolvedKey: 0.5,
} as const;

/**
 * Upper-case tokens that look like Jira keys but are standards, encodings and versions.
 * Only consulted while no Jira project is known; known project keys always win.
 */
const NOT_JIRA_PROJECTS: ReadonlySet<string> = new Set([
  'AES', 'ANSI', 'BASE', 'BIP', 'CP', 'CRC', 'CVE', 'CWE', 'COVID', 'DDR', 'ECMA', 'EIP', 'ERC', 'ES',
  'GMT', 'GPT', 'HTTP', 'IEC', 'IEEE', 'IPV', 'ISO', 'JSR', 'LATIN', 'MD', 'MP', 'PEP', 'RFC', 'RSA',
  'SHA', 'SSL', 'TLS', 'UCS', 'UTC', 'UTF', 'WCAG', 'WIN', 'WINDOWS', 'WPA', 'X',
]);

/*
 * Text that is not prose: fenced code (unclosed fences run to the end, as in CommonMark), inline
 * code spans (blankCodeSpans, below), and HTML comments, which is where PR templates keep their
 * `Fixes #123` examples. A fence is its whole run of backticks or tildes: a run that could give
 * back characters would be retried at every shorter length.
 */
const FENCED_CODE = /^ {0,3}(`{3,}(?!`)|~{3,}(?!~))[^\n]*\n[\s\S]*?(?:^ {0,3}\1[`~]*[ \t]*$|(?![\s\S]))/gm;
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;

const URL = /\bhttps?:\/\/[^\s<>"'`()[\]{}]+/gi;
const URL_TRAILING_PUNCTUATION = /(?<![.,;:!?*_~])[.,;:!?*_~]+$/;
const GITHUB_ITEM_URL = /^https?:\/\/(?:www\.)?github\.com\/([\w.-]+\/[\w.-]+)\/(?:issues|pull)\/(\d+)(?:[/?#]|$)/i;
const JIRA_BROWSE_URL = /^https?:\/\/([^/?#]+)(?:\/[^?#]*)?\/browse\/([A-Z][A-Z0-9]{1,9})-([1-9]\d*)(?:[/?#]|$)/;

/*
 * `owner/repo#12`, `#12` and `ACME-12`. The look-behinds keep them out of paths and words
 * (`a/b/c#1`, `&#123;`, `myACME-1`); a Jira key may follow `-`, `_` or `/` as in `fix-ACME-12`.
 */
const PLAIN_REF =
  /(?<![\w./&#-])([A-Za-z0-9][\w.-]*\/[\w.-]+)#(\d+)\b|(?<![\w&#/])#(\d+)\b|(?<![A-Za-z0-9])([A-Z][A-Z0-9]{1,9})-([1-9]\d*)(?![A-Za-z0-9])/g;
/** Lower-case keys are only trusted in branch names, and only for known projects. */
const BRANCH_KEY = /(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9]{1,9})-([1-9]\d*)(?![A-Za-z0-9])/g;

/** https://docs.github.com/en/issues/tracking-your-work-with-issues/linking-a-pull-request-to-an-issue */
const CLOSING_KEYWORD = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b(?:[ \t]*:)?/gi;
const BLOCKED_BY_PHRASE = /\b(?:blocked[ \t]+(?:by|on)|depends?[ \t]+on)\b(?:[ \t]*:)?/gi;
const BLOCKS_PHRASE = /\bblocks\b(?:[ \t]*:)?/gi;
/** between two refs of one list: `#1, #2 and #3`, `#1 & #2`, `#1 #2` */
const LIST_SEPARATOR = /^[ \t]*(?:,[ \t]*(?:and[ \t]+)?|&[ \t]*|and[ \t]+|\+[ \t]*)?$/i;
const AFTER_KEYWORD = /^[ \t]*$/;
/** a list separator is a few characters: a longer gap ends the list without being read */
const MAX_GAP = 16;

type Token =
  | { kind: 'github'; start: number; end: number; target: string }
  | { kind: 'jira'; start: number; end: number; project: string; key: string; site?: string };

interface Phrase {
  pattern: RegExp;
  type: LinkType;
  origin: LinkOrigin;
  /** confidence of a link whose target is fully resolved */
  confidence: number;
}

const PHRASES: readonly Phrase[] = [
  { pattern: CLOSING_KEYWORD, type: 'implements', origin: 'closing_keyword', confidence: CONFIDENCE.closingKeyword },
  { pattern: BLOCKED_BY_PHRASE, type: 'blocked_by', origin: 'key_mention', confidence: CONFIDENCE.dependencyPhrase },
  { pattern: BLOCKS_PHRASE, type: 'blocks', origin: 'key_mention', confidence: CONFIDENCE.dependencyPhrase },
];

const blank = (match: string): string => match.replace(/[^\n]/g, ' ');

const BACKTICK_RUN = /`+/g;

/**
 * Blanks code spans: a run of backticks up to the next run of the same length, as in CommonMark
 * (a run without one is text). Each run looks up the next run of its length, so a text of many
 * unmatched runs costs one pass, where a regular expression rescans the rest after each run.
 */
const blankCodeSpans = (text: string): string => {
  const runs = Array.from(text.matchAll(BACKTICK_RUN), (match) => ({ start: match.index, end: match.index + match[0].length }));
  const closer = new Array<number | undefined>(runs.length);
  const nextOfLength = new Map<number, number>();
  for (let index = runs.length - 1; index >= 0; index -= 1) {
    const length = runs[index]!.end - runs[index]!.start;
    closer[index] = nextOfLength.get(length);
    nextOfLength.set(length, index);
  }
  let masked = '';
  let copied = 0;
  for (let index = 0; index < runs.length; index += 1) {
    const close = closer[index];
    if (close === undefined) continue;
    const { start } = runs[index]!;
    const { end } = runs[close]!;
    masked += text.slice(copied, start) + blank(text.slice(start, end));
    copied = end;
    index = close;
  }
  return masked + text.slice(copied);
};

/** Blanks what is not prose, keeping every offset so tokens and phrases line up. */
const maskNonProse = (text: string): string => blankCodeSpans(text.replace(FENCED_CODE, blank).replace(HTML_COMMENT, blank));

interface Scanned {
  /** the masked text with URLs blanked too */
  prose: string;
  /** the masked text with URLs kept: gaps between a phrase and its refs are read here */
  masked: string;
  tokens: Token[];
}

const scanText = (text: string, container: ReferenceInput['container']): Scanned => {
  const masked = maskNonProse(text);
  const tokens: Token[] = [];
  // URLs are blanked whatever they are: a key inside `…/blob/ABC-1/…` is not a mention.
  const prose = masked.replace(URL, (match: string, start: number) => {
    const url = match.replace(URL_TRAILING_PUNCTUATION, '');
    const end = start + url.length;
    const github = GITHUB_ITEM_URL.exec(url);
    const jira = github ? null : JIRA_BROWSE_URL.exec(url);
    if (github) {
      tokens.push({ kind: 'github', start, end, target: githubRef(github[1]!, Number(github[2])) });
    } else if (jira) {
      const key = `${jira[2]}-${jira[3]}`;
      tokens.push({ kind: 'jira', start, end, project: jira[2]!, key, site: jira[1]!.toLowerCase() });
    }
    return ' '.repeat(url.length) + match.slice(url.length);
  });
  for (const match of prose.matchAll(PLAIN_REF)) {
    const start = match.index;
    const end = start + match[0].length;
    if (match[1] !== undefined) {
      tokens.push({ kind: 'github', start, end, target: githubRef(match[1], Number(match[2])) });
    } else if (match[3] !== undefined) {
      if (container.source === 'github') {
        tokens.push({ kind: 'github', start, end, target: githubRef(container.key, Number(match[3])) });
      }
    } else {
      tokens.push({ kind: 'jira', start, end, project: match[4]!, key: `${match[4]}-${match[5]}` });
    }
  }
  tokens.sort((a, b) => a.start - b.start);
  return { prose, masked, tokens };
};

/** The tokens governed by each phrase (`Fixes #1, #2 and ACME-3`), by token start. */
const findPhraseTokens = (scanned: Scanned): Map<number, Phrase> => {
  const governed = new Map<number, Phrase>();
  for (const phrase of PHRASES) {
    // Phrases and tokens both come in text order, so one cursor walks the tokens once per phrase.
    let first = 0;
    for (const match of scanned.prose.matchAll(phrase.pattern)) {
      let position = match.index + match[0].length;
      while (first < scanned.tokens.length && scanned.tokens[first]!.start < position) first += 1;
      let gap = AFTER_KEYWORD;
      for (let index = first; index < scanned.tokens.length; index += 1) {
        const token = scanned.tokens[index]!;
        if (token.start - position > MAX_GAP || !gap.test(scanned.masked.slice(position, token.start))) break;
        if (!governed.has(token.start)) governed.set(token.start, phrase);
        position = token.end;
        gap = LIST_SEPARATOR;
      }
    }
  }
  return governed;
};

/**
 * The links implied by an item's title, body and branch name.
 *
 * - Closing keywords (`Fixes #12`, `closes: octo/api#3, #4 and ACME-7`, a GitHub issue URL) give
 *   `implements` links with origin `closing_keyword` and confidence 1.
 * - `blocked by` / `blocked on` / `depends on` give `blocked_by`, `blocks` gives `blocks` (origin
 *   `key_mention`, confidence 0.9).
 * - Any other Jira key (`ACME-123`, or a `…/browse/ACME-123` URL) gives an `implements` link:
 *   origin `key_mention` (title 0.9, body 0.8) or `branch_name` (0.9). With known Jira projects only
 *   their keys count, as `jira:{site}/{KEY}` (a browse URL makes its project known for this text);
 *   with none known, any key-shaped token outside a denylist (`UTF-8`, `SHA-256`, …) counts as
 *   `jira:{KEY}` with confidence 0.5.
 * - Code spans, fenced code and HTML comments are ignored; so is text inside unrelated URLs.
 *
 * One link per (type, target) is returned, the most confident one, in order of appearance.
 */
export function extractReferences(input: ReferenceInput): Link[] {
  const { jiraProjects } = input;
  const hasKnownProjects = Object.keys(jiraProjects).length > 0;
  const onlySite = input.jiraSites?.length === 1 ? input.jiraSites[0] : undefined;
  const texts = [
    { text: input.title ?? '', keyConfidence: CONFIDENCE.titleKey, keyOrigin: 'key_mention' as const },
    { text: input.body ?? '', keyConfidence: CONFIDENCE.bodyKey, keyOrigin: 'key_mention' as const },
  ];
  const scans = texts.map((entry) => ({ ...entry, scanned: scanText(entry.text, input.container) }));

  // A `…/browse/ACME-1` URL names the site of its project for the whole item, even an unknown one.
  const sitesSeen = new Map<string, string>();
  for (const { scanned } of scans) {
    for (const token of scanned.tokens) {
      if (token.kind === 'jira' && token.site && !sitesSeen.has(token.project)) sitesSeen.set(token.project, token.site);
    }
  }

  /** The target of a Jira key and whether it is resolved, or undefined when the key does not count. */
  const resolveJiraKey = (project: string, key: string): { target: string; resolved: boolean } | undefined => {
    const site = jiraProjects[project] ?? sitesSeen.get(project);
    if (site !== undefined) return { target: jiraRef(site, key), resolved: true };
    if (NOT_JIRA_PROJECTS.has(project)) return undefined;
    // A project no issue has been seen of yet, on the tenant's only Jira site: most likely that site's.
    if (onlySite !== undefined) return { target: jiraRef(onlySite, key), resolved: false };
    if (hasKnownProjects) return undefined;
    return { target: unresolvedJiraRef(key), resolved: false };
  };

  const links = new Map<string, Link>();
  const add = (link: Link): void => {
    if (link.target === input.self) return;
    const id = `${link.type}\u0000${link.target}`;
    const existing = links.get(id);
    if (!existing) links.set(id, link);
    else if (link.confidence > existing.confidence) {
      // keep the first position in the map, take the stronger evidence
      links.set(id, link);
    }
  };

  for (const { scanned, keyConfidence, keyOrigin } of scans) {
    const governed = findPhraseTokens(scanned);
    for (const token of scanned.tokens) {
      const phrase = governed.get(token.start);
      if (token.kind === 'github') {
        // A bare GitHub mention says too little to be a link; only phrases make one.
        if (phrase) add({ type: phrase.type, target: token.target, origin: phrase.origin, confidence: phrase.confidence });
        else if (input.githubMentions) add({ type: 'mentions', target: token.target, origin: 'key_mention', confidence: CONFIDENCE.bodyKey });
        continue;
      }
      const resolution = resolveJiraKey(token.project, token.key);
      if (!resolution) continue;
      const confidence = resolution.resolved ? (phrase?.confidence ?? keyConfidence) : CONFIDENCE.unresolvedKey;
      if (phrase) add({ type: phrase.type, target: resolution.target, origin: phrase.origin, confidence });
      else add({ type: 'implements', target: resolution.target, origin: keyOrigin, confidence });
    }
  }

  if (input.branch) {
    for (const match of input.branch.matchAll(BRANCH_KEY)) {
      const project = match[1]!.toUpperCase();
      const isUpperCase = match[1] === project;
      // `fix-login-2` is no key: lower-case ones count only for projects known to be Jira's.
      if (!isUpperCase && jiraProjects[project] === undefined) continue;
      const resolution = resolveJiraKey(project, `${project}-${match[2]}`);
      if (!resolution) continue;
      add({
        type: 'implements',
        target: resolution.target,
        origin: 'branch_name',
        confidence: resolution.resolved ? CONFIDENCE.branchKey : CONFIDENCE.unresolvedKey,
      });
    }
  }

  return [...links.values()];
}

/** The origin of the links a GitHub comment states: comment ids are unique within the item it is on. */
export const githubCommentOrigin = (commentId: number | string): CommentOrigin => `comment:github:${commentId}`;

/** The origin of the links a Jira comment states: comment ids are unique per site, whichever key the issue has. */
export const jiraCommentOrigin = (site: string, commentId: number | string): CommentOrigin => `comment:jira:${site.toLowerCase()}/${commentId}`;

/**
 * What a comment names: every item its text refers to, read as {@link extractReferences} reads a
 * body (Jira keys, `owner/repo#12`, `#12` in a GitHub repository, GitHub and Jira URLs; code and
 * quotes of templates left out), as one `mentions` link each with the comment as origin. A comment
 * names an item; it does not implement or block it, whatever its words. Targets not placed on a
 * site (`jira:ACME-42`, while the tenant has no Jira site) are left out: a comment's links are
 * stated whole, and one naming a provisional ref would wait for that ref before any applied.
 */
export function commentMentions(
  input: Omit<ReferenceInput, 'title' | 'branch' | 'githubMentions'>,
  origin: CommentOrigin,
): Link[] {
  const mentions = new Map<string, Link>();
  for (const link of extractReferences({ ...input, githubMentions: true })) {
    if (isProvisionalRef(link.target)) continue;
    const seen = mentions.get(link.target);
    if (!seen || link.confidence > seen.confidence) {
      mentions.set(link.target, { type: 'mentions', target: link.target, origin, confidence: link.confidence });
    }
  }
  return [...mentions.values()];
}
