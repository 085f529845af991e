import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { evaluateWip, wipAlertId, wipSubjectsOf } from '../../core/wip.ts';
import { DEFAULT_ALERT_SETTINGS } from '../../core/alerts.ts';
import { applyChange } from '../../core/merge.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { loadAlertRecord } from '../../store/alerts.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { applyOrderedDecision } from '../../store/ordered-alerts.ts';
import { acquireSweepLease, readSweepLease, recordSweepProgress, releaseSweepLease } from '../../store/sweep-lease.ts';
import { readWipRows, syncWipMembership, takeWipTicket } from '../../store/wip.ts';
import { at, githubPerson, upsert } from '../fixtures/work-items.ts';
import { uniqueTable } from '../support/hub.ts';

const alice = githubPerson('alice', 1, { name: 'Alice' });
const bob = githubPerson('bob', 2, { name: 'Bob' });
const NOW = new Date('2024-01-10T00:00:00.000Z');

/** One item: in progress owned by Alice (v1), then handed to Bob (v2). */
const versions = (): [WorkItem, WorkItem] => {
  const ref = 'github:octo/api#1';
  const v1 = applyChange(undefined, upsert({ ref, updatedAt: at(1), status: { name: 'open', category: 'in_progress' }, owners: [alice] }))!;
  const v2 = applyChange(v1, upsert({ ref, updatedAt: at(2), status: { name: 'open', category: 'in_progress' }, owners: [bob] }))!;
  return [v1, v2];
};

describe('WIP membership rows, ordered alert decisions and the sweep lease', () => {
  let db: Db;
  beforeAll(async () => {
    db = createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('wip') });
    await ensureTable(db);
  });

  it('never lets an older version remove or overwrite what a newer version wrote', async () => {
    const tenant = 'ten_rows';
    const [v1, v2] = versions();
    await syncWipMembership(db, tenant, v2, v1);
    // v1's processing comes late: it may re-create Alice's row, but never touch Bob's.
    await syncWipMembership(db, tenant, v1, undefined);
    expect((await readWipRows(db, tenant, `person:${bob.id}`)).map((r) => r.v)).toEqual([v2.version]);
    await syncWipMembership(db, tenant, { ...v1, status: { name: 'closed', category: 'done' } }, v2);
    expect(await readWipRows(db, tenant, `person:${bob.id}`)).toHaveLength(1);
  });

  it('applies the decision of the latest ticket only, and refreshes an open alert without an event', async () => {
    const tenant = 'ten_order';
    const key = `person:${alice.id}`;
    const [v1] = versions();
    const subject = wipSubjectsOf(v1)[0]!;
    const over = evaluateWip(subject, [v1, v1], 1, DEFAULT_ALERT_SETTINGS)!;
    const early = await takeWipTicket(db, tenant, key);
    const late = await takeWipTicket(db, tenant, key);
    expect(late).toBeGreaterThan(early);

    expect(await applyOrderedDecision(db, tenant, { subjectId: key, alertId: over.id, draft: over }, late, NOW)).toMatchObject({ type: 'work.alert.raised' });
    // The earlier evaluation read fewer items and would resolve: it comes too late to.
    expect(await applyOrderedDecision(db, tenant, { subjectId: key, alertId: over.id }, early, NOW)).toBeUndefined();
    expect((await loadAlertRecord(db, tenant, key, over.id)).alert?.state).toBe('open');

    const grown = { ...over, message: 'Alice has 3 items in progress, over the WIP limit of 1: …' };
    expect(await applyOrderedDecision(db, tenant, { subjectId: key, alertId: over.id, draft: grown }, await takeWipTicket(db, tenant, key), NOW)).toBeUndefined();
    const record = await loadAlertRecord(db, tenant, key, over.id);
    expect(record.alert).toMatchObject({ state: 'open', occurrence: 1, message: grown.message });
    expect(record.pending.map((e) => e.type)).toEqual(['work.alert.raised']);

    const resolved = await applyOrderedDecision(db, tenant, { subjectId: key, alertId: wipAlertId(key) }, await takeWipTicket(db, tenant, key), NOW);
    expect(resolved).toMatchObject({ type: 'work.alert.resolved' });
    // A subject that never went over its limit only records its ticket: no alert appears.
    const quiet = `person:${bob.id}`;
    expect(await applyOrderedDecision(db, tenant, { subjectId: quiet, alertId: wipAlertId(quiet) }, await takeWipTicket(db, tenant, quiet), NOW)).toBeUndefined();
    expect((await loadAlertRecord(db, tenant, quiet, wipAlertId(quiet))).alert).toBeUndefined();
  });

  it('gives the sweep lease to one run at a time, lets a run take over an expired one, and stops the former holder', async () => {
    const name = `test-${Date.now()}`;
    const a = await acquireSweepLease(db, name, 'run-a', NOW, 60_000);
    expect(a).toBeDefined();
    expect(await acquireSweepLease(db, name, 'run-b', NOW, 60_000)).toBeUndefined();
    const progressed = await recordSweepProgress(db, a!, 'ten#wi_1', NOW, 60_000);
    expect(progressed).toMatchObject({ cursor: 'ten#wi_1', owner: 'run-a' });

    const later = new Date(NOW.getTime() + 61_000);
    const b = await acquireSweepLease(db, name, 'run-b', later, 60_000);
    expect(b).toMatchObject({ owner: 'run-b', cursor: 'ten#wi_1' });
    // run-a wakes up: its next write fails, so it stops.
    expect(await recordSweepProgress(db, progressed!, 'ten#wi_2', later, 60_000)).toBeUndefined();

    const done = await recordSweepProgress(db, b!, undefined, later, 60_000);
    expect(done).toMatchObject({ rounds: 1 });
    expect(done?.cursor).toBeUndefined();
    await releaseSweepLease(db, done!);
    expect(await readSweepLease(db, name)).toMatchObject({ rounds: 1 });
    expect((await readSweepLease(db, name)).owner).toBeUndefined();
  });
});
