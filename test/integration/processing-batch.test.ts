import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { createJsonLogger } from '../../functions/log.ts';
import { processBatch } from '../../processing/batch.ts';
import type { Db } from '../../store/db.ts';
import { listPendingDeliveries } from '../../store/inbox.ts';
import { allItems, issueOpened, issueRef, issueUpdate } from '../support/fault-payloads.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

/**
 * Batched processing (processing/batch.ts → plan.ts → write.ts), as a specification: the hub's
 * processor is stopped while a batch is posted, so that the deliveries wait and are taken as one
 * batch; every write request the batch sends to the table is recorded on the client.
 */

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const MIDDLEWARE = 'tributaryTestItemWrites';

/** The primary keys a write request writes (every row of a BatchWriteItem). */
const keysWritten = (command: string, input: any): { pk: string; sk: string }[] => {
  if (command === 'BatchWriteItemCommand') {
    return Object.values(input.RequestItems as Record<string, any[]>)
      .flat()
      .map((request) => request.PutRequest?.Item ?? request.DeleteRequest?.Key);
  }
  return [input.Item ?? input.Key];
};

interface ItemWrites {
  /** writes of each item record (`ITEM` row), by item id */
  readonly counts: Map<string, number>;
  remove(): void;
}

/**
 * Counts the writes of item records. `conflictOnce` answers the first conditional put of that item's
 * record as DynamoDB does when another writer got there first, without applying it.
 */
const recordItemWrites = (db: Db, options: { conflictOnce?: string } = {}): ItemWrites => {
  const counts = new Map<string, number>();
  let conflicted = false;
  const middleware =
    (next: (args: any) => Promise<any>, context: { commandName?: string }) =>
    async (args: any) => {
      const command = context.commandName ?? '';
      if (WRITES.has(command)) {
        for (const key of keysWritten(command, args.input)) {
          const itemId = key.sk === 'ITEM' ? String(key.pk).split('#ITEM#')[1] : undefined;
          if (!itemId) continue;
          counts.set(itemId, (counts.get(itemId) ?? 0) + 1);
          if (command === 'PutItemCommand' && itemId === options.conflictOnce && !conflicted) {
            conflicted = true;
            throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
          }
        }
      }
      return next(args);
    };
  db.doc.middlewareStack.add(middleware as never, { name: MIDDLEWARE, step: 'initialize', priority: 'high', override: true });
  return { counts, remove: () => db.doc.middlewareStack.remove(MIDDLEWARE) };
};

describe('batched processing', () => {
  let hub: TestHub;
  let connection: { id: string; secret: string };
  let next = 0;

  /** Posts deliveries while the processor is stopped, then processes them as one batch and waits until all is published. */
  const processAsOneBatch = async (
    deliveries: { event?: string; payload: unknown }[],
    options: { conflictOnce?: string; beforeProcessing?: () => Promise<void> } = {},
  ) => {
    await hub.hub.pipeline.processor.stop();
    for (const { event, payload } of deliveries) {
      const answer = await postGithub(hub.url, connection, event ?? 'issues', payload, { deliveryId: `processing-batch-${++next}` });
      expect(answer.status).toBe(202);
    }
    await options.beforeProcessing?.();
    const writes = recordItemWrites(hub.hub.db, options);
    try {
      hub.hub.pipeline.processor.start();
      await settled(hub, { timeoutMs: 30_000 });
    } finally {
      writes.remove();
    }
    return writes.counts;
  };

  const itemIdOf = async (number: number) => String((await allItems(hub)).get(issueRef(number))?.id);

  beforeAll(async () => {
    hub = await startTestHub();
    connection = await hub.createConnection('github');
    // Issues #1–#4 exist before the batches below, so that each batch only updates them.
    await processAsOneBatch([1, 2, 3, 4].map((n) => ({ payload: issueOpened(n) })));
  }, 30_000);
  afterAll(() => hub?.close());

  it('writes an item that several deliveries of the batch change once, holding the newest change', async () => {
    // Six updates of #1 out of order, one of them twice under another delivery id.
    const updates = [3, 1, 6, 2, 5, 4, 2].map((n) => ({ payload: issueUpdate(1, n) }));
    const writes = await processAsOneBatch(updates);

    const id = await itemIdOf(1);
    expect(writes.get(id)).toBe(1);
    const item = (await allItems(hub)).get(issueRef(1));
    expect(item.title).toBe('Issue 1 revision 6');
    expect(item.labels).toEqual(['rev-6']);
    const { body } = await hub.api('GET', '/v1/deliveries?status=processed&limit=200');
    expect(body.items.filter((d: any) => String(d.deliveryId).startsWith('processing-batch-')).length).toBe(next);
  });

  it('re-applies only the item whose conditional write lost a race; the others are written once', async () => {
    const [two, three, four] = [await itemIdOf(2), await itemIdOf(3), await itemIdOf(4)];
    const writes = await processAsOneBatch([2, 3, 4].map((n) => ({ payload: issueUpdate(n, 7) })), { conflictOnce: three });

    // The refused put, then the item's changes applied again on what the table holds.
    expect(writes.get(three)).toBe(2);
    expect(writes.get(two)).toBe(1);
    expect(writes.get(four)).toBe(1);
    const items = await allItems(hub);
    for (const n of [2, 3, 4]) expect(items.get(issueRef(n)).title).toBe(`Issue ${n} revision 7`);
  });

  it("writes the outbox markers of a batch's events before any of their log rows, and the derived rows a few requests at once", async () => {
    // Each BatchWriteItem: when it was sent and answered (a step of one counter), and what it wrote.
    const requests: { sent: number; answered?: number; rows: { pk: string; sk: string }[] }[] = [];
    let step = 0;
    const name = 'tributaryTestFlushOrder';
    hub.hub.db.doc.middlewareStack.add(
      ((next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        const request: (typeof requests)[number] = { sent: ++step, rows: keysWritten('BatchWriteItemCommand', args.input) };
        requests.push(request);
        try {
          return await next(args);
        } finally {
          request.answered = ++step;
        }
      }) as never,
      { name, step: 'initialize', priority: 'high', override: true },
    );
    try {
      await processAsOneBatch(Array.from({ length: 40 }, (_, i) => ({ payload: issueOpened(100 + i) })));
    } finally {
      hub.hub.db.doc.middlewareStack.remove(name);
    }

    const writing = (prefix: string) => requests.filter((r) => r.rows.some((row) => String(row.sk).startsWith(prefix)));
    const [firstMarkers] = writing('O#');
    const [firstLogRows] = writing('E#');
    expect(firstMarkers!.rows.every((row) => String(row.sk).startsWith('O#'))).toBe(true);
    expect(firstMarkers!.answered).toBeLessThan(firstLogRows!.sent);
    // Some of the flush's requests overlapped: one was sent before the one before it was answered.
    expect(requests.some((r, i) => i > 0 && r.sent < requests[i - 1]!.answered!)).toBe(true);
  });

  it('records a delivery it cannot map as failed, with the path of the field, while the rest of the batch is indexed', async () => {
    const unmappable = issueUpdate(2, 8);
    unmappable.issue.number = { not: 'a number' };
    await processAsOneBatch([{ payload: issueUpdate(4, 8) }, { payload: unmappable }, { payload: issueUpdate(3, 8) }]);

    const items = await allItems(hub);
    expect(items.get(issueRef(4)).title).toBe('Issue 4 revision 8');
    expect(items.get(issueRef(3)).title).toBe('Issue 3 revision 8');
    expect(items.get(issueRef(2)).title).toBe('Issue 2 revision 7');
    const { body } = await hub.api('GET', '/v1/deliveries?status=failed');
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ deliveryId: `processing-batch-${next - 1}`, status: 'failed' });
    expect(body.items[0].reason).toMatch(/issue\.number/);
  });

  const failedDelivery = async (deliveryId: string) => {
    const { body } = await hub.api('GET', '/v1/deliveries?status=failed&limit=200');
    return body.items.find((d: any) => d.deliveryId === deliveryId);
  };

  /** Sets the stored body's encoding of a delivery of this test, as a newer or older version would have written it. */
  const setBodyEncoding = async (deliveryId: string, encoding: string) => {
    const { Items } = await hub.hub.db.doc.send(
      new ScanCommand({ TableName: hub.hub.db.table, FilterExpression: 'deliveryId = :d AND sk = :s', ExpressionAttributeValues: { ':d': deliveryId, ':s': 'DLV' } }),
    );
    await hub.hub.db.doc.send(
      new UpdateCommand({ TableName: hub.hub.db.table, Key: { pk: Items![0]!.pk, sk: 'DLV' }, UpdateExpression: 'SET bodyEncoding = :e', ExpressionAttributeValues: { ':e': encoding } }),
    );
  };

  it('fails a delivery whose stored body it cannot read alone, saying what to do, and processes it once retried after an upgrade', async () => {
    const unreadable = () => `processing-batch-${next - 1}`;
    await processAsOneBatch([{ payload: issueUpdate(1, 7) }, { payload: issueOpened(9) }, { payload: issueUpdate(2, 10) }], {
      beforeProcessing: () => setBodyEncoding(unreadable(), 'deflate-raw:github-9'),
    });

    const items = await allItems(hub);
    expect(items.get(issueRef(1)).title).toBe('Issue 1 revision 7');
    expect(items.get(issueRef(2)).title).toBe('Issue 2 revision 10');
    expect(items.has(issueRef(9))).toBe(false);
    const failed = await failedDelivery(unreadable());
    expect(failed.reason).toMatch(/encoded as deflate-raw:github-9, which this version of Tributary cannot read: upgrade it, then retry/);

    // What an upgrade brings: a version that reads the encoding.
    await setBodyEncoding(unreadable(), 'deflate-raw:github-1');
    expect((await hub.api('POST', `/v1/deliveries/${failed.id}/retry`)).status).toBe(202);
    await settled(hub, { timeoutMs: 30_000 });
    expect((await allItems(hub)).has(issueRef(9))).toBe(true);
  });

  it('indexes an issue with half a megabyte of title, its title clipped to 1,000 characters', async () => {
    await processAsOneBatch([{ payload: issueOpened(8, `Long ${'x'.repeat(450_000)}`) }]);

    const { title } = (await allItems(hub)).get(issueRef(8));
    expect(title).toHaveLength(1_000);
    expect(title).toMatch(/^Long x+…$/);
  });

  it('fails a delivery whose item the store refuses as too large at once, with the reason, while the rest of the batch is indexed', async () => {
    // 3,000 labels of 250 characters that do not compress: each within bounds, together over DynamoDB's 400 KB per item.
    const noise = (index: number) => [0, 1, 2].map((k) => createHash('sha512').update(`${index}:${k}`).digest('base64')).join('').slice(0, 250);
    const oversized = issueOpened(5);
    oversized.issue.labels = Array.from({ length: 3_000 }, (_, index) => ({ ...oversized.issue.labels[0], id: index, name: noise(index) }));
    await processAsOneBatch([{ payload: issueUpdate(3, 9) }, { payload: oversized }, { payload: issueUpdate(4, 9) }]);

    const items = await allItems(hub);
    expect(items.get(issueRef(3)).title).toBe('Issue 3 revision 9');
    expect(items.get(issueRef(4)).title).toBe('Issue 4 revision 9');
    expect(items.has(issueRef(5))).toBe(false);
    const failed = await failedDelivery(`processing-batch-${next - 1}`);
    expect(failed).toMatchObject({ attempts: 0 });
    expect(failed.reason).toMatch(/^The store refused this delivery's writes: .*size/i);
  });

  it("quotes a huge value that is not a date in a short reason, and indexes an issue whose milestone's due date is not a date without one", async () => {
    const undated = issueOpened(6);
    undated.issue.created_at = 'y'.repeat(500_000);
    const oddMilestone = issueOpened(7);
    oddMilestone.issue.milestone = { ...oddMilestone.issue.milestone, due_on: 'z'.repeat(500_000) };
    await processAsOneBatch([{ payload: undated }, { payload: oddMilestone }]);

    const failed = await failedDelivery(`processing-batch-${next - 1}`);
    expect(failed.reason).toMatch(/issue\.created_at: "y{39}…" is not a date$/);
    expect(failed.reason.length).toBeLessThanOrEqual(4000);
    const item = (await allItems(hub)).get(issueRef(7));
    expect(item.title).toBe('Issue 7');
    expect(item.dueAt).toBeUndefined();
  });

  it('hands the event loop back between units of its work where asked to (the local hub, beside its acknowledgements)', async () => {
    await hub.hub.pipeline.processor.stop();
    try {
      for (const n of [8, 9, 10]) expect((await postGithub(hub.url, connection, 'issues', issueOpened(n), { deliveryId: `processing-batch-${++next}` })).status).toBe(202);
      const pending = await listPendingDeliveries(hub.hub.db);
      expect(pending).toHaveLength(3);
      let turns = 0;
      const deps = {
        db: hub.hub.db,
        connectors: createConnectorRegistry(),
        clock: () => new Date(),
        log: createJsonLogger('silent'),
        yieldEventLoop: async () => void turns++,
      };
      const outcomes = await processBatch(deps, pending);
      expect([...outcomes.values()]).toEqual(['processed', 'processed', 'processed']);
      // Each delivery normalized, each change applied, each item's derived rows: 3 × 3 at least.
      expect(turns).toBeGreaterThanOrEqual(9);
    } finally {
      hub.hub.pipeline.processor.start();
    }
  });
});
