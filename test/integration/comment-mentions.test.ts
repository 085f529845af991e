import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload, jiraFixture } from '../fixtures/jira-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

/*
 * Comments are mentions (issue 17): a Jira or GitHub comment naming another item puts the commented
 * item on that item's page under "Mentioned in", until the comment is edited not to name it or
 * deleted. Signed deliveries through the hub, read back from GET /v1/items/{id}/context.
 */

const SITE = 'acme.atlassian.net';
const ref = (key: string) => `jira:${SITE}/${key}`;
const GITHUB_ISSUE = 'github:codertocat/hello-world#1';
const JIRA_COMMENT = 'comment:jira:acme.atlassian.net/10050';
const GITHUB_COMMENT = 'comment:github:492700400';

describe('comments name items across tools', () => {
  let hub: TestHub;
  let token: string;
  let jira: { id: string; secret: string };
  let github: { id: string; secret: string };

  const post = async (delivery: Promise<{ status: number }>) => expect((await delivery).status).toBe(202);
  const postedJira = (payload: unknown) => post(postJira(hub.url, jira, payload));
  const postedGithub = (event: string, payload: unknown) => post(postGithub(hub.url, github, event, payload));

  /** Who mentions the item, as its page lists them: [ref, origin of the link]. */
  const mentionedIn = async (itemRef: string): Promise<[string, string][]> => {
    await settled(hub);
    const response = await hub.api('GET', `/v1/items/${encodeURIComponent(itemRef)}/context`, undefined, token);
    expect(response.status).toBe(200);
    return response.body.context.mentionedIn.map((m: any) => [m.ref, m.via.origin]).sort();
  };

  /** The GitHub example comment on Codertocat/Hello-World#1, with its text naming ACME-102. */
  const githubComment = (action: 'created' | 'deleted') => {
    const payload = githubExample('issue_comment', action).payload as any;
    payload.comment.body = 'A customer hits this too: tracked in ACME-102.';
    return payload;
  };

  beforeAll(async () => {
    hub = await startTestHub();
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'comment mentions' })).body as { adminToken: string };
    token = tenant.adminToken;
    jira = await hub.createConnection('jira', token, { site: SITE });
    github = await hub.createConnection('github', token);
    for (const name of ['issue-created-acme-101', 'issue-created-acme-102'] as const) await postedJira(cloudPayload(name));
    await postedGithub('issues', githubExample('issues', 'opened').payload);
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('lists a Jira issue whose comment names the item among its mentions', async () => {
    expect(await mentionedIn(ref('ACME-102'))).toEqual([]);
    // "Reproduced with 120 items … Blocked on ACME-102 for the rule engine change."
    await postedJira(cloudPayload('comment-created-acme-101'));
    expect(await mentionedIn(ref('ACME-102'))).toEqual([[ref('ACME-101'), JIRA_COMMENT]]);
    const fromIssue = (await hub.api('GET', `/v1/items/${encodeURIComponent(ref('ACME-101'))}/context`, undefined, token)).body.context;
    expect(fromIssue.mentions.map((m: any) => m.ref)).toEqual([ref('ACME-102')]);
  });

  it('lists a GitHub issue whose comment names the item, and drops it when the comment is deleted', async () => {
    await postedGithub('issue_comment', githubComment('created'));
    expect(await mentionedIn(ref('ACME-102'))).toEqual([[GITHUB_ISSUE, GITHUB_COMMENT], [ref('ACME-101'), JIRA_COMMENT]].sort() as [string, string][]);
    await postedGithub('issue_comment', githubComment('deleted'));
    expect(await mentionedIn(ref('ACME-102'))).toEqual([[ref('ACME-101'), JIRA_COMMENT]]);
  });

  it('drops the Jira issue when its comment is edited not to name the item, and keeps what the edit names', async () => {
    // The edit names ACME-104 instead ("the timeout itself is ACME-104").
    await postedJira(jiraFixture('cloud/comment-updated-acme-101'));
    expect(await mentionedIn(ref('ACME-102'))).toEqual([]);
    const issue = (await hub.api('GET', `/v1/items/${encodeURIComponent(ref('ACME-101'))}`, undefined, token)).body;
    expect(issue.links.filter((l: any) => l.type === 'mentions')).toEqual([{ type: 'mentions', target: ref('ACME-104'), origin: JIRA_COMMENT, confidence: 0.8 }]);
  });

  it('drops the mention when the Jira comment is deleted, whatever the issue says after', async () => {
    await postedJira(cloudPayload('comment-created-acme-101'));
    await postedJira(jiraFixture('cloud/comment-deleted-acme-101'));
    // A late delivery of the comment's creation changes nothing: the deletion is newer.
    await postedJira({ ...cloudPayload('comment-created-acme-101'), timestamp: 1709294400999 });
    await postedJira(cloudPayload('issue-updated-acme-101-done'));
    expect(await mentionedIn(ref('ACME-102'))).toEqual([]);
    const issue = (await hub.api('GET', `/v1/items/${encodeURIComponent(ref('ACME-101'))}`, undefined, token)).body;
    expect(issue.links.filter((l: any) => l.type === 'mentions')).toEqual([]);
  });
});
