import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConnectorRegistry } from '../../connectors/index.ts';
import { createJsonLogger } from '../../functions/log.ts';
import { IN_FLIGHT_LIMIT_MS, startErasure } from '../../pipeline/erasure.ts';
import { runOperationJob } from '../../pipeline/operation-jobs.ts';
import { processBatch } from '../../processing/batch.ts';
import { batchWrite } from '../../store/batch.ts';
import { createDb } from '../../store/db.ts';
import { listPendingDeliveries } from '../../store/inbox.ts';
import { keys } from '../../store/keys.ts';
import { getOperationJob } from '../../store/operation-jobs.ts';
import { DANA_TERMS, danaUser, issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { OPERATOR_TOKEN, type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { readAllRows } from '../support/table-rows.ts';

const silent = createJsonLogger('silent');
const PAUSE = 'tributaryTestPauseItemWrite';

/** The identifiers of Dana found in a text; empty once she is erased. */
const named = (text: string) => DANA_TERMS.filter((term) => text.toLowerCase().includes(term.toLowerCase()));

describe('an erasure waits for the deliveries in flight when it began', () => {
  let hub: TestHub;
  let connection: { id: string; secret: string };
  const personWith = async (login: string) =>
    ((await hub.api('GET', '/v1/people')).body.items as any[]).find((p) => p.handles.some((h: any) => h.handle === login)).id as string;

  /** An issue assigned to (and sent by) another GitHub account than Dana, naming only that account. */
  const issueAssignedTo = (login: string, id: number, number: number) => {
    const payload = issueAssignedToDana(number, { body: 'Found while proofreading' });
    const { name: _name, email: _email, ...account } = danaUser();
    const user = { ...account, login, id, avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`, url: `https://api.github.com/users/${login}`, html_url: `https://github.com/${login}` };
    payload.issue.assignee = payload.issue.assignees[0] = payload.assignee = payload.sender = user;
    payload.issue.title = `Spelling error ${number}, cc @${login}`;
    return payload;
  };

  beforeAll(async () => {
    hub = await startTestHub();
    connection = await hub.createConnection('github');
    expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(1))).status).toBe(202);
    await settled(hub);
  });
  afterAll(() => hub?.close());

  it('rewrites nothing until a batch that read the tombstones before they existed has finished, and then leaves nothing of her', async () => {
    await hub.hub.pipeline.processor.stop();
    try {
      expect((await postGithub(hub.url, connection, 'issues', issueAssignedToDana(2))).status).toBe(202);
      const pending = await listPendingDeliveries(hub.hub.db);
      expect(pending).toHaveLength(1);

      // A processor of its own, held at its first item write: it has read the tombstones (none yet) and normalized Dana in clear.
      const db = createDb({ endpoint: inject('dynamodbEndpoint'), table: hub.hub.db.table });
      let reachedWrite!: () => void;
      const atWrite = new Promise<void>((resolve) => (reachedWrite = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      db.doc.middlewareStack.add(
        ((next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
          if (context.commandName === 'PutItemCommand' && args.input.Item?.sk === 'ITEM') {
            reachedWrite();
            await released;
          }
          return next(args);
        }) as never,
        { name: PAUSE, step: 'initialize', priority: 'high' },
      );
      const batch = processBatch({ db, connectors: createConnectorRegistry(), clock: () => new Date(), log: silent }, pending);
      await atWrite;

      const erasure = await fetch(`${hub.url}/v1/people/${await personWith('dana-erasable')}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, prefer: 'respond-async' },
      });
      expect(erasure.status).toBe(202);
      const { id: jobId } = await erasure.json();
      // Long past the queue index's lag and several looks later, the job still waits: the delivery is pending.
      await sleep(3_000);
      const waiting = (await getOperationJob(hub.hub.db, jobId))!;
      expect(waiting).toMatchObject({ status: 'running', phase: 'in-flight' });
      expect(waiting.counts).toEqual({});

      release();
      expect([...(await batch).values()]).toEqual(['processed']);
      db.doc.destroy();
      const job = await eventually(async () => {
        const current = await getOperationJob(hub.hub.db, jobId);
        return current?.status === 'done' ? current : undefined;
      }, { what: 'the erasure to finish' });
      const rows = await readAllRows(hub.hub.db);
      expect(rows.filter(({ text }) => named(text).length > 0).map(({ row }) => `${row.pk} ${row.sk}`)).toEqual([]);
      expect(job.counts).toMatchObject({ itemsRewritten: 2, deliveriesRewritten: 2 });
      expect(job.counts.deliveriesLeftPending).toBeUndefined();
    } finally {
      hub.hub.pipeline.processor.start();
    }
  });

  it('goes on once its limit has passed while a delivery stays pending (the processor stopped), which is pseudonymized when processed', async () => {
    const login = 'Codertocat';
    const personId = await personWith(login);
    await hub.hub.pipeline.processor.stop();
    try {
      expect((await postGithub(hub.url, connection, 'issues', issueAssignedTo(login, 21031067, 3))).status).toBe(202);
      const deps = { db: hub.hub.db, clock: () => new Date(), log: silent, bus: hub.hub.bus };
      const { job } = await startErasure(deps, 'default', personId, 'tok_test');
      // Its runner, the limit later.
      const later = { ...deps, clock: () => new Date(Date.now() + IN_FLIGHT_LIMIT_MS) };
      expect(await runOperationJob(later, job.id, { inline: true, deadline: performance.now() + 60_000 })).toBe(true);
      expect((await getOperationJob(hub.hub.db, job.id))!).toMatchObject({ status: 'done', counts: { deliveriesLeftPending: 1 } });
    } finally {
      hub.hub.pipeline.processor.start();
    }
    await settled(hub);
    const item = ((await hub.api('GET', '/v1/items?limit=200')).body.items as any[]).find((i) => i.title.startsWith('Spelling error 3'));
    expect(item.owners.map((p: any) => p.id)).toEqual([expect.stringMatching(/^p_erased_[0-9a-f]{16}$/)]);
    expect(item.title).toMatch(/^Spelling error 3, cc @erased-[0-9a-f]{16}$/);
  });

  it('reads on past other tenants\' deliveries waiting on the queue, instead of waiting for them', async () => {
    expect((await postGithub(hub.url, connection, 'issues', issueAssignedTo('octo-erin', 7_770_002, 4))).status).toBe(202);
    await settled(hub);
    const personId = await personWith('octo-erin');
    await hub.hub.pipeline.processor.stop();
    // More of another tenant's pending deliveries than one look at the shared queue reads (5 pages of 200), a millisecond apart.
    const since = Date.now() - 60_000;
    const others = Array.from({ length: 1_100 }, (_, n) => {
      const receivedAt = new Date(since + n).toISOString();
      const key = keys.delivery('ten_elsewhere', 'github', `queued-${n}`);
      return { ...key, tenantId: 'ten_elsewhere', source: 'github', connectionId: 'conn_elsewhere', deliveryId: `queued-${n}`, status: 'pending', receivedAt, qpk: keys.queue.inbox, qsk: `${receivedAt}#${key.pk}` };
    });
    await batchWrite(hub.hub.db, others.map((Item) => ({ PutRequest: { Item } })));
    try {
      const deps = { db: hub.hub.db, clock: () => new Date(), log: silent, bus: hub.hub.bus };
      const { job } = await startErasure(deps, 'default', personId, 'tok_test');
      // Its runner past the queue index's lag: it finishes within its budget, having found nothing of its tenant's pending.
      const later = { ...deps, clock: () => new Date(Date.now() + 2_000) };
      expect(await runOperationJob(later, job.id, { inline: true, deadline: performance.now() + 15_000 })).toBe(true);
      const done = (await getOperationJob(hub.hub.db, job.id))!;
      expect(done.status).toBe('done');
      expect(done.counts.deliveriesLeftPending).toBeUndefined();
    } finally {
      await batchWrite(hub.hub.db, others.map(({ pk, sk }) => ({ DeleteRequest: { Key: { pk, sk } } })));
      hub.hub.pipeline.processor.start();
    }
  });
});
