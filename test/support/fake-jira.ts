import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cloudPayload } from '../fixtures/jira-examples.ts';

/**
 * A loopback server answering like the Jira REST API v2 for what backfill and reconciliation read:
 * the classic search (`startAt`, `maxResults`, `total`), single issues (404 with Jira's message for
 * deleted or invisible issues), projects, and refusals or 429s on demand. Issues are the issue beans
 * of the recorded webhook fixtures with changes.
 */

export type IssueBean = Record<string, any>;

export interface JiraRequest {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

const TEMPLATE = cloudPayload('issue-created-acme-101').issue as IssueBean;

export class FakeJira {
  readonly requests: JiraRequest[] = [];
  readonly issues: IssueBean[] = [];
  /** project keys answered 403 (the account lost access) */
  readonly refusedProjects = new Set<string>();
  /** old key → new key (moved to another project) */
  readonly moved = new Map<string, string>();
  #interceptions: { matches: (r: JiraRequest) => boolean; respond: (response: ServerResponse) => void; times: number }[] = [];
  #server: Server;
  email = 'bot@acme.com';
  apiToken = 'jira-api-token';
  url = '';

  private constructor() {
    this.#server = createServer((request, response) => this.#handle(request, response));
  }

  static async start(): Promise<FakeJira> {
    const fake = new FakeJira();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  addIssue(key: string, changes: { summary?: string; updated?: string; created?: string; done?: boolean } = {}): IssueBean {
    const [project, number] = key.split('-') as [string, string];
    const issue = structuredClone(TEMPLATE);
    issue.id = String(10_000 + Number(number));
    issue.key = key;
    issue.self = `${this.url}/rest/api/2/issue/${issue.id}`;
    issue.fields.project = { ...issue.fields.project, key: project, name: project };
    issue.fields.summary = changes.summary ?? `Issue ${key}`;
    issue.fields.created = changes.created ?? '2026-01-01T09:00:00.000+0000';
    issue.fields.updated = changes.updated ?? '2026-11-01T09:00:00.000+0000';
    issue.fields.issuelinks = [];
    issue.fields.subtasks = [];
    delete issue.fields.parent;
    if (changes.done) issue.fields.status = { ...issue.fields.status, name: 'Done', statusCategory: { ...issue.fields.status.statusCategory, key: 'done', name: 'Done' } };
    this.issues.push(issue);
    return issue;
  }

  intercept(matches: (r: JiraRequest) => boolean, respond: (response: ServerResponse) => void, times = 1) {
    this.#interceptions.push({ matches, respond, times });
  }

  #send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    response.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    response.end(JSON.stringify(body));
  }

  /** The two clauses the connector writes: `statusCategory != Done` and `updated >= -Nm`. */
  #matches(issue: IssueBean, jql: string): boolean {
    const minutes = /updated >= -(\d+)m/.exec(jql)?.[1];
    const recent = minutes !== undefined && Date.parse(issue.fields.updated.replace(/(\d{2})(\d{2})$/, '$1:$2')) >= Date.now() - Number(minutes) * 60_000;
    const open = jql.includes('statusCategory != Done') && issue.fields.status.statusCategory.key !== 'done';
    return recent || open;
  }

  #handle(incoming: IncomingMessage, response: ServerResponse) {
    const url = new URL(incoming.url ?? '/', this.url);
    const request: JiraRequest = { path: url.pathname, query: url.searchParams, authorization: incoming.headers.authorization };
    this.requests.push(request);
    const interception = this.#interceptions.find((i) => i.times > 0 && i.matches(request));
    if (interception) {
      interception.times--;
      interception.respond(response);
      return;
    }
    if (request.authorization !== `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`) {
      this.#send(response, 401, { errorMessages: ['Client must be authenticated to access this resource.'], errors: {} });
      return;
    }
    if (url.pathname === '/rest/api/2/search' || url.pathname === '/rest/api/2/search/jql') {
      const jql = url.searchParams.get('jql') ?? '';
      const maxResults = Number(url.searchParams.get('maxResults') ?? '50');
      const found = this.issues
        .filter((issue) => !this.refusedProjects.has(issue.fields.project.key) && this.#matches(issue, jql))
        .sort((a, b) => a.fields.created.localeCompare(b.fields.created) || a.key.localeCompare(b.key));
      if (url.pathname === '/rest/api/2/search') {
        const startAt = Number(url.searchParams.get('startAt') ?? '0');
        this.#send(response, 200, { expand: 'schema,names', startAt, maxResults, total: found.length, issues: found.slice(startAt, startAt + maxResults) });
      } else {
        // The enhanced search pages with an opaque token and tells no total.
        const token = url.searchParams.get('nextPageToken');
        const startAt = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
        const more = startAt + maxResults < found.length;
        this.#send(response, 200, {
          issues: found.slice(startAt, startAt + maxResults),
          ...(more ? { nextPageToken: Buffer.from(String(startAt + maxResults)).toString('base64url') } : {}),
          isLast: !more,
        });
      }
      return;
    }
    const issueMatch = /^\/rest\/api\/2\/issue\/([^/]+)$/.exec(url.pathname);
    if (issueMatch) {
      const key = this.moved.get(issueMatch[1]!) ?? issueMatch[1]!;
      const issue = this.issues.find((i) => i.key === key || i.id === key);
      if (!issue || this.refusedProjects.has(issue.fields.project.key)) {
        this.#send(response, 404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
      } else this.#send(response, 200, issue);
      return;
    }
    const projectMatch = /^\/rest\/api\/2\/project\/([^/]+)$/.exec(url.pathname);
    if (projectMatch) {
      if (this.refusedProjects.has(projectMatch[1]!)) this.#send(response, 404, { errorMessages: [`No project could be found with key '${projectMatch[1]}'.`], errors: {} });
      else this.#send(response, 200, { id: '10000', key: projectMatch[1], name: projectMatch[1] });
      return;
    }
    this.#send(response, 404, { errorMessages: ['Not found'], errors: {} });
  }
}
