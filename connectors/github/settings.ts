import * as z from 'zod';

const REPO = /^[\w.-]+\/[\w.-]+$/;

/**
 * Read credentials for backfill and reconciliation: a token (personal access token, or a GitHub
 * App installation token) that can read the repositories, and which repositories: a list, or
 * every repository of an organization. Stored with the connection, never returned by the API.
 */
export const GithubCredentials = z
  .object({
    token: z.string().min(1),
    repos: z.array(z.string().regex(REPO, 'must be owner/name, e.g. octo/api')).min(1).optional(),
    org: z.string().min(1).optional(),
    /** the REST API root: https://api.github.com (default), or GitHub Enterprise Server's `https://ghe.acme.com/api/v3` */
    apiUrl: z.url().optional(),
    /** items per page (GitHub allows up to 100) */
    pageSize: z.number().int().min(1).max(100).default(100),
    /** never more requests than this per second */
    maxRequestsPerSecond: z.number().positive().max(100).default(10),
  })
  .refine((c) => c.repos || c.org, { message: 'name the repositories to read: `repos` (owner/name, …) or `org`' });
export type GithubCredentials = z.infer<typeof GithubCredentials>;

/** The settings of a GitHub connection: webhooks need none; backfill needs `credentials`. */
export const GithubSettings = z.object({ credentials: GithubCredentials.optional() });
export type GithubSettings = z.infer<typeof GithubSettings>;
