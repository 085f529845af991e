import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { sha256Hex } from '../../core/ids.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { DELIVERY_STATUSES, type DeliveryStatus, deliveryIndexAttributes } from '../../store/delivery-index.ts';
import { type DeliveryFilter, countDeliveries, queryDeliveries, requeueDelivery, settleReplayedDelivery } from '../../store/deliveries.ts';
import { finishDeliveries, finishDelivery, getDelivery, loadDeliveries, recordDelivery } from '../../store/inbox.ts';
import { keys } from '../../store/keys.ts';
import { uniqueTable } from '../support/hub.ts';
import { installKillSwitch } from '../support/kill-switch.ts';

/*
 * Issue 15 ("store less"): the delivery record joins only the queue; a pending delivery is listed
 * from the queue, a finished (or re-queued) one by a small listing row. These read the table the
 * way GET /v1/deliveries, bulk retry and replay do (store/deliveries.ts `queryDeliveries`).
 */

let seq = 0;
const newDelivery = (tenantId: string, options: { connectionId?: string; source?: 'github' | 'jira'; receivedAt?: string } = {}) => {
  const body = new TextEncoder().encode(JSON.stringify({ action: 'opened', n: seq }));
  return {
    tenantId,
    connectionId: options.connectionId ?? 'con_a',
    source: options.source ?? ('github' as const),
    deliveryId: `d-${seq++}`,
    event: 'issues',
    headers: { 'x-github-event': 'issues' },
    body,
    bodySha256: sha256Hex(body),
    bodyBytes: body.byteLength,
    receivedAt: options.receivedAt ?? new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  };
};

const INDEX_KEYS = ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'];

describe('the deliveries listing', () => {
  let db: Db;
  let tenants = 0;
  const tenant = () => `ten_list${tenants++}`;
  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('listing') });
    await ensureTable(db);
  });

  const row = async (pk: string, sk: 'DLV' | 'LIST') =>
    (await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk, sk }, ConsistentRead: true }))).Item;

  /** Every page, newest first, as GET /v1/deliveries reads them. */
  const listAll = async (filter: Omit<DeliveryFilter, 'statuses'> & { statuses?: readonly DeliveryStatus[] }, limit = 2) => {
    const out: { pk: string; status: string; attempts: number }[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await queryDeliveries(db, { statuses: DELIVERY_STATUSES, ...filter }, { order: 'newest', limit, ...(after ? { after } : {}) });
      out.push(...page.rows.map((r) => ({ pk: r.pk, status: r.status, attempts: r.attempts })));
      if (!page.more) return out;
      after = page.next;
    }
    throw new Error('the listing did not end');
  };

  const finishAll = async (pks: string[], status: 'processed' | 'failed' | 'ignored', reason?: string) =>
    finishDeliveries(
      db,
      (await loadDeliveries(db, pks)).map((delivery) => ({ delivery, outcome: { status, ...(reason ? { reason } : {}), at: new Date().toISOString() } })),
    );

  /** A record as written before listing rows: its index keys on itself (the ack path's put of old). */
  const recordAsBefore = async (delivery: ReturnType<typeof newDelivery>, status: DeliveryStatus = 'pending') => {
    const { pk } = await recordDelivery(db, delivery);
    const attributes = deliveryIndexAttributes({ ...delivery, pk }, status);
    const names = Object.keys(attributes);
    const finished = status === 'pending' ? '' : ', processedAt = :at, expiresAt = :e REMOVE qpk, qsk';
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk, sk: 'DLV' },
        UpdateExpression: `SET #s = :s, ${names.map((n) => `${n} = :${n}`).join(', ')}${finished}`,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': status,
          ...Object.fromEntries(names.map((n) => [`:${n}`, attributes[n]])),
          ...(status === 'pending' ? {} : { ':at': new Date().toISOString(), ':e': Math.floor(Date.now() / 1000) + 86_400 }),
        },
      }),
    );
    return pk;
  };

  it('acknowledges with one conditional put of one row that joins the queue and no other index', async () => {
    const t = tenant();
    const counter = installKillSwitch(db);
    const { pk } = await recordDelivery(db, newDelivery(t));
    counter.remove();
    expect(counter.writes).toBe(1);
    const record = (await row(pk, 'DLV'))!;
    expect(record).toMatchObject({ status: 'pending', qpk: 'inbox', qsk: `${record.receivedAt}#${pk}` });
    for (const name of INDEX_KEYS) expect(record).not.toHaveProperty(name);
    expect(await row(pk, 'LIST')).toBeUndefined();
  });

  it('lists a finished delivery under its status through a listing row without body or headers, expiring with the record', async () => {
    const t = tenant();
    const { pk } = await recordDelivery(db, newDelivery(t));
    await finishAll([pk], 'failed', 'issue.number: Invalid input');
    const record = (await row(pk, 'DLV'))!;
    const listing = (await row(pk, 'LIST'))!;
    for (const name of [...INDEX_KEYS, 'qpk', 'qsk']) expect(record).not.toHaveProperty(name);
    expect(listing).not.toHaveProperty('body');
    expect(listing).not.toHaveProperty('headers');
    expect(listing).toMatchObject({ status: 'failed', reason: 'issue.number: Invalid input', expiresAt: record.expiresAt, processedAt: record.processedAt });
    expect(listing.gsi1pk).toBe(keys.deliveriesByStatus(t, 'failed'));
    expect(await listAll({ tenantId: t, statuses: ['failed'] })).toEqual([{ pk, status: 'failed', attempts: 0 }]);
    expect(await listAll({ tenantId: t, statuses: ['pending'] })).toEqual([]);
    expect(await listAll({ tenantId: t })).toEqual([{ pk, status: 'failed', attempts: 0 }]);
  });

  it("lists pending deliveries from the queue: the tenant's only, filtered by connection and source, newest first, page after page", async () => {
    const [t, other] = [tenant(), tenant()];
    const a1 = await recordDelivery(db, newDelivery(t, { connectionId: 'con_a' }));
    await recordDelivery(db, newDelivery(other, { connectionId: 'con_a' }));
    const b1 = await recordDelivery(db, newDelivery(t, { connectionId: 'con_b', source: 'jira' }));
    const a2 = await recordDelivery(db, newDelivery(t, { connectionId: 'con_a' }));
    await recordDelivery(db, newDelivery(other, { connectionId: 'con_b', source: 'jira' }));
    const a3 = await recordDelivery(db, newDelivery(t, { connectionId: 'con_a' }));
    const done = await recordDelivery(db, newDelivery(t, { connectionId: 'con_a' }));
    await finishAll([done.pk], 'processed');

    const pending = (pk: string) => ({ pk, status: 'pending', attempts: 0 });
    expect(await listAll({ tenantId: t, statuses: ['pending'] }, 1)).toEqual([a3, a2, b1, a1].map((d) => pending(d.pk)));
    expect(await listAll({ tenantId: t, statuses: ['pending'], connectionId: 'con_a' })).toEqual([a3, a2, a1].map((d) => pending(d.pk)));
    expect(await listAll({ tenantId: t, statuses: ['pending'], source: 'jira' })).toEqual([pending(b1.pk)]);
    // One cursor across statuses: the processed one in its place among the pending ones.
    expect(await listAll({ tenantId: t }, 2)).toEqual([{ pk: done.pk, status: 'processed', attempts: 0 }, ...[a3, a2, b1, a1].map((d) => pending(d.pk))]);
    const oldest = await queryDeliveries(db, { tenantId: t, statuses: ['pending'] }, { order: 'oldest', limit: 10 });
    expect(oldest.rows.map((r) => r.pk)).toEqual([a1, b1, a2, a3].map((d) => d.pk));
  });

  it('lists processed deliveries by connection and source from their status partition, each in one index; failed ones keep partitions of their own', async () => {
    const t = tenant();
    const made = [
      { connectionId: 'con_a', source: 'github' as const },
      { connectionId: 'con_b', source: 'jira' as const },
      { connectionId: 'con_a', source: 'github' as const },
      { connectionId: 'con_c', source: 'github' as const },
      { connectionId: 'con_a', source: 'github' as const },
    ];
    const pks: string[] = [];
    for (const options of made) pks.push((await recordDelivery(db, newDelivery(t, options))).pk);
    await finishAll(pks.slice(0, 4), 'processed');
    await finishAll([pks[4]!], 'failed', 'issue.number: Invalid input');

    const processedListing = (await row(pks[0]!, 'LIST'))!;
    expect(processedListing.gsi1pk).toBe(keys.deliveriesByStatus(t, 'processed'));
    for (const name of ['gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk']) expect(processedListing).not.toHaveProperty(name);
    const failedListing = (await row(pks[4]!, 'LIST'))!;
    expect(failedListing).toMatchObject({ gsi2pk: keys.deliveriesByConnection(t, 'con_a', 'failed'), gsi3pk: keys.deliveriesBySource(t, 'github', 'failed') });

    const processed = (pk: string) => ({ pk, status: 'processed', attempts: 0 });
    // Pages of one: the filter skips the other connections' rows between them.
    expect(await listAll({ tenantId: t, statuses: ['processed'], connectionId: 'con_a' }, 1)).toEqual([pks[2]!, pks[0]!].map(processed));
    expect(await listAll({ tenantId: t, statuses: ['processed'], source: 'github' }, 1)).toEqual([pks[3]!, pks[2]!, pks[0]!].map(processed));
    expect(await listAll({ tenantId: t, statuses: ['processed'], connectionId: 'con_a', source: 'jira' })).toEqual([]);
    expect(await listAll({ tenantId: t, connectionId: 'con_a' })).toEqual([{ pk: pks[4]!, status: 'failed', attempts: 0 }, ...[pks[2]!, pks[0]!].map(processed)]);
    expect(await countDeliveries(db, { tenantId: t, statuses: ['processed'], connectionId: 'con_a' })).toBe(2);
    expect(await countDeliveries(db, { tenantId: t, statuses: ['processed', 'failed'], source: 'github' })).toBe(4);
  });

  it("pages through a queue crowded with other tenants' deliveries, one bounded read at a time, without losing or repeating one", async () => {
    const [t, other] = [tenant(), tenant()];
    const mine: string[] = [];
    for (let n = 0; n < 450; n++) {
      const base = Date.UTC(2026, 1, 1, 0, 0, 0, n);
      // Same receipt times as the tenant's own, on both sides of them in the queue's order (`T#{tenant}#…`).
      if (n % 150 === 75) mine.push((await recordDelivery(db, newDelivery(t, { receivedAt: new Date(base).toISOString() }))).pk);
      await recordDelivery(db, newDelivery(n % 2 ? other : `ten_a${n}`, { receivedAt: new Date(base).toISOString() }));
    }
    for (const order of ['newest', 'oldest'] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      let requests = 0;
      for (;;) {
        const page = await queryDeliveries(db, { tenantId: t, statuses: ['pending'] }, { order, limit: 1, maxPages: 1, ...(after ? { after } : {}) });
        requests++;
        seen.push(...page.rows.map((r) => r.pk));
        if (!page.more) break;
        after = page.next;
      }
      expect(seen).toEqual(order === 'newest' ? [...mine].reverse() : mine);
      expect(requests).toBeGreaterThan(mine.length);
    }
  });

  it('lists a re-queued delivery once, as pending, where it was received, and once with its next status', async () => {
    const t = tenant();
    const first = await recordDelivery(db, newDelivery(t));
    const { pk } = await recordDelivery(db, newDelivery(t));
    const last = await recordDelivery(db, newDelivery(t));
    await finishAll([first.pk, pk, last.pk], 'failed', 'rejected');
    expect(await requeueDelivery(db, (await getDelivery(db, pk))!, new Date().toISOString())).toBe('requeued');

    expect(await listAll({ tenantId: t })).toEqual([
      { pk: last.pk, status: 'failed', attempts: 0 },
      { pk, status: 'pending', attempts: 0 },
      { pk: first.pk, status: 'failed', attempts: 0 },
    ]);
    expect((await listAll({ tenantId: t, statuses: ['pending'] })).map((r) => r.pk)).toEqual([pk]);
    expect((await listAll({ tenantId: t, statuses: ['failed'] })).map((r) => r.pk)).toEqual([last.pk, first.pk]);

    await finishAll([pk], 'processed');
    expect(await listAll({ tenantId: t, statuses: ['processed'] })).toEqual([{ pk, status: 'processed', attempts: 0 }]);
    expect(await listAll({ tenantId: t, statuses: ['pending'] })).toEqual([]);
    expect(await listAll({ tenantId: t })).toHaveLength(3);
  });

  it('lists a replayed delivery under its new status once', async () => {
    const t = tenant();
    const { pk } = await recordDelivery(db, newDelivery(t));
    await finishAll([pk], 'failed', 'rejected');
    const at = new Date().toISOString();
    await settleReplayedDelivery(db, (await getDelivery(db, pk))!, { status: 'processed', at, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    expect(await listAll({ tenantId: t })).toEqual([{ pk, status: 'processed', attempts: 0 }]);
    expect(await row(pk, 'LIST')).toMatchObject({ status: 'processed', processedAt: at });
  });

  it('keeps listing deliveries recorded before listing rows (index keys on the record), once, before and after this code finishes, re-queues or replays them', async () => {
    const t = tenant();
    const pending = await recordAsBefore(newDelivery(t));
    const failed = await recordAsBefore(newDelivery(t), 'failed');
    const processed = await recordAsBefore(newDelivery(t), 'processed');
    expect(await listAll({ tenantId: t })).toEqual([
      { pk: processed, status: 'processed', attempts: 0 },
      { pk: failed, status: 'failed', attempts: 0 },
      { pk: pending, status: 'pending', attempts: 0 },
    ]);

    await finishAll([pending], 'ignored', 'not a supported event');
    expect(await requeueDelivery(db, (await getDelivery(db, failed))!, new Date().toISOString())).toBe('requeued');
    await settleReplayedDelivery(db, (await getDelivery(db, processed))!, { status: 'failed', reason: 'now rejected', at: new Date().toISOString(), expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    expect(await listAll({ tenantId: t })).toEqual([
      { pk: processed, status: 'failed', attempts: 0 },
      { pk: failed, status: 'pending', attempts: 0 },
      { pk: pending, status: 'ignored', attempts: 0 },
    ]);
    for (const pk of [pending, failed, processed]) {
      const record = (await row(pk, 'DLV'))!;
      for (const name of INDEX_KEYS) expect(record).not.toHaveProperty(name);
    }
    await finishAll([failed], 'processed');
    expect(await listAll({ tenantId: t, statuses: ['processed'] })).toEqual([{ pk: failed, status: 'processed', attempts: 0 }]);
    expect(await listAll({ tenantId: t, statuses: ['pending'] })).toEqual([]);
  });

  describe('a process killed between the writes of a status change', () => {
    /** Runs `step` in a process killed right after its `limit`th write; false when the step ended first. */
    const killedAfter = async (limit: number, step: () => Promise<unknown>): Promise<boolean> => {
      const killSwitch = installKillSwitch(db, { limit });
      try {
        await step();
      } catch {
        // The kill.
      } finally {
        killSwitch.remove();
      }
      return killSwitch.tripped && killSwitch.refused > 0;
    };

    it('leaves a batch it was finishing listed, and the next run lists each delivery once with its status', async () => {
      for (let limit = 1; ; limit++) {
        const t = tenant();
        const legacy = await recordAsBefore(newDelivery(t));
        const { pk } = await recordDelivery(db, newDelivery(t));
        const killed = await killedAfter(limit, () => finishAll([legacy, pk], 'processed'));
        // Never unlisted: each delivery listed once (pending on the queue, or already with its next status).
        expect((await listAll({ tenantId: t })).map((r) => r.pk).sort()).toEqual([legacy, pk].sort());
        // The processor runs what is still pending again.
        const still = (await loadDeliveries(db, [legacy, pk])).filter((d) => d.status === 'pending').map((d) => d.pk);
        if (still.length > 0) await finishAll(still, 'processed');
        expect(await listAll({ tenantId: t })).toEqual([
          { pk, status: 'processed', attempts: 0 },
          { pk: legacy, status: 'processed', attempts: 0 },
        ]);
        if (!killed) break;
      }
    });

    it('leaves a delivery it was finishing alone, or re-queuing, listed; its processing lists it once with its status', async () => {
      for (let limit = 1; ; limit++) {
        const t = tenant();
        const { pk } = await recordDelivery(db, newDelivery(t));
        const failed = await recordAsBefore(newDelivery(t), 'failed');
        const killedFinishing = await killedAfter(limit, async () => finishDelivery(db, (await getDelivery(db, pk))!, { status: 'failed', reason: 'rejected', at: new Date().toISOString() }));
        const killedRequeuing = await killedAfter(limit, async () => requeueDelivery(db, (await getDelivery(db, failed))!, new Date().toISOString()));
        // The processor takes what is on the queue again, and finishes it.
        for (const key of [pk, failed]) {
          const delivery = (await getDelivery(db, key))!;
          if (delivery.status === 'pending') await finishDelivery(db, delivery, { status: 'processed', at: new Date().toISOString() });
        }
        const listed = await listAll({ tenantId: t });
        expect(listed.map((r) => r.pk).sort()).toEqual([pk, failed].sort());
        for (const { pk: key, status } of listed) expect((await getDelivery(db, key))!.status).toBe(status);
        if (!killedFinishing && !killedRequeuing) break;
      }
    });
  });
});
