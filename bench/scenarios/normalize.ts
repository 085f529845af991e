import { createHmac } from 'node:crypto';
import { normalizeGithubDelivery, verifyGithubSignature } from '../../connectors/github/index.ts';
import { githubCorpus } from '../github-corpus.ts';
import type { Figure } from '../report.ts';

const SECRET = 'bench-secret';

/** Runs `step` over the corpus for `budgetMs`; returns operations per second and units produced per second. */
const rateOf = <T>(corpus: readonly T[], budgetMs: number, step: (entry: T) => number) => {
  let operations = 0;
  let units = 0;
  const started = performance.now();
  while (performance.now() - started < budgetMs) {
    for (const entry of corpus) {
      units += step(entry);
      operations++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: operations / seconds, unitsPerSecond: units / seconds };
};

/** 1. Normalizing a delivery costs no more than verifying and parsing its bytes. */
export const benchNormalize = (quick: boolean): Figure[] => {
  const corpus = githubCorpus().map((d) => ({
    ...d,
    headers: { 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(d.body).digest('hex')}` },
  }));
  const budgetMs = quick ? 300 : 3000;
  const connection = { id: 'con_bench', settings: {}, secrets: [SECRET] };
  const context = { connection: { id: 'con_bench', settings: {} }, jiraProjects: {} };
  // Warm up both paths so the JIT does not favour whichever runs second.
  rateOf(corpus, budgetMs / 3, (d) => (JSON.parse(new TextDecoder().decode(d.body)) ? 1 : 0));
  const baseline = rateOf(corpus, budgetMs, (d) => {
    verifyGithubSignature({ headers: d.headers, body: d.body }, connection);
    return JSON.parse(new TextDecoder().decode(d.body)) ? 1 : 0;
  });
  rateOf(corpus, budgetMs / 3, (d) => normalizeGithubDelivery({ event: d.event, headers: {}, body: d.body, receivedAt: '2024-01-01T00:00:00.000Z' }, context).outcome.length);
  const normalize = rateOf(corpus, budgetMs, (d) => {
    const result = normalizeGithubDelivery({ event: d.event, headers: {}, body: d.body, receivedAt: '2024-01-01T00:00:00.000Z' }, context);
    return result.outcome === 'changes' ? result.changes.length : 0;
  });
  return [
    {
      scenario: '1. normalize (github, real corpus)',
      figure: 'deliveries/s normalized',
      value: normalize.perSecond,
      baseline: baseline.perSecond,
      baselineName: 'HMAC verify + JSON.parse of the same bytes',
      ratio: normalize.perSecond / baseline.perSecond,
      target: '≥ 1.0',
      met: normalize.perSecond / baseline.perSecond >= 1,
      note: `${Math.round(normalize.unitsPerSecond)} work items/s over ${corpus.length} payloads`,
    },
  ];
};
