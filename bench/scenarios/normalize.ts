import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { EmailSettings } from '../../connectors/email/index.ts';
import type { Normalized } from '../../core/changes.ts';
import type { NormalizeContext, StoredDelivery } from '../../core/connector.ts';
import { CLOUD_HISTORY, cloudPayload, dataCenterPayload, jiraSettings, toBody } from '../../test/fixtures/jira-examples.ts';
import { EMAIL_FIXTURES, emailFixture } from '../../test/support/email.ts';
import { githubCorpus } from '../github-corpus.ts';
import type { Figure } from '../report.ts';

const SECRET = 'bench-secret';
const RECEIVED_AT = '2024-01-01T00:00:00.000Z';

interface Corpus {
  connector: 'github' | 'jira' | 'email';
  deliveries: StoredDelivery[];
  context: NormalizeContext;
  /** how the baseline reads the bytes after verifying them */
  parse: 'JSON.parse' | 'UTF-8 decode';
}

/** The real payload corpora: GitHub's published examples, the Jira Cloud and Data Center samples, the email messages. */
const corpora = (): Corpus[] => [
  {
    connector: 'github',
    deliveries: githubCorpus().map((d) => ({ event: d.event, headers: {}, body: d.body, receivedAt: RECEIVED_AT })),
    context: { connection: { id: 'con_bench', settings: {} }, jiraProjects: {} },
    parse: 'JSON.parse',
  },
  {
    connector: 'jira',
    deliveries: [...CLOUD_HISTORY.map(cloudPayload), dataCenterPayload()].map((p) => ({ event: p.webhookEvent, headers: {}, body: toBody(p), receivedAt: RECEIVED_AT })),
    context: { connection: { id: 'con_bench', settings: jiraSettings() }, jiraProjects: {} },
    parse: 'JSON.parse',
  },
  {
    connector: 'email',
    deliveries: readdirSync(EMAIL_FIXTURES)
      .filter((name) => name.endsWith('.eml'))
      .map((name) => ({ event: 'raw.message', headers: {}, body: emailFixture(name), receivedAt: RECEIVED_AT })),
    context: { connection: { id: 'con_bench', settings: EmailSettings.parse({ provider: 'raw', address: 'platform@acme.example' }) }, jiraProjects: {} },
    parse: 'UTF-8 decode',
  },
];

/**
 * Runs `step` over the corpus for `budgetMs`; returns deliveries per second and units produced per
 * second. A step may answer with a promise (email's normalize): only then is it awaited, so the
 * synchronous steps are timed without a microtask each.
 */
const rateOf = async <T>(corpus: readonly T[], budgetMs: number, step: (entry: T) => number | Promise<number>) => {
  let operations = 0;
  let units = 0;
  const started = performance.now();
  while (performance.now() - started < budgetMs) {
    for (const entry of corpus) {
      const produced = step(entry);
      units += typeof produced === 'number' ? produced : await produced;
      operations++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: operations / seconds, unitsPerSecond: units / seconds };
};

/** 1. Normalizing a delivery (from its stored bytes, parsing included) against verifying and parsing the same bytes. */
export const benchNormalize = async (quick: boolean): Promise<Figure[]> => {
  const connectors = createConnectorRegistry();
  const budgetMs = quick ? 200 : 3000;
  const figures: Figure[] = [];
  for (const { connector, deliveries, context, parse } of corpora()) {
    const normalize = connectors.get(connector)!.normalize;
    const signed = deliveries.map((d) => ({ body: d.body, signature: createHmac('sha256', SECRET).update(d.body).digest() }));
    const decoder = new TextDecoder('utf-8');
    const verifyAndParse = (d: (typeof signed)[number]) => {
      if (!timingSafeEqual(createHmac('sha256', SECRET).update(d.body).digest(), d.signature)) throw new Error('signature');
      const text = decoder.decode(d.body);
      return parse === 'JSON.parse' ? (JSON.parse(text) ? 1 : 0) : text.length > 0 ? 1 : 0;
    };
    const changesOf = (result: Normalized) => (result.outcome === 'changes' ? result.changes.length : 0);
    const normalizeOne = (d: StoredDelivery) => {
      const result = normalize(d, context);
      return result instanceof Promise ? result.then(changesOf) : changesOf(result);
    };
    // Warm up both paths so the JIT does not favour whichever runs second.
    await rateOf(signed, budgetMs / 3, verifyAndParse);
    await rateOf(deliveries, budgetMs / 3, normalizeOne);
    const baseline = await rateOf(signed, budgetMs, verifyAndParse);
    const result = await rateOf(deliveries, budgetMs, normalizeOne);
    const ratio = result.perSecond / baseline.perSecond;
    figures.push({
      scenario: `1. normalize (${connector}, real corpus)`,
      figure: 'deliveries/s normalized (parsing included)',
      value: result.perSecond,
      baseline: baseline.perSecond,
      baselineName: `HMAC verify + ${parse} of the same bytes`,
      ratio,
      target: '≥ 1.0',
      met: ratio >= 1,
      note: `${Math.round(result.unitsPerSecond)} work items/s over ${deliveries.length} payloads`,
    });
  }
  return figures;
};
