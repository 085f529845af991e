import { extractReferences, githubRef } from '../../core/references.ts';
import type { Link } from '../../core/work-item.ts';

/** What a request's text can name. */
export interface LinkText {
  subject: string;
  body: string;
  mailbox: string;
  jiraProjects: Readonly<Record<string, string>>;
  self: string;
}

const GITHUB_URL = /\bhttps?:\/\/(?:www\.)?github\.com\/([\w.-]+\/[\w.-]+)\/(?:issues|pull)\/(\d+)\b/gi;
/** `octo/api#12`, not inside a path or a word (`a/b/c#1`, `&#123;`) */
const GITHUB_SHORT = /(?<![\w./&#-])([A-Za-z0-9][\w.-]*\/[\w.-]+)#(\d+)\b/g;

const BARE_GITHUB_CONFIDENCE = { subject: 0.9, body: 0.8 } as const;

/**
 * The items a request names, as `relates` links: a request does not implement a ticket, it is
 * about one. Jira keys and phrases come from the core's {@link extractReferences}
 * (`blocked by ACME-1` keeps its `blocked_by` meaning); GitHub issues and pull requests named
 * without a phrase (`octo/api#12`, an issue URL) count too, since in mail that is how they are
 * cited. Every link has origin `key_mention`.
 */
export function extractEmailLinks(text: LinkText): Link[] {
  const links = new Map<string, Link>();
  const targets = new Set<string>();
  const add = (link: Link): void => {
    if (link.target === text.self) return;
    const key = `${link.type} ${link.target}`;
    const seen = links.get(key);
    if (!seen || link.confidence > seen.confidence) links.set(key, link);
    targets.add(link.target);
  };
  const extracted = extractReferences({
    title: text.subject,
    body: text.body,
    container: { source: 'email', key: text.mailbox },
    jiraProjects: text.jiraProjects,
    self: text.self,
  });
  for (const link of extracted) {
    const type = link.type === 'blocked_by' || link.type === 'blocks' ? link.type : 'relates';
    add({ type, target: link.target, origin: 'key_mention', confidence: link.confidence });
  }
  for (const [field, value] of [['subject', text.subject], ['body', text.body]] as const) {
    for (const pattern of [GITHUB_URL, GITHUB_SHORT]) {
      for (const match of value.matchAll(pattern)) {
        const target = githubRef(match[1]!, Number(match[2]));
        // A phrase already made a stronger link to this target: a bare mention adds nothing.
        if (targets.has(target)) continue;
        add({ type: 'relates', target, origin: 'key_mention', confidence: BARE_GITHUB_CONFIDENCE[field] });
      }
    }
  }
  return [...links.values()];
}
