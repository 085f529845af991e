import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTenantIds } from '../../store/hub-stats.ts';
import { keys } from '../../store/keys.ts';
import { createTenant } from '../../store/tenants.ts';
import { type TestHub, startTestHub } from '../support/hub.ts';

describe('the tenants index', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ env: { TRIBUTARY_SWEEP_INTERVAL_SECONDS: '0' } });
  });
  afterAll(() => hub.close());

  it('takes in a tenant created before it existed when the tenant is created again, and never a deleted one', async () => {
    const { db } = hub.hub;
    const legacy = { id: 't_legacy', name: 'Legacy', createdAt: '2024-01-01T00:00:00.000Z' };
    const deleted = { id: 't_gone', name: 'Gone', createdAt: '2024-01-02T00:00:00.000Z' };
    // Rows as they were written before the tenants index: no gsi1 attributes.
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.tenant(legacy.id), tenant: legacy } }));
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.tenant(deleted.id), tenant: deleted, deletedAt: '2024-02-01T00:00:00.000Z' } }));
    expect(await listTenantIds(db)).not.toContain(legacy.id);

    expect(await createTenant(db, { ...legacy, name: 'Renamed?', createdAt: new Date().toISOString() })).toBe(false);
    expect(await createTenant(db, { ...deleted, createdAt: new Date().toISOString() })).toBe(false);
    const ids = await listTenantIds(db);
    expect(ids).toContain(legacy.id);
    expect(ids).not.toContain(deleted.id);
    // Listed by its own creation time: before every tenant created since.
    expect(ids.indexOf(legacy.id)).toBe(0);
    // Idempotent: a third start changes nothing.
    expect(await createTenant(db, legacy)).toBe(false);
    expect((await listTenantIds(db)).filter((id) => id === legacy.id)).toHaveLength(1);
  });
});
