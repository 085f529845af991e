import { afterEach, describe, expect, it } from 'vitest';
import { repairAggregates } from '../../store/aggregates.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type FaultLedger, faultLedger } from '../support/fault-ledger.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { type StorageFaultOptions, injectStorageFaults } from '../support/storage-faults.ts';

const SEED = Number(process.env.FAULT_SEED ?? 7);
const DELIVERIES = 120;
/** A sender retries a delivery answered 5xx with the same delivery id, as Jira does (GitHub offers "Redeliver"). */
const SEND_ATTEMPTS = 10;

const template = githubExample('issues', 'opened').payload as any;
const REPO = String(template.repository.full_name).toLowerCase();

const issueOpened = (number: number) => {
  const payload = structuredClone(template);
  payload.issue.number = number;
  payload.issue.title = `Opened under storage faults ${number}`;
  // Every fifth issue waits on the one before it: dependency state and alerts are written under faults too.
  payload.issue.body = number % 5 === 0 ? `Blocked by #${number - 1}` : 'No dependencies';
  return payload;
};

/**
 * Sends every delivery (16 at a time), retrying 5xx answers with the same delivery id, and
 * counts what was sent and acknowledged.
 */
const sendBurst = async (hub: TestHub, connection: { id: string; secret: string }, ledger: FaultLedger) => {
  const queue = Array.from({ length: DELIVERIES }, (_, i) => ({ number: i + 1, deliveryId: crypto.randomUUID() }));
  const statuses = new Map<number, number>();
  const sender = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (let attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
        ledger.sent();
        const answer = await postGithub(hub.url, connection, 'issues', issueOpened(next.number), { deliveryId: next.deliveryId });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 500) {
          // A storage failure on the ack path is a 5xx problem, never a 202: nothing was promised.
          expect(answer.headers.get('content-type')).toContain('application/problem+json');
          continue;
        }
        expect(answer.status).toBe(202);
        ledger.acked(String(next.number));
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, sender));
  return statuses;
};

/** Counts what the index and the bus show for every delivery, then checks the counters add up. */
const reconcile = async (hub: TestHub, ledger: FaultLedger) => {
  const items = new Map<string, any>();
  let cursor: string | null = null;
  do {
    const { body } = await hub.api('GET', `/v1/items?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const item of body.items) items.set(item.ref, item);
    cursor = body.nextCursor;
  } while (cursor);
  const created = hub.publishedEvents().filter((e) => e.type === 'work.item.created');
  for (let number = 1; number <= DELIVERIES; number++) {
    const ref = `github:${REPO}#${number}`;
    const item = items.get(ref);
    if (item?.title === `Opened under storage faults ${number}`) ledger.indexed(String(number));
    // One delivery, one change: a second write of the item would be the same change applied twice.
    if (item && item.version !== 1) ledger.appliedTwice(String(number));
    for (const event of created.filter((e) => e.subject === ref)) ledger.published(String(number), event.id);
  }
  return items;
};

describe('fault: the storage engine fails 10% of calls for a period', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  const run = async (name: string, layer: StorageFaultOptions['layer']) => {
    const ledger = faultLedger(`storage: 10% of calls fail (${layer} layer, seed ${SEED})`, { publication: 'at-least-once' });
    process.stdout.write(`${name}: seed ${SEED} (FAULT_SEED=${SEED} reproduces the fault sequence, up to scheduling)\n`);
    hub = await startTestHub();
    const connection = await hub.createConnection('github');
    const faults = injectStorageFaults(hub.hub.db, { share: 0.1, seed: SEED, layer });

    faults.start();
    const statuses = await sendBurst(hub, connection, ledger);
    // The period: the burst, then processing under faults for 2,000 more calls (or until the backlog is done).
    const callsAtEnd = faults.counts.calls;
    await eventually(() => faults.counts.calls > callsAtEnd + 2_000 || hub!.hub.pipeline.processor.size === 0, { timeoutMs: 120_000, what: 'processing under faults' });
    faults.stop();
    await settled(hub, { timeoutMs: 180_000 });

    const items = await reconcile(hub, ledger);
    process.stdout.write(`${name}: ${JSON.stringify(faults.counts)}; answers ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    const injected = faults.counts.throttled + faults.counts.serverErrors;
    ledger.note(`${injected} faults in ${faults.counts.callsWhileOn} calls (${faults.counts.afterApplied} after the write), ${statuses.get(500) ?? 0} acks refused`);
    expect(injected, 'faults were injected').toBeGreaterThan(faults.counts.callsWhileOn * 0.05);
    expect(ledger.lostUnits()).toEqual([]);
    expect(ledger.counts()).toMatchObject({ acked: DELIVERIES, indexed: DELIVERIES, published: DELIVERIES, lost: 0, duplicated: 0 });

    // Derived data converges: blocked flags, and the counters once the sweep's repair has run.
    const blocked = (await hub.api('GET', '/v1/items?blocked=true&limit=200')).body.items.map((i: any) => i.ref).sort();
    expect(blocked).toEqual(Array.from({ length: DELIVERIES / 5 }, (_, i) => `github:${REPO}#${(i + 1) * 5}`).sort());
    const tenantId = 'default';
    await repairAggregates(hub.hub.db, tenantId, { now: new Date(), graceMs: 0 });
    const summary = (await hub.api('GET', '/v1/views/summary')).body;
    expect(summary.total).toBe(items.size);
  };

  it('loses no acknowledged delivery and applies none twice when the SDK retries the faults (DynamoDB throttling and 500s)', () =>
    run('storage (wire)', 'wire'), 240_000);

  it('loses no acknowledged delivery and applies none twice when every fault reaches the code', () => run('storage (caller)', 'caller'), 240_000);
});
