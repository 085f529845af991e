import * as z from 'zod';
import { Category, PriorityLevel, StatusCategory } from '../../core/work-item.ts';

/** `acme.atlassian.net`, `jira.acme.com:8443`, or a Data Center context path `jira.acme.com/jira`. */
const SITE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?(?:\/[\w.~-]+)*$/;

/** A site as users paste it (`https://Acme.atlassian.net/`) becomes the host Jira refs use (`acme.atlassian.net`). */
export const JiraSite = z
  .string()
  .trim()
  .transform((value) => value.replace(/^https?:\/\//i, '').replace(/\/+$/, '').toLowerCase())
  .pipe(z.string().regex(SITE, 'must be the Jira host, e.g. acme.atlassian.net (a Data Center context path is allowed: jira.acme.com/jira)'));

/** What a Jira custom field can feed; the field ids differ per site, so each connection maps its own. */
export const CustomFieldTarget = z.enum(['storyPoints', 'team', 'startDate', 'category', 'epicLink', 'sprint']);
export type CustomFieldTarget = z.infer<typeof CustomFieldTarget>;

const names = z.array(z.string().min(1)).min(1).optional();

/** One category rule: every condition given must hold (each lists alternatives, compared case-insensitively). */
export const CategoryRule = z
  .object({
    category: Category,
    issueTypes: names,
    projects: names,
    labels: names,
    components: names,
  })
  .refine((rule) => rule.issueTypes || rule.projects || rule.labels || rule.components, {
    message: 'a rule needs at least one of issueTypes, projects, labels or components',
  });
export type CategoryRule = z.infer<typeof CategoryRule>;

/**
 * Read credentials for backfill and reconciliation: Jira Cloud's account email + API token, or a
 * bearer token (OAuth 2.0 access token; Data Center personal access token). Stored with the
 * connection, never returned by the API.
 */
export const JiraCredentials = z
  .object({
    email: z.string().min(1).optional(),
    apiToken: z.string().min(1).optional(),
    bearer: z.string().min(1).optional(),
    /** the REST root when it is not `https://{site}` (a proxy, a test server) */
    apiUrl: z.url().optional(),
    /** narrows what is read, e.g. `project in (ACME, OPS)` */
    jql: z.string().min(1).optional(),
    /**
     * `enhanced`: `/rest/api/2/search/jql` with `nextPageToken` (Jira Cloud, where the classic search
     * was removed); `classic`: `/rest/api/2/search` with `startAt` + `total` (Data Center). Default:
     * enhanced for `*.atlassian.net`, classic otherwise.
     */
    search: z.enum(['enhanced', 'classic']).optional(),
    /** issues per page (Jira caps it at 100) */
    pageSize: z.number().int().min(1).max(100).default(50),
    /** never more requests than this per second */
    maxRequestsPerSecond: z.number().positive().max(100).default(5),
  })
  .refine((c) => (c.email && c.apiToken) || c.bearer, { message: 'give `email` + `apiToken`, or `bearer`' });
export type JiraCredentials = z.infer<typeof JiraCredentials>;

/**
 * The settings of a Jira connection (`POST /v1/connections {"source": "jira", ...}`). Rules are
 * declarative and applied when a delivery is normalized, so they also apply on replay.
 */
export const JiraSettings = z.object({
  site: JiraSite,
  /**
   * `hmac` (default): deliveries carry `X-Hub-Signature: sha256=…` made with the connection secret
   * (Jira Cloud, Data Center 10+). `basic`: for Data Center versions without webhook secrets, the
   * webhook sends HTTP Basic credentials instead, user `tributary` and the connection secret as password.
   */
  auth: z.enum(['hmac', 'basic']).default('hmac'),
  /** status name (any case) → status category; wins over the built-in mapping */
  statusRules: z.record(z.string().min(1), StatusCategory).default({}),
  /** priority name (any case) → level; wins over the built-in mapping */
  priorityRules: z.record(z.string().min(1), PriorityLevel).default({}),
  /** the first matching rule sets the category; without a match the core's defaults decide */
  categoryRules: z.array(CategoryRule).default([]),
  /** `customfield_10016` → what it holds */
  customFields: z.record(z.string().regex(/^customfield_\d+$/, 'must be a custom field id like customfield_10016'), CustomFieldTarget).default({}),
  /** read credentials for backfill and reconciliation (docs/backfill.md) */
  credentials: JiraCredentials.optional(),
});
export type JiraSettings = z.infer<typeof JiraSettings>;

/** The settings a stored connection holds, with defaults for anything added since it was created. */
export const parseJiraSettings = (settings: Readonly<Record<string, unknown>>): JiraSettings => JiraSettings.parse(settings);
