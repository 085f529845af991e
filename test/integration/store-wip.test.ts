import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { evaluateWip, wipAlertId, wipMemberOf, wipSubjectsOf } from '../../core/wip.ts';
import { DEFAULT_ALERT_SETTINGS } from '../../core/alerts.ts';
import { applyChange } from '../../core/merge.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { loadAlertRecord } from '../../store/alerts.ts';
import { type Db, createDb, ensureTable } from '../../store/db.ts';
import { applyOrderedDecision } from '../../store/ordered-alerts.ts';
import { acquireSweepLease, readSweepLease, recordSweepProgress, releaseSweepLease } from '../../store/sweep-lease.ts';
import { readWipRows, syncWipMembership, takeWipTicket } from '../../store/wip.ts';
import { loadItem, saveItem } from '../../store/items.ts';
import { evaluateWipSubject } from '../../pipeline/wip-alerts.ts';
import { createJsonLogger } from '../../functions/log.ts';
import { keys } from '../../store/keys.ts';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
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
    await syncWipMembership(db, tenant, v2, v1, NOW);
    // v1's processing comes late: Alice's row left a tombstone v1 cannot bring back, and Bob's stays.
    await syncWipMembership(db, tenant, v1, undefined, NOW);
    expect(await readWipRows(db, tenant, `person:${alice.id}`)).toEqual([]);
    expect((await readWipRows(db, tenant, `person:${bob.id}`)).map((r) => r.v)).toEqual([v2.version]);
    await syncWipMembership(db, tenant, { ...v1, status: { name: 'closed', category: 'done' } }, v2, NOW);
    expect(await readWipRows(db, tenant, `person:${bob.id}`)).toHaveLength(1);
  });

  it('renames an item in the rows it stays in when its title changes, never from an older version', async () => {
    const tenant = 'ten_rename';
    const [, v2] = versions();
    await syncWipMembership(db, tenant, v2, undefined, NOW);
    const renamed = { ...v2, version: v2.version + 1, title: 'Renamed' };
    await syncWipMembership(db, tenant, renamed, v2, NOW);
    await syncWipMembership(db, tenant, { ...v2, title: 'Old news' }, { ...v2, version: v2.version - 1 }, NOW);
    expect((await readWipRows(db, tenant, `person:${bob.id}`)).map((r) => r.member?.title)).toEqual(['Renamed']);
  });

  it('keeps when an item joined across re-runs, and names rows written before the hub kept names', async () => {
    const tenant = 'ten_since';
    const deps = { db, clock: () => NOW, log: createJsonLogger('silent') };
    const [, v2] = versions();
    const bobKey = `person:${bob.id}`;
    await syncWipMembership(db, tenant, v2, undefined, NOW);
    const later = { ...v2, version: v2.version + 1, activityAt: at(9) };
    await syncWipMembership(db, tenant, later, undefined, NOW);
    expect((await readWipRows(db, tenant, bobKey))[0]).toMatchObject({ v: later.version, member: { since: v2.activityAt } });

    // A row from before: no name. The first evaluation checks it against its item and names it.
    await saveItem(db, await loadItem(db, tenant, v2.id), v2, []);
    const legacy = { ...keys.wipMember(tenant, bobKey, v2.id), tenantId: tenant, subject: bobKey, itemId: v2.id, v: v2.version, name: 'Bob' };
    await db.doc.send(new PutCommand({ TableName: db.table, Item: legacy }));
    await evaluateWipSubject(deps, tenant, bobKey, DEFAULT_ALERT_SETTINGS);
    expect((await readWipRows(db, tenant, bobKey))[0]?.member).toEqual(wipMemberOf(v2));
  });

  it('counts the rows as they are after a change, and the sweep retires a row a crash left behind', async () => {
    const tenant = 'ten_crash';
    const deps = { db, clock: () => NOW, log: createJsonLogger('silent') };
    const settings = { ...DEFAULT_ALERT_SETTINGS, wipLimitPerPerson: 0 };
    const aliceKey = `person:${alice.id}`;
    const [v1, v2] = versions();
    await saveItem(db, await loadItem(db, tenant, v1.id), v1, []);
    await syncWipMembership(db, tenant, v1, undefined, NOW);
    // Handed to Bob, but the process died after the item write, before its rows moved.
    await saveItem(db, await loadItem(db, tenant, v1.id), v2, []);

    await evaluateWipSubject(deps, tenant, aliceKey, settings);
    expect((await loadAlertRecord(db, tenant, aliceKey, wipAlertId(aliceKey))).alert?.state).toBe('open');
    await evaluateWipSubject(deps, tenant, aliceKey, settings, { confirm: true });
    expect((await loadAlertRecord(db, tenant, aliceKey, wipAlertId(aliceKey))).alert?.state).toBe('resolved');
    expect(await readWipRows(db, tenant, aliceKey)).toEqual([]);
    // The retired row is a tombstone: the late processing of v1 cannot bring it back.
    await syncWipMembership(db, tenant, v1, undefined, NOW);
    expect(await readWipRows(db, tenant, aliceKey)).toEqual([]);
  });

  it('applies the decision of the latest ticket only, and refreshes an open alert without an event', async () => {
    const tenant = 'ten_order';
    const key = `person:${alice.id}`;
    const [v1] = versions();
    const subject = wipSubjectsOf(v1)[0]!;
    const over = evaluateWip(subject, [wipMemberOf(v1), wipMemberOf(v1)], 1, DEFAULT_ALERT_SETTINGS)!;
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
    expect(record.pending.map((e) => e.event.type)).toEqual(['work.alert.raised']);

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
