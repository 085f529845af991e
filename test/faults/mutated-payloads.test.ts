import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { githubExamples } from '../fixtures/github-examples.ts';
import { basicAuth, EMAIL_FIXTURES, emailFixture } from '../support/email.ts';
import { faultLedger } from '../support/fault-ledger.ts';
import { OPERATOR_TOKEN, type TestHub, postGithub, startTestHub } from '../support/hub.ts';
import { MIME_MUTATION_NAMES, type MutatedPayload, type PayloadSample, mutatePayload, mutationRandom } from '../support/mutate-payload.ts';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { createJsonLogger } from '../../functions/log.ts';
import { processDelivery } from '../../processing/batch.ts';
import { getDelivery } from '../../store/inbox.ts';
import { keys } from '../../store/keys.ts';
import { shuffled } from '../fixtures/work-items.ts';

const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const COUNT = Number(process.env.FAULT_MUTATIONS ?? 10_000);
/** `FAULT_ONLY=17,4242`: send only these mutations of the seed's run */
const ONLY = process.env.FAULT_ONLY?.split(',').map(Number);
const CONCURRENCY = 32;
/** Lower than the default 6 MB, so some mutations also meet the body limit. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAILBOX = 'platform@acme.example';
const JIRA_FIXTURES = join(import.meta.dirname, '../fixtures/jira');

const encode = (text: string) => new TextEncoder().encode(text);

/** Every real payload the connectors take: GitHub's examples, the Jira and the email fixtures. */
const samples = (): PayloadSample[] => {
  const github = ['issues', 'pull_request', 'pull_request_review', 'issue_comment', 'ping', 'push', 'label'].flatMap((event) =>
    githubExamples(event).map((e) => ({ family: 'github', name: e.name, body: encode(JSON.stringify(e.payload)), contentType: 'application/json', format: 'json' as const, event })),
  );
  const jira = ['cloud', 'data-center'].flatMap((dir) =>
    readdirSync(join(JIRA_FIXTURES, dir)).map((file) => ({
      family: 'jira',
      name: `jira/${dir}/${file}`,
      body: Uint8Array.from(readFileSync(join(JIRA_FIXTURES, dir, file))),
      contentType: 'application/json; charset=UTF-8',
      format: 'json' as const,
    })),
  );
  const email = readdirSync(EMAIL_FIXTURES)
    .filter((file) => file.endsWith('.eml'))
    .map((file) => ({ family: 'email-raw', name: `email/${file}`, body: Uint8Array.from(emailFixture(file)), contentType: 'message/rfc822', format: 'mime' as const }));
  const postmark = { family: 'email-postmark', name: 'email/postmark-inbound.json', body: Uint8Array.from(emailFixture('postmark-inbound.json')), contentType: 'application/json', format: 'json' as const };
  const sendgrid = ['sendgrid-parsed.multipart', 'sendgrid-raw.multipart'].map((file) => ({
    family: 'email-sendgrid',
    name: `email/${file}`,
    body: Uint8Array.from(emailFixture(file)),
    contentType: 'multipart/form-data; boundary=xYzZY',
    format: 'multipart' as const,
  }));
  return [...github, ...jira, ...email, postmark, ...sendgrid];
};

/**
 * What a real tool could send: a JSON object, or a raw message as mail servers change mail, under
 * the size limit, with the tool's own content type and event header. Accept, then judge: such a delivery is never refused
 * for its content (tools do not retry a 4xx), whatever its fields hold.
 */
const isWellFormed = (m: MutatedPayload): boolean => {
  if (m.contentType !== m.sample.contentType || m.event !== m.sample.event || m.body.length > MAX_BODY_BYTES) return false;
  // A raw message changed the way mail servers and forwarders change mail is still mail.
  if (m.sample.format === 'mime') return MIME_MUTATION_NAMES.some((name) => m.mutation.startsWith(`${name} `));
  if (m.sample.format !== 'json') return false;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(m.body));
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
};

const sha256 = (secret: string, body: Uint8Array) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

interface Outcome {
  mutation: MutatedPayload;
  status: number;
  deliveryId?: string;
  problem?: string;
}

/** Mutations most likely to hurt the processor: sampled first. */
const RISKY = /^(huge-string|deep-nesting|prototype-keys|odd-unicode|odd-numbers|duplicate-keys|huge-header|many-headers|deep-multipart)/;
const SAMPLE_RISKY = Number(process.env.FAULT_SAMPLE_RISKY ?? 150);
const SAMPLE_OTHERS = Number(process.env.FAULT_SAMPLE_OTHERS ?? 100);

describe('fault: 10,000 mutated real payloads, validly signed', () => {
  let hub: TestHub | undefined;
  afterAll(() => hub?.close());

  it('answers each with a 2xx or a 4xx problem+json, never a 5xx nor a 4xx to what a tool could send, and stays healthy', async () => {
    const ledger = faultLedger(`mutations: ${ONLY ? ONLY.length : COUNT} mutated GitHub/Jira/email payloads (seed ${SEED})`, { tracksIndex: false });
    process.stdout.write(`mutations: seed ${SEED} (FAULT_SEED=${SEED} reproduces this run; FAULT_ONLY=<index,…> sends only those)\n`);
    hub = await startTestHub({ env: { TRIBUTARY_MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
    const connections = {
      github: await hub.createConnection('github'),
      jira: await hub.createConnection('jira', OPERATOR_TOKEN, { site: 'acme.atlassian.net' }),
      'email-raw': await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'raw', address: MAILBOX }),
      'email-postmark': await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'postmark', address: MAILBOX }),
      'email-sendgrid': await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'sendgrid', address: MAILBOX }),
    } as Record<string, { id: string; secret: string }>;
    const all = samples();
    // The hub's own processor would spend minutes on thousands of accepted mutations; this case is
    // about the ack path, and processes a sample of them itself afterwards (below).
    await hub.hub.pipeline.processor.stop();

    /** Signed the way the sample's tool signs, over the mutated bytes: every mutation gets past verification. */
    const send = async (m: MutatedPayload): Promise<Outcome> => {
      const connection = connections[m.sample.family]!;
      const headers: Record<string, string> = m.contentType === undefined ? {} : { 'content-type': m.contentType };
      if (m.sample.family === 'github') {
        Object.assign(headers, { 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': sha256(connection.secret, m.body) });
        if (m.event !== undefined) headers['x-github-event'] = m.event;
      } else if (m.sample.family === 'jira') {
        Object.assign(headers, { 'x-atlassian-webhook-identifier': crypto.randomUUID(), 'x-hub-signature': sha256(connection.secret, m.body) });
      } else if (m.sample.family === 'email-raw') {
        headers['x-tributary-signature'] = sha256(connection.secret, m.body);
      } else {
        headers.authorization = basicAuth('tributary', connection.secret);
      }
      const source = m.sample.family.split('-')[0];
      const response = await fetch(`${hub!.url}/hooks/${source}/${connection.id}`, { method: 'POST', headers, body: new Uint8Array(m.body) });
      const text = await response.text();
      const outcome: Outcome = { mutation: m, status: response.status };
      if (response.status >= 400 && response.status < 500 && isWellFormed(m)) {
        outcome.problem = `a signed, well-formed delivery refused for its content: ${text.slice(0, 200)}`;
      } else if (response.status >= 400 && response.status < 500) {
        const type = response.headers.get('content-type') ?? '';
        let problem: any;
        try {
          problem = JSON.parse(text);
        } catch {
          problem = undefined;
        }
        const valid =
          type.startsWith('application/problem+json') &&
          problem?.status === response.status &&
          typeof problem?.type === 'string' &&
          typeof problem?.title === 'string' &&
          typeof problem?.detail === 'string';
        if (!valid) outcome.problem = `not a problem+json document: ${type} ${text.slice(0, 200)}`;
      } else if (response.status === 202) {
        const ack = JSON.parse(text);
        if (!['accepted', 'duplicate'].includes(ack.status)) outcome.problem = `202 without an ack: ${text.slice(0, 200)}`;
        if (ack.status === 'accepted') outcome.deliveryId = ack.deliveryId;
      } else if (response.status !== 200) {
        outcome.problem = `answered ${response.status}: ${text.slice(0, 200)}`;
      }
      return outcome;
    };

    const indexes = ONLY ?? Array.from({ length: COUNT }, (_, i) => i);
    const failures: Outcome[] = [];
    const accepted: { index: number; pk: string; mutation: string; risky: boolean }[] = [];
    const statuses = new Map<number, number>();
    let cursor = 0;
    const worker = async () => {
      while (cursor < indexes.length) {
        const mutation = mutatePayload(all, SEED, indexes[cursor++]!);
        ledger.sent();
        let outcome: Outcome;
        try {
          outcome = await send(mutation);
        } catch (error) {
          outcome = { mutation, status: 0, problem: `request failed: ${String(error)} (${String((error as Error).cause ?? 'no cause')})` };
        }
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        if (outcome.status >= 200 && outcome.status < 300) ledger.acked(String(mutation.index));
        if (outcome.status === 202 && outcome.deliveryId) {
          const source = mutation.sample.family.split('-')[0]!;
          accepted.push({
            index: mutation.index,
            pk: keys.delivery('default', source, outcome.deliveryId).pk,
            mutation: `${mutation.sample.name}: ${mutation.mutation}`,
            risky: RISKY.test(mutation.mutation) || mutation.body.length > 100_000,
          });
        }
        if (outcome.status >= 500 || outcome.problem) failures.push(outcome);
      }
    };
    const startedAt = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const barrageMs = Date.now() - startedAt;

    process.stdout.write(`mutations: answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`);
    // Compared as one line per failure: a diff of the outcomes themselves would print megabytes of payload.
    const report = failures.map((f) => `#${f.mutation.index} ${f.mutation.sample.name}: ${f.mutation.mutation.slice(0, 120)} → ${f.status} ${f.problem ?? ''}`);
    expect(report, `reproduce with FAULT_SEED=${SEED} FAULT_ONLY=${failures.map((f) => f.mutation.index).join(',')}`).toEqual([]);
    expect([...statuses.keys()].some((s) => s === 202), 'some mutations are accepted').toBe(true);

    // Still healthy: alive, answering the API, and taking real deliveries.
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    expect((await hub.api('GET', '/v1/items?limit=1')).status).toBe(200);
    const fresh = githubExamples('issues', { action: 'opened' })[0]!.payload as any;
    fresh.issue.number = 999_999;
    const freshAck = await postGithub(hub.url, connections.github!, 'issues', fresh);
    expect(freshAck.status).toBe(202);

    // Processing: a seeded sample of the accepted mutations (the riskiest first: huge, deep,
    // prototype keys, odd Unicode) and the real delivery go through the processor's own step,
    // `processDelivery`: each must end processed, ignored or failed with its reason, never throw
    // and never stay pending (a delivery that cannot be marked done is retried forever).
    await hub.hub.pipeline.stop();
    const random = mutationRandom(SEED, -1);
    const risky = shuffled(accepted.filter((a) => a.risky), random).slice(0, SAMPLE_RISKY);
    const others = shuffled(accepted.filter((a) => !a.risky), random).slice(0, SAMPLE_OTHERS);
    const sample = [...risky, ...others, { index: -1, pk: keys.delivery('default', 'github', freshAck.body.deliveryId).pk, mutation: 'the real delivery', risky: false }];
    const deps = { db: hub.hub.db, connectors: createConnectorRegistry(), clock: () => new Date(), log: createJsonLogger('silent') };
    const stuck: string[] = [];
    const outcomes = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < sample.length) {
          const one = sample[next++]!;
          let outcome: string;
          try {
            outcome = await processDelivery(deps, one.pk);
          } catch (error) {
            outcome = `threw ${String(error).slice(0, 200)}`;
          }
          outcomes.set(outcome.split(' ')[0]!, (outcomes.get(outcome.split(' ')[0]!) ?? 0) + 1);
          const status = (await getDelivery(hub!.hub.db, one.pk))?.status;
          if (!['processed', 'ignored', 'failed', 'skipped'].includes(outcome) || status === 'pending') {
            stuck.push(`#${one.index} ${one.mutation}: ${outcome}, delivery ${status}`);
          }
        }
      }),
    );
    ledger.note(`${(barrageMs / 1000).toFixed(1)} s · processed sample of ${sample.length}: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(stuck, `reproduce with FAULT_SEED=${SEED} FAULT_ONLY=${stuck.map((s) => s.split(' ')[0]!.slice(1)).join(',')}`).toEqual([]);
    const { body } = await hub.api('GET', `/v1/items/${encodeURIComponent(`github:${String(fresh.repository.full_name).toLowerCase()}#999999`)}`);
    expect(body.title).toBe(fresh.issue.title);
  }, 300_000);
});
