import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { sha256Hex } from '../../core/ids.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { finishDelivery, getDelivery, listPendingDeliveries, recordDelivery } from '../../store/inbox.ts';
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

  it('stores a body far over the 400 KB item cap in parts and reads it back byte for byte', async () => {
    const body = randomBytes(1_500_000);
    const { pk, status } = await recordDelivery(db, delivery('d-big', body));
    expect(status).toBe('accepted');
    expect(Buffer.compare(Buffer.from((await getDelivery(db, pk))!.body), body)).toBe(0);
  });

  it('keeps pending deliveries on the queue until they are finished', async () => {
    const { pk } = await recordDelivery(db, delivery('d-queue', new TextEncoder().encode('{}')));
    expect(await listPendingDeliveries(db, 1000)).toContain(pk);
    await finishDelivery(db, pk, { status: 'ignored', reason: 'not a supported event', at: new Date().toISOString() });
    expect(await listPendingDeliveries(db, 1000)).not.toContain(pk);
    expect(await getDelivery(db, pk)).toMatchObject({ status: 'ignored', reason: 'not a supported event' });
  });

  it('hashes delivery ids too long for a partition key', async () => {
    const longId = `<${'x'.repeat(3000)}@mail.example>`;
    const { status } = await recordDelivery(db, delivery(longId, new TextEncoder().encode('{}')));
    expect(status).toBe('accepted');
    expect((await recordDelivery(db, delivery(longId, new TextEncoder().encode('{}')))).status).toBe('duplicate');
  });
});
