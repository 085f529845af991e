import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startErasure } from '../../pipeline/erasure.ts';
import { runOperationJob } from '../../pipeline/operation-jobs.ts';
import { getOperationJob } from '../../store/operation-jobs.ts';
import { issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('an erasure run inline is bounded by a deadline, not a step count', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
    const connection = await hub.createConnection('github');
    expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(1))).status).toBe(202);
    await settled(hub);
  });
  afterAll(() => hub?.close());

  it('stops at the first step boundary past the deadline, hands the job over, and resumes from its checkpoint', async () => {
    const deps = { db: hub.hub.db, clock: () => new Date(), log: silent, bus: hub.hub.bus };
    const dana = ((await hub.api('GET', '/v1/people')).body.items as any[]).find((p) => p.handles.some((h: any) => h.handle === 'dana-erasable'));
    const { job } = await startErasure(deps, 'default', dana.id, 'tok_test');
    // Its runner a few seconds later (past the in-flight phase's first look), with a monotonic time
    // that moves one unit per look: the deadline passes after exactly two steps.
    const later = { ...deps, clock: () => new Date(Date.now() + 5_000) };
    let now = 0;
    const finished = await runOperationJob(later, job.id, { deadline: 2, monotonic: () => now++, inline: true });
    expect(finished).toBe(false);
    const paused = (await getOperationJob(hub.hub.db, job.id))!;
    expect(paused).toMatchObject({ status: 'running', phase: 'alerts' });
    expect(paused.runAfter).toBeUndefined();
    // Handed over, the job may be taken by this run or by the hub's own runner: either finishes it.
    expect(await runOperationJob(deps, job.id, { inline: true })).toBe(true);
    await eventually(async () => (await getOperationJob(hub.hub.db, job.id))?.status === 'done', { what: 'the erasure to finish' });
    expect((await getOperationJob(hub.hub.db, job.id))!).toMatchObject({ status: 'done', phase: 'done' });
  });
});
