import type { Octokit } from '@octokit/rest';
import * as z from 'zod';
import {
  type BackfillCapability,
  type BackfillRequest,
  type ReconcileRequest,
  type RequestLimits,
  SourceAccessError,
  type SyncPage,
  type SyntheticDelivery,
} from '../../core/connector.ts';
import { githubRef } from '../../core/references.ts';
import { rateLimitedFetch } from '../shared/rate-limited-fetch.ts';
import { type GithubCredentials, GithubSettings } from './settings.ts';
import { memoizedReadable } from '../shared/readable.ts';

/**
 * Backfill and reconciliation over the GitHub REST API. Every record read becomes a delivery shaped
 * like the webhook that reports it (`issues` / `pull_request` with the REST object, which is the
 * object webhooks carry), so `normalizeGithubDelivery` indexes it exactly as it would the webhook.
 * https://docs.github.com/en/rest/issues/issues#list-repository-issues
 * https://docs.github.com/en/rest/pulls/pulls#list-pull-requests
 */

type Kind = 'issue' | 'pull';

interface Listing {
  kind: Kind;
  params: (since: string) => Record<string, string>;
  /** sorted by `updated` descending without a `since` filter (pulls): stop at the first older record */
  stopBeforeSince?: boolean;
}

/** Open items whatever their age, then closed ones updated since. Sorted so that paging is stable. */
const BACKFILL_LISTINGS: readonly Listing[] = [
  { kind: 'issue', params: () => ({ state: 'open', sort: 'created', direction: 'asc' }) },
  { kind: 'issue', params: (since) => ({ state: 'closed', since, sort: 'updated', direction: 'asc' }) },
  { kind: 'pull', params: () => ({ state: 'open', sort: 'created', direction: 'asc' }) },
  { kind: 'pull', params: () => ({ state: 'closed', sort: 'updated', direction: 'desc' }), stopBeforeSince: true },
];

/** Everything updated since, open or closed. */
const RECONCILE_LISTINGS: readonly Listing[] = [
  { kind: 'issue', params: (since) => ({ state: 'all', since, sort: 'updated', direction: 'asc' }) },
  { kind: 'pull', params: () => ({ state: 'all', sort: 'updated', direction: 'desc' }), stopBeforeSince: true },
];

/** Where a run stands: which repository, which listing, and the next page's URL (from the `Link` header). */
const Cursor = z.object({
  repos: z.array(z.string()).nullable(),
  repo: z.number().int().min(0),
  listing: z.number().int().min(0),
  next: z.string().nullable(),
});
type Cursor = z.infer<typeof Cursor>;

const START: Cursor = { repos: null, repo: 0, listing: 0, next: null };

const credentialsOf = (settings: Readonly<Record<string, unknown>>): GithubCredentials => {
  const credentials = GithubSettings.parse(settings).credentials;
  if (!credentials) throw new SourceAccessError('This GitHub connection has no read credentials: set `credentials` {token, repos | org}.', 401);
  return credentials;
};

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Octokit loads on first use: only backfill and reconciliation need it, not a webhook's cold start. */
const clientFor = async (credentials: GithubCredentials, limits: RequestLimits): Promise<Octokit> => {
  const { Octokit } = await import('@octokit/rest');
  return new Octokit({
    auth: credentials.token,
    baseUrl: credentials.apiUrl ?? 'https://api.github.com',
    userAgent: 'tributary-backfill',
    log: silent,
    request: {
      fetch: rateLimitedFetch({
        ...limits,
        // The stricter of the hub's limit and the connection's own.
        maxRequestsPerSecond:
          limits.maxRequestsPerSecond > 0 ? Math.min(limits.maxRequestsPerSecond, credentials.maxRequestsPerSecond) : credentials.maxRequestsPerSecond,
      }),
    },
  });
};

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
};

/** 401/403 (not a rate limit: those are waited out below the client) and 404 on a listing need an operator. */
const asAccessError = (error: unknown, what: string): unknown => {
  const status = statusOf(error);
  if (status === 401 || status === 403) return new SourceAccessError(`GitHub refused to list ${what} (${status}): check the token and its scopes.`, status, error);
  if (status === 404) return new SourceAccessError(`GitHub answered 404 for ${what}: it does not exist, or the token cannot see it.`, 404, error);
  return error;
};

/** `<https://api.github.com/...&page=2>; rel="next", <...&page=5>; rel="last"` → rel → URL (RFC 8288). */
const parseLink = (header: string | undefined): Map<string, string> =>
  new Map(
    [...(header ?? '').matchAll(/<([^>]+)>\s*;\s*rel="([^"]+)"/g)].flatMap((match) => match[2]!.split(/\s+/).map((rel) => [rel, match[1]!] as const)),
  );

const pageOf = (url: string | undefined): number | undefined => {
  if (!url) return undefined;
  const page = Number(new URL(url).searchParams.get('page') ?? '1');
  return Number.isInteger(page) ? page : undefined;
};

/** `https://api.github.com/repos/Octo/API` → `Octo/API` */
const repoOfApiUrl = (url: unknown): string | undefined => (typeof url === 'string' ? /\/repos\/([^/]+\/[^/]+)\/?$/.exec(url)?.[1] : undefined);

type Record_ = { number: number; updated_at: string; html_url?: string; repository_url?: string; pull_request?: unknown; base?: { repo?: { full_name?: string; html_url?: string } } };

/** The `repository` object of the webhook, as far as the normalizer reads it. */
const repositoryOf = (record: Record_, fallback: string): { full_name: string; html_url?: string } => {
  const fullName = record.base?.repo?.full_name ?? repoOfApiUrl(record.repository_url) ?? fallback;
  const htmlUrl = record.base?.repo?.html_url ?? record.html_url?.replace(/\/(issues|pull)\/\d+$/, '');
  return { full_name: fullName, ...(htmlUrl ? { html_url: htmlUrl } : {}) };
};

/**
 * The webhook delivery this REST record stands for. Its id names the record's state (`updated_at`):
 * the same state read twice is the same delivery, deduplicated by the inbox.
 */
export const deliveryForRecord = (kind: Kind, record: Record_, fallbackRepo: string): SyntheticDelivery => {
  const repository = repositoryOf(record, fallbackRepo);
  const key = `${repository.full_name.toLowerCase()}#${record.number}@${record.updated_at}`;
  return kind === 'issue'
    ? { deliveryId: `sync:issue:${key}`, event: 'issues', payload: { action: 'edited', issue: record, repository } }
    : { deliveryId: `sync:pull:${key}`, event: 'pull_request', payload: { action: 'edited', pull_request: record, repository } };
};

const splitRepo = (fullName: string) => {
  const [owner, repo] = fullName.split('/') as [string, string];
  return { owner, repo };
};

const resolveRepos = async (octokit: Octokit, credentials: GithubCredentials): Promise<string[]> => {
  if (credentials.repos) return credentials.repos;
  try {
    const repos = await octokit.paginate('GET /orgs/{org}/repos', { org: credentials.org!, type: 'all', per_page: 100 });
    return repos.filter((repo) => !repo.archived).map((repo) => repo.full_name);
  } catch (error) {
    throw asAccessError(error, `the repositories of ${credentials.org}`);
  }
};

/** Pages of the listings, each with the cursor that resumes after it. */
async function* readListings(
  octokit: Octokit,
  credentials: GithubCredentials,
  listings: readonly Listing[],
  since: string,
  start: Cursor,
  /** reconciliation: a repository that can no longer be read is skipped (its items are found as access lost) */
  skipRefused = false,
): AsyncGenerator<SyncPage> {
  let cursor: Cursor = start.repos ? start : { ...start, repos: await resolveRepos(octokit, credentials) };
  const repos = cursor.repos!;
  while (cursor.repo < repos.length) {
    const fullName = repos[cursor.repo]!;
    const listing = listings[cursor.listing]!;
    const route = listing.kind === 'issue' ? 'GET /repos/{owner}/{repo}/issues' : 'GET /repos/{owner}/{repo}/pulls';
    let response;
    try {
      response = cursor.next
        ? await octokit.request(`GET ${cursor.next}`)
        : await octokit.request(route, { ...splitRepo(fullName), ...listing.params(since), per_page: credentials.pageSize });
    } catch (error) {
      const refused = asAccessError(error, `the ${listing.kind === 'issue' ? 'issues' : 'pull requests'} of ${fullName}`);
      if (!(skipRefused && refused instanceof SourceAccessError)) throw refused;
      cursor = { ...cursor, repo: cursor.repo + 1, listing: 0, next: null };
      continue;
    }
    const records = response.data as Record_[];
    const fresh = listing.stopBeforeSince ? records.filter((r) => Date.parse(r.updated_at) >= Date.parse(since)) : records;
    // Pull requests are issues too: the issue listings skip them, the pull listings carry their branch.
    const deliveries = fresh
      .filter((record) => listing.kind === 'pull' || !record.pull_request)
      .map((record) => deliveryForRecord(listing.kind, record, fullName));
    const links = parseLink(response.headers.link);
    const next = fresh.length < records.length ? undefined : links.get('next');
    const last = pageOf(links.get('last'));
    const current = pageOf(response.url) ?? 1;
    cursor = next
      ? { ...cursor, next }
      : cursor.listing + 1 < listings.length
        ? { ...cursor, listing: cursor.listing + 1, next: null }
        : { ...cursor, repo: cursor.repo + 1, listing: 0, next: null };
    const done = cursor.repo >= repos.length;
    yield {
      deliveries,
      cursor: done ? null : cursor,
      ...(next && last ? { remaining: (last - current) * credentials.pageSize } : {}),
    };
  }
}

async function* backfillPages(request: BackfillRequest): AsyncGenerator<SyncPage> {
  const credentials = credentialsOf(request.connection.settings);
  const octokit = await clientFor(credentials, request.limits);
  const start = request.cursor === undefined || request.cursor === null ? START : Cursor.parse(request.cursor);
  yield* readListings(octokit, credentials, BACKFILL_LISTINGS, request.since, start);
}

/** `github:octo/api#12` → its parts */
const parseRef = (ref: string): { fullName: string; number: number } | undefined => {
  const match = /^github:([^/]+\/[^#]+)#(\d+)$/.exec(ref);
  return match ? { fullName: match[1]!, number: Number(match[2]) } : undefined;
};

/**
 * The fate of one indexed item. GitHub answers 410 for a deleted issue, 301 (followed by fetch) for
 * a transferred one, and 404 for both "no such issue" and "a private repository you cannot see":
 * a 404 is a deletion only when the repository itself is still readable.
 */
async function verifyRefs(octokit: Octokit, refs: readonly string[], now: string): Promise<SyncPage> {
  const page: Required<Pick<SyncPage, 'deliveries' | 'changes'>> = { deliveries: [], changes: [] };
  const canReadRepo = memoizedReadable((fullName) => octokit.request('GET /repos/{owner}/{repo}', splitRepo(fullName)), statusOf);
  const accessLost = (ref: string) =>
    page.changes.push({ causationKey: `sync:access_lost:${ref}@${now}`, change: { op: 'delete', ref, at: now, reason: 'access_lost' } });
  for (const ref of refs) {
    const parsed = parseRef(ref);
    if (!parsed) continue;
    const repository = { full_name: parsed.fullName };
    const deleted = () =>
      page.deliveries.push({ deliveryId: `sync:deleted:${ref}`, event: 'issues', payload: { action: 'deleted', issue: { number: parsed.number }, repository } });
    try {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { ...splitRepo(parsed.fullName), issue_number: parsed.number });
      const record = data as unknown as Record_;
      const newRepo = repoOfApiUrl(record.repository_url) ?? parsed.fullName;
      const newRef = githubRef(newRepo, record.number);
      if (newRef !== ref) {
        // Shaped like `issues.transferred`: a tombstone pointing at the new ref, and the new issue indexed.
        page.deliveries.push({
          deliveryId: `sync:transferred:${ref}->${newRef}`,
          event: 'issues',
          payload: {
            action: 'transferred',
            issue: { number: parsed.number },
            repository,
            changes: { new_issue: record, new_repository: repositoryOf(record, newRepo) },
          },
        });
      } else if (!record.pull_request) {
        page.deliveries.push(deliveryForRecord('issue', record, parsed.fullName));
      }
    } catch (error) {
      const status = statusOf(error);
      if (status === 410) deleted();
      else if (status === 404) {
        if (await canReadRepo(parsed.fullName)) deleted();
        else accessLost(ref);
      } else if (status === 401 || status === 403) accessLost(ref);
      else throw error;
    }
  }
  return { ...page, cursor: null };
}

async function* reconcilePages(request: ReconcileRequest): AsyncGenerator<SyncPage> {
  const credentials = credentialsOf(request.connection.settings);
  const octokit = await clientFor(credentials, request.limits);
  yield* readListings(octokit, credentials, RECONCILE_LISTINGS, request.since, START, true);
  // Only items of this connection's repositories: another connection's would read as access lost.
  const repos = new Set(credentials.repos?.map((repo) => repo.toLowerCase()));
  const org = credentials.org?.toLowerCase();
  const inScope = (ref: string) => {
    const fullName = parseRef(ref)?.fullName;
    return fullName !== undefined && (repos.has(fullName) || (org !== undefined && fullName.split('/')[0] === org));
  };
  yield await verifyRefs(octokit, request.verify.filter(inScope), request.now);
}

/** GitHub's backfill capability: credentials in `settings.credentials`. */
export const githubBackfill: BackfillCapability = {
  canRead: (settings) => GithubSettings.safeParse(settings).data?.credentials !== undefined,
  pages: backfillPages,
  reconcile: reconcilePages,
};
