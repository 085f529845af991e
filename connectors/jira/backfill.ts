import type { Version2Client } from 'jira.js';
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
import { rateLimitedFetch } from '../shared/rate-limited-fetch.ts';
import { type JiraCredentials, parseJiraSettings } from './settings.ts';
import { memoizedReadable } from '../shared/readable.ts';

/**
 * Backfill and reconciliation over the Jira REST API (v2: descriptions come as wiki markup, as in
 * webhooks). Each issue read becomes a `jira:issue_updated` delivery around the issue bean, the
 * object webhooks carry, so `normalizeJiraDelivery` indexes it exactly as the webhook.
 * https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-search/
 */

const Cursor = z.union([z.object({ startAt: z.number().int().min(0) }), z.object({ nextPageToken: z.string() })]);
type Cursor = z.infer<typeof Cursor>;

interface JiraIssueBean {
  id: string;
  key: string;
  fields: { updated?: string; project?: { key?: string } } & Record<string, unknown>;
}

const credentialsOf = (settings: Readonly<Record<string, unknown>>) => {
  const parsed = parseJiraSettings(settings);
  if (!parsed.credentials) throw new SourceAccessError('This Jira connection has no read credentials: set `credentials` {email, apiToken} or {bearer}.', 401);
  return { site: parsed.site, credentials: parsed.credentials };
};

type ClientConfig = ConstructorParameters<typeof Version2Client>[0];

/** jira.js (with axios) loads on first use: only backfill and reconciliation need it, not a webhook's cold start. */
const clientFor = async (site: string, credentials: JiraCredentials, limits: RequestLimits): Promise<Version2Client> => {
  const { Version2Client } = await import('jira.js');
  return new Version2Client(({
    host: credentials.apiUrl ?? `https://${site}`,
    authentication:
      credentials.email && credentials.apiToken
        ? { basic: { email: credentials.email, apiToken: credentials.apiToken } }
        : { oauth2: { accessToken: credentials.bearer! } },
    // axios' fetch adapter with the rate-limited fetch: the same pacing and Retry-After handling as GitHub.
    baseRequestConfig: {
      adapter: 'fetch',
      env: {
        fetch: rateLimitedFetch({
          ...limits,
          maxRequestsPerSecond:
            limits.maxRequestsPerSecond > 0 ? Math.min(limits.maxRequestsPerSecond, credentials.maxRequestsPerSecond) : credentials.maxRequestsPerSecond,
        }),
      },
    },
  }) as ClientConfig);
};

const statusOf = (error: unknown): number | undefined => {
  const candidate = error as { status?: unknown; response?: { status?: unknown }; cause?: { response?: { status?: unknown } } };
  const status = candidate.status ?? candidate.response?.status ?? candidate.cause?.response?.status;
  return typeof status === 'number' ? status : undefined;
};

const asAccessError = (error: unknown, what: string): unknown => {
  const status = statusOf(error);
  if (status === 401 || status === 403) return new SourceAccessError(`Jira refused ${what} (${status}): check the credentials and their permissions.`, status, error);
  if (status === 400) return new SourceAccessError(`Jira rejected ${what} (400): check the connection's \`jql\`.`, 400, error);
  return error;
};

/** The webhook delivery this issue bean stands for, named by its state (`fields.updated`). */
export const deliveryForIssue = (site: string, issue: JiraIssueBean): SyntheticDelivery => {
  const updated = issue.fields.updated ?? '';
  const timestamp = Date.parse(updated.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return {
    deliveryId: `sync:jira:${site}/${issue.key}@${updated}`,
    event: 'jira:issue_updated',
    payload: { webhookEvent: 'jira:issue_updated', ...(Number.isNaN(timestamp) ? {} : { timestamp }), issue_event_type_name: 'issue_updated', issue },
  };
};

/** JQL's relative dates avoid the user-timezone reading of absolute ones: `updated >= -90m`. */
const minutesSince = (since: string, now: number): number => Math.max(1, Math.ceil((now - Date.parse(since)) / 60_000));

const withFilter = (credentials: JiraCredentials, clause: string) => (credentials.jql ? `(${credentials.jql}) AND (${clause})` : clause);

async function* search(client: Version2Client, site: string, credentials: JiraCredentials, jql: string, start: Cursor | undefined): AsyncGenerator<SyncPage> {
  const enhanced = (credentials.search ?? (site.endsWith('.atlassian.net') ? 'enhanced' : 'classic')) === 'enhanced';
  let cursor = start;
  for (;;) {
    let issues: JiraIssueBean[];
    let next: Cursor | null;
    let remaining: number | undefined;
    try {
      if (enhanced) {
        const token = cursor && 'nextPageToken' in cursor ? cursor.nextPageToken : undefined;
        const page = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({
          jql,
          maxResults: credentials.pageSize,
          fields: ['*all'],
          ...(token ? { nextPageToken: token } : {}),
        });
        issues = (page.issues ?? []) as unknown as JiraIssueBean[];
        next = page.nextPageToken ? { nextPageToken: page.nextPageToken } : null;
      } else {
        const startAt = cursor && 'startAt' in cursor ? cursor.startAt : 0;
        const page = await client.issueSearch.searchForIssuesUsingJql({ jql, startAt, maxResults: credentials.pageSize, fields: ['*all'] });
        issues = (page.issues ?? []) as unknown as JiraIssueBean[];
        const reached = (page.startAt ?? startAt) + issues.length;
        remaining = Math.max(0, (page.total ?? reached) - reached);
        next = issues.length > 0 && remaining > 0 ? { startAt: reached } : null;
      }
    } catch (error) {
      throw asAccessError(error, `the search \`${jql}\``);
    }
    yield { deliveries: issues.map((issue) => deliveryForIssue(site, issue)), cursor: next, ...(remaining === undefined ? {} : { remaining }) };
    if (!next) return;
    cursor = next;
  }
}

/** Open issues (any age) and issues updated since, oldest first so that paging is stable. */
async function* backfillPages(request: BackfillRequest): AsyncGenerator<SyncPage> {
  const { site, credentials } = credentialsOf(request.connection.settings);
  const client = await clientFor(site, credentials, request.limits);
  const minutes = minutesSince(request.since, request.limits.now());
  const jql = `${withFilter(credentials, `statusCategory != Done OR updated >= -${minutes}m`)} ORDER BY created ASC, key ASC`;
  const start = request.cursor === undefined || request.cursor === null ? undefined : Cursor.parse(request.cursor);
  yield* search(client, site, credentials, jql, start);
}

/** `jira:acme.atlassian.net/ACME-42` → `ACME-42`, for refs of this site */
const keyOfRef = (ref: string, site: string): string | undefined => {
  const prefix = `jira:${site}/`;
  return ref.startsWith(prefix) && /^[A-Z][A-Z0-9_]*-\d+$/.test(ref.slice(prefix.length)) ? ref.slice(prefix.length) : undefined;
};

/**
 * The fate of indexed issues. Jira answers 404 both for a deleted issue and for one the account may
 * not see: it is a deletion only when the issue's project is still readable. An issue moved to
 * another project answers under its new key: shaped like the webhook of the move (a `Key` changelog).
 */
async function verifyKeys(client: Version2Client, site: string, refs: readonly string[], now: string): Promise<SyncPage> {
  const page: Required<Pick<SyncPage, 'deliveries' | 'changes'>> = { deliveries: [], changes: [] };
  const projectReadable = memoizedReadable((projectKey) => client.projects.getProject({ projectIdOrKey: projectKey }), statusOf);
  for (const ref of refs) {
    const key = keyOfRef(ref, site);
    if (!key) continue;
    try {
      const issue = (await client.issues.getIssue({ issueIdOrKey: key, fields: ['*all'] })) as unknown as JiraIssueBean;
      if (issue.key !== key) {
        const moved = deliveryForIssue(site, issue);
        page.deliveries.push({
          deliveryId: `sync:jira:moved:${site}/${key}->${issue.key}`,
          event: moved.event,
          payload: { ...(moved.payload as object), changelog: { items: [{ field: 'Key', fromString: key, toString: issue.key }] } },
        });
      } else {
        page.deliveries.push(deliveryForIssue(site, issue));
      }
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 && (await projectReadable(key.split('-')[0]!))) {
        page.deliveries.push({ deliveryId: `sync:jira:deleted:${site}/${key}`, event: 'jira:issue_deleted', payload: { webhookEvent: 'jira:issue_deleted', issue: { key } } });
      } else if (status === 404 || status === 401 || status === 403) {
        page.changes.push({ causationKey: `sync:access_lost:${ref}@${now}`, change: { op: 'delete', ref, at: now, reason: 'access_lost' } });
      } else {
        throw error;
      }
    }
  }
  return { ...page, cursor: null };
}

async function* reconcilePages(request: ReconcileRequest): AsyncGenerator<SyncPage> {
  const { site, credentials } = credentialsOf(request.connection.settings);
  const client = await clientFor(site, credentials, request.limits);
  const minutes = minutesSince(request.since, Date.parse(request.now));
  yield* search(client, site, credentials, `${withFilter(credentials, `updated >= -${minutes}m`)} ORDER BY updated ASC, key ASC`, undefined);
  yield await verifyKeys(client, site, request.verify, request.now);
}

/** Jira's backfill capability: credentials in `settings.credentials`. */
export const jiraBackfill: BackfillCapability = {
  canRead: (settings) => {
    const parsed = z.object({ credentials: z.unknown() }).safeParse(settings);
    return parsed.success && parsed.data.credentials !== undefined && parsed.data.credentials !== null;
  },
  pages: backfillPages,
  reconcile: reconcilePages,
};
