import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const ACME_101 = 'jira:acme.atlassian.net/ACME-101';

/** Real pull_request payloads: `blocked` ones say they are blocked by ACME-101. */
const pullRequest = (number: number, blocked: boolean) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = number;
  payload.pull_request.title = `Change ${number}`;
  payload.pull_request.body = blocked ? 'Blocked by ACME-101.' : 'A change on its own.';
  payload.pull_request.head.ref = `feature/change-${number}`;
  payload.pull_request.created_at = new Date(Date.UTC(2024, 2, 1, 10, 0)).toISOString();
  payload.pull_request.updated_at = new Date(Date.UTC(2024, 2, 1, 10, number)).toISOString();
  return payload;
};
const prRef = (number: number) => `github:codertocat/hello-world#${number}`;

describe('GET /v1/items: every entry carries its blocked flag', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it('answers blocked: true|false on each list entry, the same as ?blocked= and the item page', async () => {
    const jira = await hub.createConnection('jira', undefined, { site: 'acme.atlassian.net' });
    const github = await hub.createConnection('github');
    expect((await postJira(hub.url, jira, cloudPayload('issue-created-acme-101'))).status).toBe(202);
    for (const [number, blocked] of [[1, true], [2, false], [3, true]] as const) {
      expect((await postGithub(hub.url, github, 'pull_request', pullRequest(number, blocked))).status).toBe(202);
    }
    await settled(hub);

    const flags = async (query = '') => {
      const { status, body } = await hub.api('GET', `/v1/items?limit=2${query}`);
      expect(status).toBe(200);
      const out: Record<string, boolean> = {};
      // Two pages of two: the flag comes with every page, not only the first.
      for (const entry of body.items) out[entry.ref] = entry.blocked;
      if (body.nextCursor) {
        const next = await hub.api('GET', `/v1/items?limit=2${query}&cursor=${encodeURIComponent(body.nextCursor)}`);
        for (const entry of next.body.items) out[entry.ref] = entry.blocked;
      }
      return out;
    };
    const all = await flags();
    expect(all).toEqual({ [prRef(1)]: true, [prRef(2)]: false, [prRef(3)]: true, [ACME_101]: false });
    expect(await flags('&blocked=true')).toEqual({ [prRef(1)]: true, [prRef(3)]: true });
    expect(await flags('&blocked=false')).toEqual({ [prRef(2)]: false, [ACME_101]: false });
    for (const [ref, blocked] of Object.entries(all)) {
      expect((await hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`)).body.blocked, ref).toBe(blocked);
    }

    // The blocker is done: every list entry says so.
    expect((await postJira(hub.url, jira, cloudPayload('issue-updated-acme-101-done'))).status).toBe(202);
    await settled(hub);
    expect(Object.values(await flags())).toEqual([false, false, false, false]);

    const schema = (await hub.api('GET', '/openapi.json')).body;
    const listed = JSON.stringify(schema.paths['/v1/items'].get.responses['200']);
    expect(listed).toContain('blocked');
  });
});
