import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExample, githubExamples } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

/*
 * Commits and branches reach their stories, over real signed HTTP requests: GitHub `push`, `create`
 * and `delete` payloads of @octokit/webhooks-examples, changed per case, and Jira's issue webhooks.
 */

const SITE = 'acme.atlassian.net';
const story = (key: string) => `jira:${SITE}/${key}`;
type Connection = { id: string; secret: string; webhookUrl: string };

let shas = 1;

/** The real push of one commit, to `branch`, of commits with these messages (a minute apart), each with a sha of its own. */
const pushOf = (branch: string, messages: string[], edit?: (payload: any) => void): any => {
  const payload = githubExamples('push').find((e) => (e.payload as any).commits?.length > 0)!.payload as any;
  const [template] = payload.commits;
  payload.ref = `refs/heads/${branch}`;
  payload.created = false;
  payload.commits = messages.map((message, i) => {
    const id = `${(shas++).toString(16).padStart(7, '0')}${template.id.slice(7)}`;
    return { ...structuredClone(template), id, message, timestamp: `2019-05-15T15:2${i}:00Z`, url: `https://github.com/Codertocat/Hello-World/commit/${id}` };
  });
  edit?.(payload);
  return payload;
};

const branchEvent = (event: 'create' | 'delete', ref: string, pushedAt: string): any => {
  const payload = githubExample(event).payload as any;
  Object.assign(payload, { ref, ref_type: 'branch' });
  payload.repository.pushed_at = pushedAt;
  return payload;
};

/** A Jira issue of the cloud fixtures under another key, so each case has a story of its own. */
const jiraIssue = (key: string) => {
  const payload = cloudPayload('issue-created-acme-101');
  payload.issue.key = key;
  payload.issue.id = String(20_000 + Number(key.split('-')[1]));
  return payload;
};

describe('commits and branches reach their stories', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  /** A tenant of its own, so cases do not meet. */
  const newTenant = async (name: string) => {
    const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { id: string; adminToken: string };
    const token = tenant.adminToken;
    return {
      github: () => hub.createConnection('github', token) as Promise<Connection>,
      jira: () => hub.createConnection('jira', token, { site: SITE }) as Promise<Connection>,
      item: async (ref: string) => hub.api('GET', `/v1/items/${encodeURIComponent(ref)}`, undefined, token),
      deliveries: async (status: string) => (await hub.api('GET', `/v1/deliveries?status=${status}&limit=200`, undefined, token)).body.items as any[],
      events: () => hub.publishedEvents().filter((e) => e.tenantId === tenant.id),
    };
  };

  it('links a pushed commit whose message names ACME-401 to the Jira story that arrives after it', async () => {
    const tenant = await newTenant('push before story');
    const [github, jira] = [await tenant.github(), await tenant.jira()];
    const push = pushOf('main', ['ACME-401: batch the tax calls\n\nFifty at a time.', 'Unrelated cleanup']);
    expect((await postGithub(hub.url, github, 'push', push)).status).toBe(202);
    await settled(hub);
    expect((await tenant.item(story('ACME-401'))).status).toBe(404);
    expect((await tenant.deliveries('processed')).map((d) => d.event)).toEqual(['push']);

    expect((await postJira(hub.url, jira, jiraIssue('ACME-401'))).status).toBe(202);
    const item = await eventually(async () => {
      const { body } = await tenant.item(story('ACME-401'));
      return body?.development ? body : undefined;
    });
    expect(item.development).toEqual({
      commits: [
        {
          sha: push.commits[0].id,
          repository: 'Codertocat/Hello-World',
          message: 'ACME-401: batch the tax calls',
          author: { name: 'Codertocat', login: 'Codertocat' },
          at: '2019-05-15T15:20:00.000Z',
          url: push.commits[0].url,
          branches: ['main'],
        },
      ],
      branches: [],
    });
    await settled(hub);
    // The story is announced first, then what the push it waited for brought.
    const types = tenant.events().filter((e) => e.subject === story('ACME-401')).map((e) => e.type);
    expect(types.filter((t) => t === 'work.item.created' || t === 'work.item.development_changed')).toEqual([
      'work.item.created',
      'work.item.development_changed',
    ]);
    const [announced] = tenant.events().filter((e) => e.type === 'work.item.development_changed');
    expect((announced!.data as any).commitsAdded.map((c: any) => c.sha)).toEqual([push.commits[0].id]);
  });

  it('links it too when no Jira was connected at push time (the key stays provisional until the story arrives)', async () => {
    const tenant = await newTenant('no jira yet');
    const github = await tenant.github();
    expect((await postGithub(hub.url, github, 'push', pushOf('feature/ACME-402-retries', ['ACME-402: retry on 503']))).status).toBe(202);
    await settled(hub);
    const jira = await tenant.jira();
    expect((await postJira(hub.url, jira, jiraIssue('ACME-402'))).status).toBe(202);
    const item = await eventually(async () => {
      const { body } = await tenant.item(story('ACME-402'));
      return body?.development ? body : undefined;
    });
    expect(item.development.commits.map((c: any) => [c.message, c.branches])).toEqual([['ACME-402: retry on 503', ['feature/ACME-402-retries']]]);
    expect(item.development.branches.map((b: any) => b.name)).toEqual(['feature/ACME-402-retries']);
  });

  it('shows a branch named after a story, then its deletion, and announces both, whatever order they arrive in', async () => {
    const tenant = await newTenant('branches');
    const [github, jira] = [await tenant.github(), await tenant.jira()];
    expect((await postJira(hub.url, jira, jiraIssue('ACME-403'))).status).toBe(202);
    await settled(hub);

    expect((await postGithub(hub.url, github, 'create', branchEvent('create', 'feature/ACME-403-login', '2030-01-01T10:00:00Z'))).status).toBe(202);
    await settled(hub);
    const created = (await tenant.item(story('ACME-403'))).body;
    expect(created.development.branches).toEqual([
      {
        repository: 'Codertocat/Hello-World',
        name: 'feature/ACME-403-login',
        url: 'https://github.com/Codertocat/Hello-World/tree/feature/ACME-403-login',
        at: '2030-01-01T10:00:00.000Z',
      },
    ]);
    expect((await postGithub(hub.url, github, 'delete', branchEvent('delete', 'feature/ACME-403-login', '2030-01-02T10:00:00Z'))).status).toBe(202);
    // A second branch whose deletion arrives before its creation: it stays deleted.
    expect((await postGithub(hub.url, github, 'delete', branchEvent('delete', 'ACME-403-spike', '2030-01-03T10:00:00Z'))).status).toBe(202);
    expect((await postGithub(hub.url, github, 'create', branchEvent('create', 'ACME-403-spike', '2030-01-01T12:00:00Z'))).status).toBe(202);
    await settled(hub);

    const { body } = await tenant.item(story('ACME-403'));
    expect(body.development.branches.map((b: any) => [b.name, b.deleted ?? false])).toEqual([
      ['ACME-403-spike', true],
      ['feature/ACME-403-login', true],
    ]);
    const development = tenant.events().filter((e) => e.type === 'work.item.development_changed').map((e) => e.data as any);
    expect(development.map((d) => [d.branchesAdded.map((b: any) => b.name), d.branchesRemoved.map((b: any) => b.name)])).toEqual([
      [['feature/ACME-403-login'], []],
      [[], ['feature/ACME-403-login']],
    ]);
  });

  it('links commits naming #N to the GitHub issue, a force push too, and a redelivered push changes nothing', async () => {
    const tenant = await newTenant('github issue');
    const github = await tenant.github();
    const issue = githubExample('issues', 'opened').payload as any;
    const ref = `github:${String(issue.repository.full_name).toLowerCase()}#${issue.issue.number}`;
    expect((await postGithub(hub.url, github, 'issues', issue)).status).toBe(202);
    const push = pushOf('fix-login', [`Retry the login, fixes #${issue.issue.number}`, 'Refs Codertocat/Hello-World#1 again']);
    expect((await postGithub(hub.url, github, 'push', push)).status).toBe(202);
    await settled(hub);
    const first = (await tenant.item(ref)).body;
    expect(first.development.commits.map((c: any) => c.message)).toEqual(['Refs Codertocat/Hello-World#1 again', 'Retry the login, fixes #1']);

    // GitHub never retries, but a person can redeliver from the settings (a new delivery id), and a replay re-reads it.
    expect((await postGithub(hub.url, github, 'push', push)).body.status).toBe('accepted');
    await settled(hub);
    expect((await tenant.item(ref)).body.version).toBe(first.version);

    const forced = pushOf('fix-login', ['Retry the login, rebased (#1)'], (p) => {
      p.forced = true;
      p.repository.pushed_at = 1_900_000_000;
    });
    expect((await postGithub(hub.url, github, 'push', forced)).status).toBe(202);
    await settled(hub);
    const after = (await tenant.item(ref)).body;
    expect(after.development.commits).toHaveLength(3);
    expect(after.development.commits.map((c: any) => c.sha)).toContain(forced.commits[0].id);
    expect(after.activityAt).toBe(new Date(1_900_000_000_000).toISOString());
  });

  it('accepts every published push, create and delete example, and fails none', async () => {
    const tenant = await newTenant('examples');
    const github = await tenant.github();
    const examples = ['push', 'create', 'delete'].flatMap((event) => githubExamples(event, { hosts: 'all' }));
    for (const example of examples) {
      const response = await postGithub(hub.url, github, example.event, example.payload);
      expect(response.status, example.name).toBe(202);
    }
    await settled(hub);
    expect(await tenant.deliveries('failed')).toEqual([]);
    const ignored = await tenant.deliveries('ignored');
    expect(ignored).toHaveLength(examples.length);
    for (const delivery of ignored) expect(delivery.reason).toMatch(/names no|only branches/);
  });
});
