import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { githubExample } from '../fixtures/github-examples.ts';

/**
 * A loopback server answering like the GitHub REST API for what backfill and reconciliation read:
 * repository, issue and pull request listings with `Link` pagination, single issues (200, 301 for a
 * transferred issue, 404, 410 Gone), rate-limit headers, and refusals on demand. Records are made
 * from the real webhook example objects (`@octokit/webhooks-examples`), the same objects the REST
 * API returns.
 */

export type RestRecord = Record<string, any>;

interface RepoState {
  fullName: string;
  issues: RestRecord[];
  pulls: RestRecord[];
  /** answer every request about this repository with this status (403: access lost, 404: gone) */
  refuse?: 401 | 403 | 404;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

/** A rule answering matching requests with a canned response, a limited number of times. */
interface Interception {
  matches: (request: RecordedRequest) => boolean;
  times: number;
  respond: (response: ServerResponse) => void | Promise<void>;
}

const ISSUE = githubExample('issues', 'opened').payload as { issue: RestRecord };
const PULL = githubExample('pull_request', 'opened').payload as { pull_request: RestRecord };

export class FakeGithub {
  readonly requests: RecordedRequest[] = [];
  readonly repos = new Map<string, RepoState>();
  /** issue number per repo answered 410 Gone (deleted) */
  readonly deleted = new Set<string>();
  /** `owner/repo#n` → the API URL it moved to (301) */
  readonly moved = new Map<string, string>();
  #interceptions: Interception[] = [];
  #holds: { matches: (request: RecordedRequest) => boolean; reached: () => void; gate: Promise<void> }[] = [];
  #server: Server;
  token = 'ghp_test_token';
  /** the value of `x-ratelimit-reset` sent with every answer (epoch seconds) */
  rateLimitReset = 1_900_000_000;
  url = '';

  private constructor() {
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  static async start(): Promise<FakeGithub> {
    const fake = new FakeGithub();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  repo(fullName: string): RepoState {
    let repo = this.repos.get(fullName.toLowerCase());
    if (!repo) {
      repo = { fullName, issues: [], pulls: [] };
      this.repos.set(fullName.toLowerCase(), repo);
    }
    return repo;
  }

  /** An issue in the REST shape (the webhook example's object with these changes). */
  addIssue(fullName: string, number: number, changes: RestRecord = {}): RestRecord {
    const issue = {
      ...structuredClone(ISSUE.issue),
      id: 10_000 + number,
      number,
      title: `Issue ${number}`,
      url: `${this.url}/repos/${fullName}/issues/${number}`,
      repository_url: `${this.url}/repos/${fullName}`,
      html_url: `https://github.com/${fullName}/issues/${number}`,
      labels: [],
      assignee: null,
      assignees: [],
      milestone: null,
      body: null,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-11-01T00:00:00Z',
      ...changes,
    };
    this.repo(fullName).issues.push(issue);
    return issue;
  }

  /** A pull request: in the pulls listing in full, and in the issues listing as an issue with `pull_request`. */
  addPull(fullName: string, number: number, changes: RestRecord = {}): RestRecord {
    const base = structuredClone(PULL.pull_request);
    const pull: RestRecord = {
      ...base,
      id: 20_000 + number,
      number,
      title: `Pull ${number}`,
      url: `${this.url}/repos/${fullName}/pulls/${number}`,
      html_url: `https://github.com/${fullName}/pull/${number}`,
      labels: [],
      assignee: null,
      assignees: [],
      milestone: null,
      body: null,
      merged_at: null,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-11-01T00:00:00Z',
      head: { ...base.head, ref: `feature-${number}` },
      base: { ...base.base, repo: { ...base.base.repo, full_name: fullName, html_url: `https://github.com/${fullName}` } },
      ...changes,
    };
    // The pulls listing has no `merged` field (only merged_at), unlike the webhook payload.
    delete pull.merged;
    this.repo(fullName).pulls.push(pull);
    return pull;
  }

  /** Answers the next `times` requests matching `matches` with `respond` instead. */
  intercept(matches: (request: RecordedRequest) => boolean, respond: Interception['respond'], times = 1): void {
    this.#interceptions.push({ matches, respond, times });
  }

  /** Holds the next request matching `matches` until `release()`; `reached` resolves when it arrives. */
  hold(matches: (request: RecordedRequest) => boolean): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.#holds.push({ matches, reached, gate });
    return { reached: reachedPromise, release };
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  #send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(this.rateLimitReset),
      'x-ratelimit-resource': 'core',
      ...headers,
    });
    response.end(body === undefined ? undefined : JSON.stringify(body));
  }

  #notFound(response: ServerResponse) {
    this.#send(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  }

  /** Pages `records` like GitHub: `per_page`, `page`, and a `Link` header with next/last/first/prev. */
  #page(request: RecordedRequest, response: ServerResponse, records: RestRecord[]) {
    const perPage = Number(request.query.get('per_page') ?? '30');
    const page = Number(request.query.get('page') ?? '1');
    const last = Math.max(1, Math.ceil(records.length / perPage));
    const link = (n: number) => {
      const query = new URLSearchParams(request.query);
      query.set('page', String(n));
      return `${this.url}${request.path}?${query}`;
    };
    const rels: string[] = [];
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
    this.#send(response, 200, records.slice((page - 1) * perPage, page * perPage), rels.length ? { link: rels.join(', ') } : {});
  }

  #sorted(records: RestRecord[], query: URLSearchParams): RestRecord[] {
    const state = query.get('state') ?? 'open';
    const since = query.get('since');
    const sort = query.get('sort') ?? 'created';
    const direction = query.get('direction') ?? 'desc';
    const field = sort === 'updated' ? 'updated_at' : 'created_at';
    return records
      .filter((r) => state === 'all' || r.state === state)
      .filter((r) => !since || Date.parse(r.updated_at) >= Date.parse(since))
      .sort((a, b) => (direction === 'asc' ? 1 : -1) * (Date.parse(a[field]) - Date.parse(b[field]) || a.number - b.number));
  }

  async #handle(incoming: IncomingMessage, response: ServerResponse) {
    const url = new URL(incoming.url ?? '/', this.url);
    const request: RecordedRequest = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: incoming.headers.authorization };
    this.requests.push(request);
    const held = this.#holds.findIndex((h) => h.matches(request));
    if (held >= 0) {
      const [hold] = this.#holds.splice(held, 1);
      hold!.reached();
      await hold!.gate;
    }
    const interception = this.#interceptions.find((i) => i.times > 0 && i.matches(request));
    if (interception) {
      interception.times--;
      await interception.respond(response);
      return;
    }
    if (request.authorization !== `token ${this.token}`) {
      this.#send(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      return;
    }
    const match = /^\/repos\/([^/]+\/[^/]+)(?:\/(issues|pulls)(?:\/(\d+))?)?$/.exec(url.pathname);
    const org = /^\/orgs\/([^/]+)\/repos$/.exec(url.pathname);
    if (org) {
      const repos = [...this.repos.values()].filter((r) => r.fullName.split('/')[0]!.toLowerCase() === org[1]!.toLowerCase());
      this.#page(request, response, repos.map((r) => ({ full_name: r.fullName, archived: false, private: false })));
      return;
    }
    const repo = match ? this.repos.get(match[1]!.toLowerCase()) : undefined;
    if (!match || !repo) return this.#notFound(response);
    if (repo.refuse === 404) return this.#notFound(response);
    if (repo.refuse) {
      this.#send(response, repo.refuse, { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest', status: String(repo.refuse) });
      return;
    }
    const [, , collection, number] = match;
    if (!collection) {
      this.#send(response, 200, { full_name: repo.fullName, html_url: `https://github.com/${repo.fullName}`, private: false });
    } else if (number) {
      const key = `${repo.fullName.toLowerCase()}#${number}`;
      if (this.moved.has(key)) {
        this.#send(response, 301, { message: 'Moved Permanently', url: this.moved.get(key) }, { location: this.moved.get(key)! });
        return;
      }
      if (this.deleted.has(key)) {
        this.#send(response, 410, { message: 'This issue was deleted', documentation_url: 'https://docs.github.com/rest', status: '410' });
        return;
      }
      const records = collection === 'issues' ? this.#issuesView(repo) : repo.pulls;
      const found = records.find((r) => r.number === Number(number));
      if (found) this.#send(response, 200, found);
      else this.#notFound(response);
    } else {
      this.#page(request, response, this.#sorted(collection === 'issues' ? this.#issuesView(repo) : repo.pulls, url.searchParams));
    }
  }

  /** The issues endpoints list pull requests too, as issues with a `pull_request` member. */
  #issuesView(repo: RepoState): RestRecord[] {
    const asIssues = repo.pulls.map((pull) => ({
      ...structuredClone(ISSUE.issue),
      number: pull.number,
      title: pull.title,
      state: pull.state,
      created_at: pull.created_at,
      updated_at: pull.updated_at,
      repository_url: `${this.url}/repos/${repo.fullName}`,
      html_url: pull.html_url,
      pull_request: { url: pull.url, html_url: pull.html_url, merged_at: pull.merged_at },
    }));
    return [...repo.issues.filter((issue) => !this.deleted.has(`${repo.fullName.toLowerCase()}#${issue.number}`)), ...asIssues];
  }
}
