import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { encodeBody } from '../../store/body-codec.ts';
import { createDb, ensureTable } from '../../store/db.ts';
import { keys } from '../../store/keys.ts';
import { killHard } from '../../test/support/hub-process.ts';
import { openedIssue, signedGithubRequest } from '../github-corpus.ts';
import { type LoadResult, closedLoop, openLoop } from '../load.ts';
import { benchDataDir, startBenchHub, startJsonLineProcess, stop } from '../processes.ts';
import type { Figure } from '../report.ts';

const CONCURRENCY = 32;

/** Baseline (b): the engine's raw conditional PutItem rate for a record shaped like an inbox entry. */
export const measureRawPuts = async (total: number): Promise<LoadResult> => {
  const { child, info } = await startJsonLineProcess<{ endpoint: string }>('store/embedded-engine-process.ts', [
    benchDataDir('engine'),
  ]);
  try {
    // Driven as the hub drives its embedded engine (unsigned requests).
    const db = createDb({ endpoint: info.endpoint, table: 'bench_raw', embedded: true });
    await ensureTable(db);
    const { compressed: body, encoding: bodyEncoding } = encodeBody('github', new TextEncoder().encode(openedIssue(1)));
    return await closedLoop(total, CONCURRENCY, async (i) => {
      const key = keys.delivery('ten_bench', 'github', `delivery-${i}`);
      await db.doc.send(
        new PutCommand({
          TableName: db.table,
          Item: { ...key, body, bodyEncoding, status: 'pending', qpk: 'inbox', qsk: `${new Date().toISOString()}#${key.pk}` },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    });
  } finally {
    await stop(child);
  }
};

const prepare = async (secret: string, count: number, offset: number) =>
  Promise.all(Array.from({ length: count }, (_, i) => signedGithubRequest(secret, 'issues', openedIssue(offset + i + 1))));

const sender = (url: string, requests: RequestInit[]) => async (i: number) => {
  const response = await fetch(url, requests[i]);
  await response.arrayBuffer();
  return response.status === 202;
};

/** 2. The ack path over HTTP at concurrency 32, against (a) a bare verifying endpoint and (b) raw PutItem. */
export const benchAckPath = async (quick: boolean): Promise<{ figures: Figure[]; rawPutRate: number }> => {
  const total = quick ? 200 : 3000;
  const raw = await measureRawPuts(total);

  const bare = await startJsonLineProcess<{ url: string }>('bench/baseline-server.ts', ['bench-secret']);
  let bareResult: LoadResult;
  try {
    const requests = await prepare('bench-secret', total, 0);
    bareResult = await closedLoop(total, CONCURRENCY, sender(`${bare.info.url}/hooks/github/con_bench`, requests));
  } finally {
    await stop(bare.child);
  }

  const hub = await startBenchHub('ack');
  let full: LoadResult;
  let half: LoadResult;
  try {
    const { connection, hookUrl: url } = hub;
    full = await closedLoop(total, CONCURRENCY, sender(url, await prepare(connection.secret, total, 0)));
    half = await openLoop(total, full.rate / 2, sender(url, await prepare(connection.secret, total, total)));
  } finally {
    await killHard(hub.child);
  }

  return {
    rawPutRate: raw.rate,
    figures: [
      {
        scenario: '2. ack path (HTTP, c=32)',
        figure: 'deliveries/s acknowledged',
        value: full.rate,
        baseline: raw.rate,
        baselineName: 'raw conditional PutItem/s (b)',
        ratio: full.rate / raw.rate,
        target: '≥ 0.7',
        met: full.rate / raw.rate >= 0.7,
        note: `bare verify+202 endpoint (a): ${Math.round(bareResult.rate)}/s; ours is ${(full.rate / bareResult.rate).toFixed(2)} of it`,
      },
      { scenario: '2. ack path (HTTP, c=32)', figure: 'ack latency p50 ms at max rate', value: full.p50, baseline: bareResult.p50, baselineName: 'bare endpoint p50', ratio: full.p50 / bareResult.p50 },
      { scenario: '2. ack path (HTTP, c=32)', figure: 'ack latency p99 ms at max rate', value: full.p99, baseline: bareResult.p99, baselineName: 'bare endpoint p99', ratio: full.p99 / bareResult.p99 },
      {
        scenario: '2. ack path (HTTP, fixed rate)',
        figure: `ack latency p99 ms at half the max rate (${Math.round(full.rate / 2)}/s)`,
        value: half.p99,
        target: '≤ 50 ms',
        met: half.p99 <= 50,
        note: `p50 ${half.p50.toFixed(1)} ms; ${half.errors} errors`,
      },
    ],
  };
};
