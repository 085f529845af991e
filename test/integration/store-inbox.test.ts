import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { sha256Hex } from '../../core/ids.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { gzipSync } from 'node:zlib';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { requeueDelivery } from '../../store/deliveries.ts';
import { finishDelivery, getDelivery, listPendingDeliveries, recordDeliveries, recordDelivery } from '../../store/inbox.ts';
import { keys } from '../../store/keys.ts';
import { uniqueTable } from '../support/hub.ts';

const delivery = (deliveryId: string, body: Uint8Array) => ({
  tenantId: 'ten_inbox',
  connectionId: 'con_inbox',
  source: 'github' as const,
  deliveryId,
  event: 'issues',
  headers: { 'x-github-event': 'issues' },
  body,
  bodySha256: sha256Hex(body),
  bodyBytes: body.byteLength,
  receivedAt: new Date().toISOString(),
});

describe('the inbox', () => {
  let db: Db;
  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('inbox') });
    await ensureTable(db);
  });

  it('records a delivery once and answers duplicate after', async () => {
    const body = new TextEncoder().encode('{"action":"opened"}');
    const first = await recordDelivery(db, delivery('d-1', body));
    expect(first.status).toBe('accepted');
    expect((await recordDelivery(db, delivery('d-1', body))).status).toBe('duplicate');
    const stored = await getDelivery(db, first.pk);
    expect(new TextDecoder().decode(stored!.body)).toBe('{"action":"opened"}');
    expect(stored!.status).toBe('pending');
  });

  it('stores a GitHub body deflated with its dictionary, and still reads a record of old with a gzip body', async () => {
    const body = new TextEncoder().encode('{"action":"opened","issue":{"number":1}}');
    const { pk } = await recordDelivery(db, delivery('d-encoded', body));
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk, sk: 'DLV' }, ConsistentRead: true }));
    const { bodyEncoding, ...rest } = Item!;
    expect(bodyEncoding).toBe('deflate-raw:github-1');
    expect(new TextDecoder().decode((await getDelivery(db, pk))!.body)).toBe('{"action":"opened","issue":{"number":1}}');

    await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...rest, body: gzipSync(body) } }));
    expect(new TextDecoder().decode((await getDelivery(db, pk))!.body)).toBe('{"action":"opened","issue":{"number":1}}');
  });

  it('stores a body far over the 400 KB item cap in parts and reads it back byte for byte', async () => {
    const body = randomBytes(1_500_000);
    const { pk, status } = await recordDelivery(db, delivery('d-big', body));
    expect(status).toBe('accepted');
    expect(Buffer.compare(Buffer.from((await getDelivery(db, pk))!.body), body)).toBe(0);
  });

  it('keeps pending deliveries on the queue until they are finished', async () => {
    const { pk } = await recordDelivery(db, delivery('d-queue', new TextEncoder().encode('{}')));
    expect(await listPendingDeliveries(db, 1000)).toContain(pk);
    expect(await finishDelivery(db, (await getDelivery(db, pk))!, { status: 'ignored', reason: 'not a supported event', at: new Date().toISOString() })).toBe(true);
    expect(await listPendingDeliveries(db, 1000)).not.toContain(pk);
    expect(await getDelivery(db, pk)).toMatchObject({ status: 'ignored', reason: 'not a supported event' });
  });

  it('finishes only the try it read: a late run of an earlier try leaves a re-queued delivery as queued', async () => {
    const { pk } = await recordDelivery(db, delivery('d-late', new TextEncoder().encode('{}')));
    const firstTry = (await getDelivery(db, pk))!;
    expect(await finishDelivery(db, firstTry, { status: 'failed', reason: 'rejected', at: new Date().toISOString() })).toBe(true);
    expect(await requeueDelivery(db, (await getDelivery(db, pk))!, new Date().toISOString())).toBe('requeued');

    // A second run of the first try (two processors took it), finishing late: it must not settle the retry.
    expect(await finishDelivery(db, firstTry, { status: 'processed', at: new Date().toISOString() })).toBe(false);
    expect(await getDelivery(db, pk)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await listPendingDeliveries(db, 1000)).toContain(pk);

    const secondTry = (await getDelivery(db, pk))!;
    expect(await finishDelivery(db, secondTry, { status: 'processed', at: new Date().toISOString() })).toBe(true);
    // Once finished, another run of the same try changes nothing either.
    expect(await finishDelivery(db, secondTry, { status: 'failed', reason: 'late', at: new Date().toISOString() })).toBe(false);
    expect(await getDelivery(db, pk)).toMatchObject({ status: 'processed' });
  });

  it('does not re-queue a delivery whose body parts are gone, nor one past its retention period', async () => {
    const body = randomBytes(700_000);
    const { pk } = await recordDelivery(db, delivery('d-parts-gone', body));
    const stored = (await getDelivery(db, pk))!;
    expect(stored.bodyParts).toBeGreaterThan(1);
    await finishDelivery(db, stored, { status: 'failed', reason: 'rejected', at: new Date().toISOString() });
    // The table's TTL deletes parts and records independently: here a part went first.
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.deliveryPart(pk, stored.bodySha256, 1) }));
    const failed = { ...stored, status: 'failed' as const };
    expect(await requeueDelivery(db, failed, new Date().toISOString())).toBe('expired');
    // Still failed, off the queue: it is not left pending to fail for good.
    expect(await listPendingDeliveries(db, 1000)).not.toContain(pk);
    expect((await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk, sk: 'DLV' } }))).Item).toMatchObject({ status: 'failed' });

    // Past its expiry but not deleted yet (TTL runs late): not re-queued, whatever the record read says.
    const { pk: expiredPk } = await recordDelivery(db, delivery('d-expired', new TextEncoder().encode('{}')));
    const longAgo = new Date(Date.now() - 400 * 86_400_000).toISOString();
    await finishDelivery(db, (await getDelivery(db, expiredPk))!, { status: 'failed', reason: 'rejected', at: longAgo });
    const expired = (await getDelivery(db, expiredPk))!;
    expect(await requeueDelivery(db, expired, new Date().toISOString())).toBe('expired');
    expect(await requeueDelivery(db, { ...expired, expiresAt: undefined } as never, new Date().toISOString())).toBe('expired');
    expect(await getDelivery(db, expiredPk)).toMatchObject({ status: 'failed' });
  });

  it('records a page of deliveries with one read and batched writes, recognizing those recorded before', async () => {
    const operations: string[] = [];
    const metered = createDb({ endpoint: inject('dynamodbEndpoint'), table: db.table, onRequest: (operation) => operations.push(operation) });
    const body = (n: number) => new TextEncoder().encode(`{"number":${n}}`);
    const before = await recordDelivery(db, delivery('page-7', body(7)));
    const page = Array.from({ length: 60 }, (_, n) => delivery(`page-${n}`, body(n)));

    const recorded = await recordDeliveries(metered, [...page, delivery('page-3', body(3))]);

    expect(recorded.map((r) => r.status)).toEqual([...page.map((_, n) => (n === 7 ? 'duplicate' : 'accepted')), 'duplicate']);
    expect(recorded[7]!.pk).toBe(before.pk);
    // 59 new rows: one BatchGetItem, then BatchWriteItem 25 rows at a time.
    expect(operations).toEqual(['BatchGetItem', 'BatchWriteItem', 'BatchWriteItem', 'BatchWriteItem']);
    // Recorded as the ack path records: pending, on the processor's queue.
    const pending = await listPendingDeliveries(db, 1000);
    expect(recorded.every((r) => pending.includes(r.pk))).toBe(true);
    const stored = (await getDelivery(db, recorded[0]!.pk))!;
    expect(stored).toMatchObject({ status: 'pending', attempts: 0, deliveryId: 'page-0', event: 'issues' });
    expect(new TextDecoder().decode(stored.body)).toBe('{"number":0}');

    // The same page read again (after a crash): every delivery is recognized, nothing is written.
    operations.length = 0;
    expect((await recordDeliveries(metered, page)).every((r) => r.status === 'duplicate')).toBe(true);
    expect(operations).toEqual(['BatchGetItem']);
  });

  it('records a body over the item cap in a page: its parts before its record', async () => {
    const body = randomBytes(700_000);
    const [big] = await recordDeliveries(db, [delivery('page-big', body)]);
    const stored = (await getDelivery(db, big!.pk))!;
    expect(stored.bodyParts).toBeGreaterThan(1);
    expect(Buffer.compare(Buffer.from(stored.body), body)).toBe(0);
  });

  it('hashes delivery ids too long for a partition key', async () => {
    const longId = `<${'x'.repeat(3000)}@mail.example>`;
    const { status } = await recordDelivery(db, delivery(longId, new TextEncoder().encode('{}')));
    expect(status).toBe('accepted');
    expect((await recordDelivery(db, delivery(longId, new TextEncoder().encode('{}')))).status).toBe('duplicate');
  });
});
