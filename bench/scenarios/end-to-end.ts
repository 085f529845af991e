import { OPERATOR_TOKEN } from '../../test/support/hub.ts';
import { killHard } from '../../test/support/hub-process.ts';
import { startBenchHub } from '../processes.ts';
import { openedIssue, signedGithubRequest } from '../github-corpus.ts';
import { closedLoop, openLoop, percentile } from '../load.ts';
import type { Figure } from '../report.ts';

/** Follows the hub's SSE stream and records when each issue number's `work.item.created` arrived. */
const followEvents = async (url: string) => {
  const arrivals = new Map<number, number>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const controller = new AbortController();
  const response = await fetch(`${url}/v1/events/stream`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` }, signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split('\n').find((l) => l.startsWith('data: '));
          if (!message.includes('event: work.item.created') || !data) continue;
          const number = Number(JSON.parse(data.slice(6)).subject.split('#').at(-1));
          if (!arrivals.has(number)) arrivals.set(number, performance.now());
          for (const w of waiters.filter((w) => arrivals.size >= w.count)) w.resolve();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    arrivals,
    until: (count: number, timeoutMs = 900_000) =>
      new Promise<void>((resolve, reject) => {
        if (arrivals.size >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`only ${arrivals.size} of ${count} events arrived`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    close: () => controller.abort(),
  };
};

/** 3. Deliveries fully processed (indexed and published), and the freshness of their events. */
export const benchEndToEnd = async (quick: boolean, rawPutRate: number): Promise<Figure[]> => {
  const total = quick ? 100 : 1000;
  const hub = await startBenchHub('e2e');
  try {
    const { connection, hookUrl: url } = hub;
    const events = await followEvents(hub.url);
    const send = (offset: number, acks: Map<number, number>) => async (i: number) => {
      const response = await fetch(url, await signedGithubRequest(connection.secret, 'issues', openedIssue(offset + i + 1)));
      await response.arrayBuffer();
      acks.set(offset + i + 1, performance.now());
      return response.status === 202;
    };

    const started = performance.now();
    await closedLoop(total, 32, send(0, new Map()));
    await events.until(total);
    const sustained = total / ((performance.now() - started) / 1000);

    const acks = new Map<number, number>();
    await openLoop(total, sustained / 2, send(total, acks));
    await events.until(2 * total);
    events.close();
    const freshness = [...acks].map(([n, ackedAt]) => events.arrivals.get(n)! - ackedAt);
    const p99 = percentile(freshness, 99);
    return [
      {
        scenario: '3. end to end',
        figure: 'deliveries/s indexed and published (sustained)',
        value: sustained,
        baseline: rawPutRate,
        baselineName: 'raw conditional PutItem/s (b)',
        ratio: sustained / rawPutRate,
        target: '≥ 0.35',
        met: sustained / rawPutRate >= 0.35,
      },
      {
        scenario: '3. end to end',
        figure: `freshness p99 ms, ack → event on the bus at ${Math.round(sustained / 2)}/s`,
        value: p99,
        target: '≤ 1000 ms',
        met: p99 <= 1000,
        note: `p50 ${percentile(freshness, 50).toFixed(1)} ms`,
      },
    ];
  } finally {
    await killHard(hub.child);
  }
};
