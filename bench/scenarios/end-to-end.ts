import { killHard } from '../../test/support/hub-process.ts';
import { createBenchConnection, startBenchHub } from '../processes.ts';
import { openedIssue, signedGithubRequest } from '../github-corpus.ts';
import { jiraBurst, jiraSubject } from '../jira-corpus.ts';
import { breakdown, completedSince, followEvents, metricsWindow } from '../hub-observer.ts';
import { closedLoop, openLoop, percentile } from '../load.ts';
import type { Figure } from '../report.ts';

const SCENARIO = '3. end to end';
const CONCURRENCY = 32;
const REQUESTS = 'tributary_storage_requests_total';
const BATCH_SUM = 'tributary_processing_batch_size_sum';
const BATCH_COUNT = 'tributary_processing_batch_size_count';

/** `github:codertocat/hello-world#12`: the subject of the events of `openedIssue(12)`. */
const githubSubject = (() => {
  const repo = (JSON.parse(openedIssue(1)) as { repository: { full_name: string } }).repository.full_name.toLowerCase();
  return (number: number) => `github:${repo}#${number}`;
})();

const seconds = (from: number, to = performance.now()) => (to - from) / 1000;
/** The subjects of GitHub issues `from + 1` … `from + count`. */
const githubSubjects = (from: number, count: number) => Array.from({ length: count }, (_, i) => githubSubject(from + i + 1));

/** Signed GitHub `issues.opened` deliveries of new issues `offset + i + 1`, posted as they go. */
const githubSender = (url: string, secret: string, offset: number, acks?: Map<string, number>) => async (i: number) => {
  const response = await fetch(url, await signedGithubRequest(secret, 'issues', openedIssue(offset + i + 1)));
  await response.arrayBuffer();
  acks?.set(githubSubject(offset + i + 1), performance.now());
  return response.status === 202;
};

/**
 * 3. Deliveries fully processed (indexed and published), the freshness of their events, what each
 * delivery costs in storage requests and write units, and a burst of new Jira issues.
 */
export const benchEndToEnd = async (quick: boolean, rawPutRate: number): Promise<Figure[]> => {
  const total = quick ? 100 : 1000;
  const jiraTotal = quick ? 200 : 2000;
  const figures: Figure[] = [];
  const hub = await startBenchHub('e2e');
  try {
    const { connection, hookUrl: url } = hub;
    const events = await followEvents(hub.url);

    // The sustained burst: also what it costs in storage requests (the SSE stream reads nothing per event).
    const window = await metricsWindow(hub.url);
    const started = performance.now();
    await closedLoop(total, CONCURRENCY, githubSender(url, connection.secret, 0));
    await events.until(githubSubjects(0, total));
    const sustained = total / seconds(started);
    const burst = await window.end(completedSince(window.first, total));
    const requests = burst.delta(REQUESTS);
    const batches = burst.delta(BATCH_COUNT);
    const meanBatch = batches > 0 ? burst.delta(BATCH_SUM) / batches : Number.NaN;

    const acks = new Map<string, number>();
    await openLoop(total, sustained / 2, githubSender(url, connection.secret, total, acks));
    await events.until(githubSubjects(total, total));
    const freshness = [...acks].map(([subject, ackedAt]) => events.arrivals.get(subject)! - ackedAt);
    const p99 = percentile(freshness, 99);

    // A burst of new Jira issues on the same hub, from the real Cloud payload shapes.
    const jira = await createBenchConnection(hub.url, { source: 'jira', name: 'bench jira', site: 'acme.atlassian.net' });
    const jiraRequests = jiraBurst(jira.secret, jiraTotal);
    const jiraWindow = await metricsWindow(hub.url);
    const jiraStarted = performance.now();
    const jiraAcks = await closedLoop(jiraTotal, CONCURRENCY, async (i) => {
      const response = await fetch(`${hub.url}/hooks/jira/${jira.id}`, jiraRequests[i]!);
      await response.arrayBuffer();
      return response.status === 202;
    });
    const ackedIn = seconds(jiraStarted);
    await events.until(Array.from({ length: jiraTotal }, (_, i) => jiraSubject(i)));
    const indexedAfter = seconds(jiraStarted);
    const jiraBurstWindow = await jiraWindow.end(completedSince(jiraWindow.first, jiraTotal));
    const jiraRate = jiraTotal / indexedAfter;
    const jiraRequestsPerDelivery = jiraBurstWindow.delta(REQUESTS) / jiraTotal;
    const jiraBatches = jiraBurstWindow.delta(BATCH_COUNT);
    events.close();

    figures.push(
      {
        scenario: SCENARIO,
        figure: 'deliveries/s indexed and published (sustained)',
        value: sustained,
        baseline: rawPutRate,
        baselineName: 'raw conditional PutItem/s (b)',
        ratio: sustained / rawPutRate,
        target: '≥ 0.35',
        met: sustained / rawPutRate >= 0.35,
        note: `${total} new GitHub issues at c=${CONCURRENCY}; ${meanBatch.toFixed(1)} deliveries per batch on average (${batches} batches)`,
      },
      {
        scenario: SCENARIO,
        figure: `freshness p99 ms, ack → event on the bus at ${Math.round(sustained / 2)}/s`,
        value: p99,
        target: '≤ 1000 ms',
        met: p99 <= 1000,
        note: `p50 ${percentile(freshness, 50).toFixed(1)} ms`,
      },
      {
        scenario: SCENARIO,
        figure: 'storage requests per delivery (amortized over the sustained burst)',
        value: requests / total,
        target: '≤ 3',
        met: requests / total <= 3,
        note:
          `${Math.round(requests)} requests for ${total} deliveries, from ack to publish and done, idle polling included, /metrics scrapes excluded; ` +
          `${breakdown(burst.deltaByLabel(REQUESTS, 'operation'), total)}; the Jira burst: ${jiraRequestsPerDelivery.toFixed(2)}`,
      },
      {
        scenario: SCENARIO,
        figure: `burst of ${jiraTotal} new Jira issues (signed, concurrency ${CONCURRENCY}): fully processed/s`,
        value: jiraRate,
        baseline: rawPutRate,
        baselineName: 'raw conditional PutItem/s (b)',
        ratio: jiraRate / rawPutRate,
        target: '≥ 150/s',
        met: jiraRate >= 150,
        note:
          `acked in ${ackedIn.toFixed(1)} s (${Math.round(jiraAcks.rate)}/s, ${jiraAcks.errors} errors), indexed and published after ${indexedAfter.toFixed(1)} s; ` +
          `${jiraBatches > 0 ? (jiraBurstWindow.delta(BATCH_SUM) / jiraBatches).toFixed(1) : 'n/a'} deliveries per batch; same hub, after the GitHub runs`,
      },
    );
  } finally {
    await killHard(hub.child);
  }

  figures.push(await benchWriteUnits(quick));
  return figures;
};

/**
 * Write units per delivery, by DynamoDB's rules (store/write-meter.ts), on a hub of its own: the
 * meter reads each written item before and after its write, so this run is smaller and its rate
 * means nothing.
 */
const benchWriteUnits = async (quick: boolean): Promise<Figure> => {
  const total = quick ? 50 : 300;
  const hub = await startBenchHub('wcu', { env: { TRIBUTARY_METER_WRITE_UNITS: 'true' } });
  try {
    const events = await followEvents(hub.url);
    const window = await metricsWindow(hub.url);
    await closedLoop(total, CONCURRENCY, githubSender(hub.hookUrl, hub.connection.secret, 0));
    await events.until(githubSubjects(0, total));
    events.close();
    const done = await window.end(completedSince(window.first, total));
    const table = done.delta('tributary_storage_write_units_total', { target: 'table' });
    const indexes = done.delta('tributary_storage_write_units_total', { target: 'indexes' });
    const perDelivery = (table + indexes) / total;
    const byRow = [...done.deltaByLabel('tributary_storage_write_units_total', 'row')]
      .sort((a, b) => b[1] - a[1])
      .map(([row, units]) => `${row} ${(units / total).toFixed(1)}`)
      .join(', ');
    return {
      scenario: SCENARIO,
      figure: 'write units per delivery (DynamoDB rules, GSI writes included)',
      value: perDelivery,
      target: '≤ 15',
      met: perDelivery <= 15,
      note: `table ${(table / total).toFixed(2)} + indexes ${(indexes / total).toFixed(2)}; by row: ${byRow}; a separate metered run of ${total} new GitHub issues at c=${CONCURRENCY} (TRIBUTARY_METER_WRITE_UNITS=true doubles each write's round trips)`,
    };
  } finally {
    await killHard(hub.child);
  }
};
