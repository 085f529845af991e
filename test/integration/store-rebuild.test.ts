import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { githubExamples } from '../fixtures/github-examples.ts';
import { createDb, ensureTable } from '../../store/db.ts';
import { rebuildIndex } from '../../store/rebuild.ts';
import { type TestHub, postGithub, settled, startTestHub, uniqueTable } from '../support/hub.ts';

describe('rebuilding the index into a new table', () => {
  let original: TestHub;
  beforeAll(async () => {
    original = await startTestHub();
  });
  afterAll(() => original.close());

  it('re-derives the same items from the stored deliveries, with the same tokens and connections', async () => {
    const connection = await original.createConnection('github');
    // The rebuilt hub processes deliveries concurrently, so they may apply in another order.
    const history = [...githubExamples('issues'), ...githubExamples('pull_request')].filter((e) => !['deleted', 'transferred'].includes(e.action ?? ''));
    // Real payloads of one item share an updated_at; distinct times make the history a strict order.
    for (const [index, example] of history.entries()) {
      const payload = example.payload as any;
      (payload.pull_request ?? payload.issue).updated_at = new Date(Date.UTC(2030, 0, 1, 0, index)).toISOString();
      await postGithub(original.url, connection, example.event, payload);
    }
    await settled(original);
    const before = (await original.api('GET', '/v1/items?includeDeleted=true&limit=200')).body.items;

    const table = uniqueTable('rebuilt');
    const target = createDb({ endpoint: inject('dynamodbEndpoint'), table });
    await ensureTable(target);
    const progress = await rebuildIndex(original.hub.db, target);
    expect(progress.deliveries).toBeGreaterThan(20);
    expect(await rebuildIndex(original.hub.db, target)).toMatchObject({ copied: 0 });

    const rebuilt = await startTestHub({ env: { TRIBUTARY_TABLE: table } });
    try {
      await settled(rebuilt);
      const after = (await rebuilt.api('GET', '/v1/items?includeDeleted=true&limit=200')).body.items;
      const shape = (items: any[]) =>
        items.map(({ version: _v, ...item }) => item).sort((a, b) => a.ref.localeCompare(b.ref));
      for (const [i, item] of shape(after).entries()) expect(item, item.ref).toEqual(shape(before)[i]);
      // The connection still verifies deliveries in the new table.
      expect((await postGithub(rebuilt.url, connection, 'issues', githubExamples('issues')[0]!.payload)).status).toBe(202);
    } finally {
      await rebuilt.close();
    }
  });
});
