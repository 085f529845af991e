import type { DevelopmentChange, Normalized } from '../../core/changes.ts';
import type { NormalizeContext, StoredDelivery } from '../../core/connector.ts';
import { firstLineOf, recentCommits } from '../../core/development.ts';
import { extractReferences } from '../../core/references.ts';
import type { Branch, Commit } from '../../core/work-item.ts';
import { parsePayload } from './parse-payload.ts';
import { type PushedRepository, PushCommit, PushEvent, RefEvent } from './payload-schemas.ts';

/*
 * Development: the commits and branches that name work items, as Jira's development panel shows
 * them. Commits are linked by their message (`SHOP-42`, `#12`, `octo/api#12`, a GitHub issue or Jira
 * browse URL), branches by their name (`feature/SHOP-42-login`), the way Jira's GitHub integration
 * links them. Each named item gets one `development` change; an item not indexed yet gets it when
 * it arrives (the pipeline keeps changes for it).
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#push (#create, #delete)
 */

const BRANCH_PREFIX = 'refs/heads/';

const containerOf = (repository: PushedRepository) => ({ source: 'github' as const, key: repository.full_name.toLowerCase() });

/** The refs of the items a text names, in order of appearance. */
const namedInMessage = (message: string, repository: PushedRepository, context: NormalizeContext): string[] =>
  extractReferences({
    body: message,
    container: containerOf(repository),
    jiraProjects: context.jiraProjects,
    ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}),
    githubMentions: true,
  }).map((link) => link.target);

/** The refs of the Jira issues a branch name carries (`feature/SHOP-42-login`). */
const namedInBranch = (branch: string, repository: PushedRepository, context: NormalizeContext): string[] =>
  extractReferences({
    branch,
    container: containerOf(repository),
    jiraProjects: context.jiraProjects,
    ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}),
  }).map((link) => link.target);

/** `https://github.com/octo/api/tree/feature/SHOP-42`: each segment escaped, the slashes kept. */
const branchUrl = (repository: PushedRepository, name: string): string | undefined =>
  repository.html_url ? `${repository.html_url}/tree/${name.split('/').map(encodeURIComponent).join('/')}` : undefined;

const branchReport = (repository: PushedRepository, name: string, at: string, deleted: boolean): Branch => {
  const url = deleted ? undefined : branchUrl(repository, name);
  return { repository: repository.full_name, name, ...(url ? { url } : {}), at, ...(deleted ? { deleted: true } : {}) };
};

/** Collects, per named item in order of first mention, what the delivery says about it. */
class ChangesByRef {
  readonly #byRef = new Map<string, { commits: Commit[]; branches: Branch[] }>();

  add(ref: string, entry: { commit?: Commit; branch?: Branch }): void {
    const changes = this.#byRef.get(ref) ?? { commits: [], branches: [] };
    if (entry.commit) changes.commits.push(entry.commit);
    if (entry.branch) changes.branches.push(entry.branch);
    this.#byRef.set(ref, changes);
  }

  toNormalized(event: string, at: string, ignoredBecause: string): Normalized {
    if (this.#byRef.size === 0) return { outcome: 'ignored', event, reason: ignoredBecause };
    const changes = [...this.#byRef].map(
      ([ref, { commits, branches }]): DevelopmentChange => ({ op: 'development', ref, at, commits: recentCommits(commits), branches }),
    );
    return { outcome: 'changes', event, changes };
  }
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * `push`: each commit whose message names items is linked to them, with the branch it went to; a
 * branch whose name names items is reported to them as pushed to (`created` or not), or deleted
 * (`deleted: true`, which carries no commits). A force push (`forced: true`) is a push like any
 * other: its new commits are linked, and the ones it replaced stay listed, as GitHub keeps them
 * reachable and its issue timeline keeps their references. The change is timed by the push
 * (`repository.pushed_at`), else the latest commit, else the delivery.
 */
export const normalizePush = (payload: unknown, delivery: StoredDelivery, context: NormalizeContext): Normalized => {
  const push = parsePayload(PushEvent, payload, 'push');
  const { repository } = push;
  const branch = push.ref.startsWith(BRANCH_PREFIX) ? push.ref.slice(BRANCH_PREFIX.length) : undefined;
  // A commit GitHub sends incomplete is skipped, not the whole push.
  const commits = (push.commits ?? []).flatMap((raw) => {
    const commit = PushCommit.safeParse(raw);
    return commit.success ? [commit.data] : [];
  });
  const latestCommit = commits.map((c) => c.timestamp).filter((t): t is string => t !== undefined).sort().at(-1);
  const at = repository.pushed_at ?? latestCommit ?? delivery.receivedAt;

  const byRef = new ChangesByRef();
  for (const raw of commits) {
    const message = raw.message ?? '';
    const author = {
      ...(raw.author?.name ? { name: raw.author.name } : {}),
      ...(raw.author?.username ? { login: raw.author.username } : {}),
    };
    const commit: Commit = {
      sha: raw.id,
      repository: repository.full_name,
      message: firstLineOf(message),
      author,
      at: raw.timestamp ?? at,
      ...(raw.url ? { url: raw.url } : {}),
      branches: branch === undefined ? [] : [branch],
    };
    for (const ref of namedInMessage(message, repository, context)) byRef.add(ref, { commit });
  }
  if (branch !== undefined) {
    const report = branchReport(repository, branch, at, push.deleted === true);
    for (const ref of namedInBranch(branch, repository, context)) byRef.add(ref, { branch: report });
  }

  return byRef.toNormalized('push', at, whyIgnored(push, branch, commits.length));
};

const whyIgnored = (push: { ref: string; deleted?: boolean | null }, branch: string | undefined, commits: number): string => {
  const what = branch !== undefined ? `branch ${branch}` : push.ref;
  const name = branch !== undefined ? 'the branch name names no Jira issue' : 'only branches are linked to work items';
  if (push.deleted) return `push deleting ${what}: ${name}.`;
  const carried = commits === 0 ? 'it carries no commits' : `none of its ${plural(commits, 'commit')} names an issue, a pull request or a Jira issue`;
  return `push to ${what}: ${carried}, and ${name}.`;
};

/** `create` and `delete` of a branch whose name names items; tags name no work. */
const normalizeRefEvent = (event: 'create' | 'delete', payload: unknown, delivery: StoredDelivery, context: NormalizeContext): Normalized => {
  const { ref, ref_type: refType, repository } = parsePayload(RefEvent, payload, event);
  if (refType !== 'branch') {
    return { outcome: 'ignored', event, reason: `${event} of ${refType} ${ref}: only branches are linked to work items.` };
  }
  const at = repository.pushed_at ?? delivery.receivedAt;
  const report = branchReport(repository, ref, at, event === 'delete');
  const byRef = new ChangesByRef();
  for (const target of namedInBranch(ref, repository, context)) byRef.add(target, { branch: report });
  return byRef.toNormalized(event, at, `${event} of branch ${ref}: its name names no Jira issue.`);
};

export const normalizeCreate = (payload: unknown, delivery: StoredDelivery, context: NormalizeContext): Normalized =>
  normalizeRefEvent('create', payload, delivery, context);

export const normalizeDelete = (payload: unknown, delivery: StoredDelivery, context: NormalizeContext): Normalized =>
  normalizeRefEvent('delete', payload, delivery, context);
