import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const ACME_101 = 'jira:acme.atlassian.net/ACME-101';

/** A real pull_request payload whose body says it is blocked by ACME-101 (a link the connector extracts). */
const pullRequest = () => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = 60;
  payload.pull_request.title = 'Retry the tax service on large carts';
  payload.pull_request.body = 'Blocked by ACME-101: the tax service must batch first.';
  payload.pull_request.head.ref = 'feature/retry-tax';
  payload.pull_request.created_at = new Date(Date.UTC(2024, 2, 1, 10, 0)).toISOString();
  payload.pull_request.updated_at = new Date(Date.UTC(2024, 2, 1, 10, 1)).toISOString();
  return payload;
};
const prRef = (payload: any) => `github:${String(payload.repository.full_name).toLowerCase()}#${payload.pull_request.number}`;

describe('DELETE /v1/links/{id} removes only that manual link', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it("keeps the tool's link to the same target and the item's other manual links", async () => {
    const pr = pullRequest();
    const jira = await hub.createConnection('jira', undefined, { site: 'acme.atlassian.net' });
    const github = await hub.createConnection('github');
    expect((await postJira(hub.url, jira, cloudPayload('issue-created-acme-101'))).status).toBe(202);
    expect((await postGithub(hub.url, github, 'pull_request', pr)).status).toBe(202);
    await settled(hub);
    const item = async () => (await hub.api('GET', `/v1/items/${encodeURIComponent(prRef(pr))}`)).body;
    const extracted = (await item()).links;
    expect(extracted).toEqual([expect.objectContaining({ type: 'blocked_by', target: ACME_101 })]);
    expect((await item()).blocked).toBe(true);

    // A person states the same dependency, and another link to the same issue.
    const blockedBy = await hub.api('POST', '/v1/links', { from: prRef(pr), type: 'blocked_by', to: ACME_101 });
    const relates = await hub.api('POST', '/v1/links', { from: prRef(pr), type: 'relates', to: ACME_101 });
    expect([blockedBy.status, relates.status]).toEqual([201, 201]);
    await settled(hub);
    expect((await item()).links).toHaveLength(3);

    expect((await hub.api('DELETE', `/v1/links/${blockedBy.body.id}`)).status).toBe(204);
    await settled(hub);

    const after = await item();
    expect(after.links).toEqual(
      expect.arrayContaining([...extracted, expect.objectContaining({ type: 'relates', target: ACME_101, origin: 'manual' })]),
    );
    expect(after.links).toHaveLength(2);
    expect(after.links.filter((l: any) => l.origin === 'manual' && l.type === 'blocked_by')).toEqual([]);
    // The PR still waits on ACME-101 through the link the tool made.
    expect(after.blocked).toBe(true);
    expect(after.dependencies.upstream).toEqual([expect.objectContaining({ ref: ACME_101 })]);
    const blocked = (await hub.api('GET', '/v1/items?blocked=true')).body.items.map((i: any) => i.ref);
    expect(blocked).toEqual([prRef(pr)]);

    // The same delivery again (a redelivery) does not bring the removed manual link back.
    expect((await postGithub(hub.url, github, 'pull_request', pr)).status).toBe(202);
    await settled(hub);
    expect((await item()).links).toHaveLength(2);
  });
});
