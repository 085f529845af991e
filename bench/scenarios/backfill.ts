import { OPERATOR_TOKEN } from '../../test/support/hub.ts';
import { killHard } from '../../test/support/hub-process.ts';
import { FakeGithub } from '../../test/support/fake-github.ts';
import { githubExample } from '../../test/fixtures/github-examples.ts';
import { breakdown, followEvents, metricSum, metricsWindow, scrapeMetrics } from '../hub-observer.ts';
import { startBenchHub } from '../processes.ts';
import type { Figure } from '../report.ts';

const SCENARIO = '4. backfill (GitHub REST on loopback)';
const REPOS = ['acme/api', 'acme/web', 'acme/worker'];
/** 20 people, in the REST shape of the example issue's user. */
const PEOPLE = (() => {
  const user = (githubExample('issues', 'opened').payload as { issue: { user: Record<string, unknown> } }).issue.user;
  return Array.from({ length: 20 }, (_, i) => ({
    ...structuredClone(user),
    login: `dev${i}`,
    id: 5_000 + i,
    node_id: `U_dev${i}`,
    html_url: `https://github.com/dev${i}`,
    url: `https://api.github.com/users/dev${i}`,
  }));
})();
const LABELS = ['bug', 'feature', 'checkout', 'infra', 'customer-reported'].map((name, i) => ({ id: 900 + i, node_id: `LA_${i}`, name, color: 'd73a4a', default: false, description: null }));
const REQUESTS = 'tributary_storage_requests_total';
const POLL_MS = 250;
const DAY = 86_400_000;

/**
 * Fills the fake server: `perRepo` issues in each repository, one in ten closed within the backfill's
 * window, two in three assigned (among 20 people), each with one or two labels, half with a body,
 * one in ten mentioning the issue before it (`#n`: a link).
 */
const populate = (github: FakeGithub, perRepo: number) => {
  const now = Date.now();
  for (const repo of REPOS) {
    for (let n = 1; n <= perRepo; n++) {
      const assignee = n % 3 === 0 ? null : PEOPLE[(n * 7) % PEOPLE.length]!;
      const closed = n % 10 === 0;
      const updated = new Date(now - ((n % 60) + 1) * DAY).toISOString();
      github.addIssue(repo, n, {
        title: `Checkout fails for carts over ${n} items`,
        body: n % 2 ? `Seen in production since the ${(n % 28) + 1}th.${n % 10 === 1 && n > 1 ? ` Related to #${n - 1}.` : ''}` : null,
        created_at: new Date(now - 400 * DAY + n * 3_600_000).toISOString(),
        updated_at: updated,
        labels: [LABELS[n % LABELS.length]!, ...(n % 4 === 0 ? [LABELS[(n + 2) % LABELS.length]!] : [])],
        assignee,
        assignees: assignee ? [assignee] : [],
        ...(closed ? { state: 'closed', state_reason: 'completed', closed_at: updated } : { state: 'open' }),
      });
    }
  }
};

/**
 * What the source and the loopback allow: the same issue listings read with plain `fetch`,
 * following `Link: rel="next"`, storing nothing (in the note, next to the hub's rate).
 */
const readAllPages = async (github: FakeGithub, since: string): Promise<{ records: number; seconds: number; pages: number }> => {
  const started = performance.now();
  let records = 0;
  let pages = 0;
  for (const repo of REPOS) {
    for (const query of [`state=open&sort=created&direction=asc`, `state=closed&since=${encodeURIComponent(since)}&sort=updated&direction=asc`]) {
      let next: string | undefined = `${github.url}/repos/${repo}/issues?${query}&per_page=100`;
      while (next) {
        const response: Response = await fetch(next, { headers: { authorization: `token ${github.token}`, accept: 'application/vnd.github+json' } });
        const page = (await response.json()) as unknown[];
        records += page.length;
        pages++;
        next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      }
    }
  }
  return { records, pages, seconds: (performance.now() - started) / 1000 };
};

const api = async (url: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
};

/** 4. A GitHub backfill of new issues from a REST server with real `Link` pagination, through a hub as users run it. */
export const benchBackfill = async (quick: boolean, rawPutRate: number): Promise<Figure[]> => {
  const perRepo = quick ? 100 : 1000;
  const total = perRepo * REPOS.length;
  const github = await FakeGithub.start();
  try {
    populate(github, perRepo);
    const since = new Date(Date.now() - 90 * DAY).toISOString();
    await readAllPages(github, since); // warms the server and the client
    const read = await readAllPages(github, since);
    if (read.records !== total) throw new Error(`the fake server listed ${read.records} issues, not ${total}`);
    github.requests.length = 0;

    const hub = await startBenchHub('backfill', {
      connection: { source: 'github', name: 'bench backfill', credentials: { token: github.token, repos: REPOS, apiUrl: github.url } },
    });
    try {
      const events = await followEvents(hub.url);
      const window = await metricsWindow(hub.url);
      const started = performance.now();
      const start = await api(hub.url, 'POST', `/v1/connections/${hub.connection.id}/backfill`, { since });
      if (start.status !== 202) throw new Error(`POST backfill answered ${start.status}: ${JSON.stringify(start.body)}`);
      let job = start.body;
      let polls = 0;
      while (job.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        job = (await api(hub.url, 'GET', `/v1/jobs/${job.id}`)).body;
        polls++;
      }
      const observed = (performance.now() - started) / 1000;
      if (job.status !== 'done') throw new Error(`the backfill ended ${job.status}: ${job.error}`);
      if (job.counts.records !== total || job.counts.applied !== total) throw new Error(`the backfill counted ${JSON.stringify(job.counts)}, expected ${total} records applied`);
      await events.until(REPOS.flatMap((repo) => Array.from({ length: perRepo }, (_, i) => `github:${repo}#${i + 1}`)));
      const published = (performance.now() - started) / 1000;
      events.close();
      const done = await window.end();

      // What one job poll costs (the bench's own requests, subtracted): a few polls between two scrapes.
      const PROBES = 20;
      const probeStart = await scrapeMetrics(hub.url);
      for (let i = 0; i < PROBES; i++) await api(hub.url, 'GET', `/v1/jobs/${job.id}`);
      const probeEnd = await scrapeMetrics(hub.url);
      const perPoll = Math.max(0, (metricSum(probeEnd, REQUESTS) - metricSum(probeStart, REQUESTS) - done.scrapeCost(REQUESTS)) / PROBES);
      const requests = done.delta(REQUESTS) - polls * perPoll;

      const serverSeconds = (Date.parse(job.finishedAt) - Date.parse(job.createdAt)) / 1000;
      const rate = total / serverSeconds;
      const readRate = read.records / read.seconds;
      const listings = github.requests.filter((r) => /\/(issues|pulls)$/.test(r.path)).length;
      return [
        {
          scenario: SCENARIO,
          figure: `records/s backfilled (${total} issues, job start → done)`,
          value: rate,
          baseline: rawPutRate,
          baselineName: 'raw conditional PutItem/s (b)',
          ratio: rate / rawPutRate,
          target: '≥ 300/s',
          met: rate >= 300,
          note:
            `${job.counts.pages} pages of 100 (${listings} listing requests), ${REPOS.length} repositories, default limit of 10 requests/s; ` +
            `the same pages read alone with fetch: ${Math.round(readRate)} records/s; ` +
            `done after ${serverSeconds.toFixed(1)} s (seen by polling after ${observed.toFixed(1)} s), every work.item.created published after ${published.toFixed(1)} s`,
        },
        {
          scenario: SCENARIO,
          figure: 'storage requests per record',
          value: requests / total,
          note: `${Math.round(requests)} requests, until every event was published; job polls (${polls} × ${perPoll.toFixed(1)}) and /metrics scrapes excluded; ${breakdown(done.deltaByLabel(REQUESTS, 'operation'), total)}`,
        },
      ];
    } finally {
      await killHard(hub.child);
    }
  } finally {
    await github.close();
  }
};
