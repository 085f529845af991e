import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBlockedChains } from '../../pipeline/blocked-chains.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

/** A real `issues` payload for issue `number`, open with `body`, or closed. */
const issue = (number: number, options: { body?: string; closed?: boolean; minute: number }) => {
  const payload = githubExample('issues', 'opened').payload as any;
  payload.action = options.closed ? 'closed' : 'opened';
  payload.issue.number = number;
  payload.issue.id += number;
  payload.issue.title = `Issue ${number}`;
  payload.issue.body = options.body ?? '';
  payload.issue.updated_at = new Date(Date.UTC(2024, 2, 1, 10, options.minute)).toISOString();
  if (options.closed) {
    payload.issue.state = 'closed';
    payload.issue.state_reason = 'completed';
    payload.issue.closed_at = payload.issue.updated_at;
  }
  return payload;
};

describe('the overview’s blocked chains, from a snapshot', () => {
  let hub: TestHub;
  let tenantId: string;
  let github: { id: string; secret: string; webhookUrl: string };

  beforeAll(async () => {
    hub = await startTestHub({ env: { TRIBUTARY_SWEEP_INTERVAL_SECONDS: '0' } });
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'chains' })).body;
    tenantId = tenant.id;
    github = await hub.createConnection('github', tenant.adminToken);
    for (const payload of [issue(1, { body: 'Blocked by #2', minute: 1 }), issue(2, { minute: 2 })]) {
      expect((await postGithub(hub.url, github, 'issues', payload)).status).toBe(202);
    }
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('reads all blocked work at most once per max age, then sees the change', async () => {
    const refs = (chains: Awaited<ReturnType<typeof loadBlockedChains>>) => chains.map((chain) => chain.items.map((i) => i.title));
    const t0 = new Date();
    expect(refs(await loadBlockedChains(hub.hub.db, tenantId, t0))).toEqual([['Issue 2', 'Issue 1']]);

    // Issue 2 closes: issue 1 is no longer blocked.
    expect((await postGithub(hub.url, github, 'issues', issue(2, { closed: true, minute: 3 }))).status).toBe(202);
    await settled(hub);
    expect(refs(await loadBlockedChains(hub.hub.db, tenantId, new Date(t0.getTime() + 5_000)))).toEqual([['Issue 2', 'Issue 1']]);
    expect(refs(await loadBlockedChains(hub.hub.db, tenantId, new Date(t0.getTime() + 16_000)))).toEqual([]);
    expect(refs(await loadBlockedChains(hub.hub.db, tenantId, t0, { maxAgeSeconds: 0 }))).toEqual([]);
  });

  it('keeps only what a chain shows of each item in the snapshot', async () => {
    const [chain] = await loadBlockedChains(hub.hub.db, tenantId, new Date(), { maxAgeSeconds: 0, limit: 1 });
    expect(chain).toBeUndefined();
    expect((await postGithub(hub.url, github, 'issues', issue(3, { body: 'Blocked by #1', minute: 4 }))).status).toBe(202);
    await settled(hub);
    const [fresh] = await loadBlockedChains(hub.hub.db, tenantId, new Date(), { maxAgeSeconds: 0 });
    expect(Object.keys(fresh!.items[0]!).sort()).toEqual(['id', 'ref', 'source', 'title']);
  });
});
