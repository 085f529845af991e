import { describe, expect, it } from 'vitest';
import { github } from '../../connectors/github/index.ts';
import { type DevelopmentChange, ItemChange, type Normalized } from '../../core/changes.ts';
import { MAX_COMMIT_MESSAGE } from '../../core/development.ts';
import { ValidationError } from '../../core/errors.ts';
import { githubExample, githubExamples, toBody } from '../fixtures/github-examples.ts';

/*
 * Commits and branches that name work items, from real `push`, `create` and `delete` payloads of
 * @octokit/webhooks-examples changed for each case (structuredClone + an edit).
 */

const RECEIVED_AT = '2030-01-01T00:00:00.000Z';
const SHOP = { SHOP: 'shop.atlassian.net' };
const REPO = 'github:codertocat/hello-world';
const STORY = 'jira:shop.atlassian.net/SHOP-42';

interface Context {
  jiraProjects?: Record<string, string>;
  jiraSites?: string[];
}

const normalize = (event: string, payload: unknown, context: Context = { jiraProjects: SHOP }): Normalized =>
  github.normalize(
    { event, headers: { 'x-github-event': event }, body: toBody(payload), receivedAt: RECEIVED_AT },
    { connection: { id: 'con_test', settings: {} }, jiraProjects: context.jiraProjects ?? {}, ...(context.jiraSites ? { jiraSites: context.jiraSites } : {}) },
  );

const developmentOf = (event: string, payload: unknown, context?: Context): DevelopmentChange[] => {
  const result = normalize(event, payload, context);
  if (result.outcome !== 'changes') throw new Error(`expected changes, got ignored: ${result.reason}`);
  for (const change of result.changes) expect(ItemChange.parse(change)).toEqual(change);
  return result.changes.map((change) => {
    if (change.op !== 'development') throw new Error(`expected a development change, got ${change.op}`);
    return change;
  });
};

const changeFor = (changes: DevelopmentChange[], ref: string): DevelopmentChange => {
  const change = changes.find((c) => c.ref === ref);
  if (!change) throw new Error(`no change for ${ref} among ${changes.map((c) => c.ref).join(', ')}`);
  return change;
};

/** The real push of one commit to `master` (created: true), as a template. */
const pushTemplate = (): any => {
  const example = githubExamples('push').find((e) => (e.payload as any).commits?.length > 0);
  if (!example) throw new Error('@octokit/webhooks-examples has no push with commits');
  return example.payload;
};

/** A push to `branch` of commits with these messages, a minute apart. */
const pushOf = (branch: string, messages: string[], edit?: (payload: any) => void): any => {
  const payload = pushTemplate();
  const [commit] = payload.commits;
  payload.ref = `refs/heads/${branch}`;
  payload.created = false;
  payload.commits = messages.map((message, i) => ({
    ...structuredClone(commit),
    id: `${String(i + 1).repeat(7)}${commit.id.slice(7)}`,
    message,
    timestamp: `2019-05-15T15:2${i}:00-07:00`,
    url: `https://github.com/Codertocat/Hello-World/commit/${String(i + 1).repeat(7)}${commit.id.slice(7)}`,
  }));
  edit?.(payload);
  return payload;
};

const branchEvent = (event: 'create' | 'delete', ref: string, refType = 'branch'): any => {
  const payload = githubExample(event).payload as any;
  payload.ref = ref;
  payload.ref_type = refType;
  return payload;
};

describe('github.normalize: every published push, create and delete example', () => {
  const examples = ['push', 'create', 'delete'].flatMap((event) => githubExamples(event, { hosts: 'all' }));

  it.each(examples.map((example) => [example.name, example] as const))('accepts %s, ignoring it with a reason when it names nothing', (_, example) => {
    const result = normalize(example.event, example.payload);
    // The examples push `Initial commit` to master and create and delete a tag: nothing to link.
    expect(result).toEqual({ outcome: 'ignored', event: example.event, reason: expect.any(String) });
  });
});

describe('github.normalize: pushed commits', () => {
  it('links a pushed commit whose message names SHOP-42 to the Jira story', () => {
    const [change] = developmentOf('push', pushOf('main', ['SHOP-42: retry the tax call\n\nBatches of 50.']));
    expect(change).toEqual({
      op: 'development',
      ref: STORY,
      at: '2019-05-15T15:20:57.000Z',
      commits: [
        {
          sha: expect.stringMatching(/^1111111/),
          repository: 'Codertocat/Hello-World',
          message: 'SHOP-42: retry the tax call',
          author: { name: 'Codertocat', login: 'Codertocat' },
          at: '2019-05-15T22:20:00.000Z',
          url: expect.stringMatching(/^https:\/\/github\.com\/Codertocat\/Hello-World\/commit\/1111111/),
          branches: ['main'],
        },
      ],
      branches: [],
    });
  });

  it('links a commit naming #12 and octo/web#3 to those GitHub issues, and one naming a browse URL to its Jira issue', () => {
    const changes = developmentOf(
      'push',
      pushOf('main', ['Retry the tax call (#12)', 'Refs octo/web#3', 'See https://shop.atlassian.net/browse/SHOP-7']),
    );
    expect(changes.map((c) => c.ref)).toEqual([`${REPO}#12`, 'github:octo/web#3', 'jira:shop.atlassian.net/SHOP-7']);
    expect(changeFor(changes, `${REPO}#12`).commits.map((c) => c.message)).toEqual(['Retry the tax call (#12)']);
  });

  it('gives each named item one change carrying every commit that names it, newest first', () => {
    const changes = developmentOf('push', pushOf('main', ['SHOP-42 first part', 'Unrelated cleanup', 'Second part of SHOP-42, fixes #12']));
    expect(changes.map((c) => c.ref)).toEqual([STORY, `${REPO}#12`]);
    expect(changeFor(changes, STORY).commits.map((c) => c.message)).toEqual(['Second part of SHOP-42, fixes #12', 'SHOP-42 first part']);
    expect(changeFor(changes, `${REPO}#12`).commits).toHaveLength(1);
  });

  it('links the merge commit of a pull request to the pull request and to the key in its branch name', () => {
    const changes = developmentOf('push', pushOf('main', ['Merge pull request #13 from codertocat/SHOP-42-login\n\nLogin retries']));
    expect(changes.map((c) => c.ref)).toEqual([`${REPO}#13`, STORY]);
  });

  it('keeps a commit first line only, cut to a title length without splitting a character', () => {
    const long = `SHOP-42 ${'é'.repeat(300)}`;
    const [change] = developmentOf('push', pushOf('main', [`${long}\r\nbody`]));
    const message = change!.commits[0]!.message;
    expect(Array.from(message)).toHaveLength(MAX_COMMIT_MESSAGE);
    expect(message.endsWith('é…')).toBe(true);
  });

  it('ignores a commit that only quotes a key in code, and encodings that look like keys', () => {
    const result = normalize('push', pushOf('main', ['Read the file as UTF-8, not `SHOP-42`']), { jiraProjects: {} });
    expect(result.outcome).toBe('ignored');
  });

  it('links keys of unknown projects provisionally without any Jira known, and to the only Jira site when there is one', () => {
    const payload = pushOf('main', ['SHOP-42: retry']);
    expect(developmentOf('push', payload, { jiraProjects: {} }).map((c) => c.ref)).toEqual(['jira:SHOP-42']);
    expect(developmentOf('push', payload, { jiraProjects: {}, jiraSites: ['shop.atlassian.net'] }).map((c) => c.ref)).toEqual([STORY]);
  });

  it('links the commits of a force push like any others', () => {
    const payload = pushOf('feature/login', ['SHOP-42: retry, rebased'], (p) => {
      p.forced = true;
      p.before = 'f'.repeat(40);
    });
    const [change] = developmentOf('push', payload);
    expect(change).toMatchObject({ ref: STORY, commits: [{ message: 'SHOP-42: retry, rebased', branches: ['feature/login'] }] });
  });

  it('links commits pushed with a tag, on no branch', () => {
    const [change] = developmentOf('push', pushOf('x', ['SHOP-42: release'], (p) => (p.ref = 'refs/tags/v1.2.0')));
    expect(change!.commits[0]!.branches).toEqual([]);
    expect(change!.branches).toEqual([]);
  });

  it('skips a commit GitHub sends incomplete rather than refusing the push, and reads author and time leniently', () => {
    const payload = pushOf('main', ['SHOP-42: one', 'SHOP-42: two'], (p) => {
      delete p.commits[0].id;
      p.commits[1].author = { name: 'Mona Lisa' };
      p.commits[1].timestamp = 'not a date';
    });
    const [change] = developmentOf('push', payload);
    expect(change!.commits).toHaveLength(1);
    expect(change!.commits[0]).toMatchObject({ message: 'SHOP-42: two', author: { name: 'Mona Lisa' }, at: change!.at });
  });

  it('times the change by the push, else by its latest commit, else by the delivery', () => {
    const payload = pushOf('main', ['SHOP-42: one', 'SHOP-42: two']);
    expect(developmentOf('push', payload)[0]!.at).toBe('2019-05-15T15:20:57.000Z');
    delete payload.repository.pushed_at;
    expect(developmentOf('push', payload)[0]!.at).toBe('2019-05-15T22:21:00.000Z');
    for (const commit of payload.commits) delete commit.timestamp;
    expect(developmentOf('push', payload)[0]!.at).toBe(RECEIVED_AT);
  });

  it('ignores a push naming no item, saying what it looked at', () => {
    expect(normalize('push', pushOf('main', ['Tidy up', 'Bump deps']))).toEqual({
      outcome: 'ignored',
      event: 'push',
      reason: 'push to branch main: none of its 2 commits names an issue, a pull request or a Jira issue, and the branch name names no Jira issue.',
    });
    const tagDeletion = githubExamples('push').find((e) => (e.payload as any).deleted)!.payload;
    expect(normalize('push', tagDeletion)).toMatchObject({ reason: 'push deleting refs/tags/simple-tag: only branches are linked to work items.' });
    const tag = githubExamples('push').find((e) => (e.payload as any).created && (e.payload as any).ref.startsWith('refs/tags/'))!.payload;
    expect(normalize('push', tag)).toMatchObject({ reason: 'push to refs/tags/simple-tag: it carries no commits, and only branches are linked to work items.' });
  });

  it('refuses a push without the repository it needs, naming the field', () => {
    const payload = pushOf('main', ['SHOP-42']);
    delete payload.repository.full_name;
    expect(() => normalize('push', payload)).toThrow(ValidationError);
    expect(() => normalize('push', payload)).toThrow(/repository\.full_name/);
  });

  it('gives the same changes for the same delivery, whenever it is normalized', () => {
    const payload = pushOf('feature/SHOP-42', ['SHOP-42 a', 'Fixes #12']);
    expect(normalize('push', payload)).toEqual(normalize('push', structuredClone(payload)));
  });
});

describe('github.normalize: branches named after items', () => {
  it('reports a branch pushed to whose name carries SHOP-42 to the story, with its link', () => {
    const changes = developmentOf('push', pushOf('feature/SHOP-42-login', ['Retry the tax call']));
    expect(changes).toEqual([
      {
        op: 'development',
        ref: STORY,
        at: '2019-05-15T15:20:57.000Z',
        commits: [],
        branches: [
          {
            repository: 'Codertocat/Hello-World',
            name: 'feature/SHOP-42-login',
            url: 'https://github.com/Codertocat/Hello-World/tree/feature/SHOP-42-login',
            at: '2019-05-15T15:20:57.000Z',
          },
        ],
      },
    ]);
  });

  it('reports the branch a push created (created: true) with the commits that name the story', () => {
    const payload = pushOf('SHOP-42-retries', ['SHOP-42: first try'], (p) => (p.created = true));
    const [change] = developmentOf('push', payload);
    expect(change!.branches).toEqual([expect.objectContaining({ name: 'SHOP-42-retries' })]);
    expect(change!.commits).toEqual([expect.objectContaining({ branches: ['SHOP-42-retries'] })]);
  });

  it('reports the branch a push deleted (deleted: true, no commits) as deleted', () => {
    const deletion = githubExamples('push').find((e) => (e.payload as any).deleted)!.payload as any;
    deletion.ref = 'refs/heads/feature/SHOP-42-login';
    expect(developmentOf('push', deletion)).toEqual([
      {
        op: 'development',
        ref: STORY,
        at: '2019-05-15T15:20:57.000Z',
        commits: [],
        branches: [{ repository: 'Codertocat/Hello-World', name: 'feature/SHOP-42-login', at: '2019-05-15T15:20:57.000Z', deleted: true }],
      },
    ]);
  });

  it('links a created branch whose name carries SHOP-42 to the story, timed by the push', () => {
    expect(developmentOf('create', branchEvent('create', 'SHOP-42-login'))).toEqual([
      {
        op: 'development',
        ref: STORY,
        at: '2019-05-15T15:20:56.000Z',
        commits: [],
        branches: [
          {
            repository: 'Codertocat/Hello-World',
            name: 'SHOP-42-login',
            url: 'https://github.com/Codertocat/Hello-World/tree/SHOP-42-login',
            at: '2019-05-15T15:20:56.000Z',
          },
        ],
      },
    ]);
  });

  it('reports a deleted branch as deleted, after its creation', () => {
    const [created] = developmentOf('create', branchEvent('create', 'SHOP-42-login'));
    const [deleted] = developmentOf('delete', branchEvent('delete', 'SHOP-42-login'));
    expect(deleted!.branches).toEqual([{ repository: 'Codertocat/Hello-World', name: 'SHOP-42-login', at: '2019-05-15T15:20:57.000Z', deleted: true }]);
    expect(Date.parse(deleted!.at)).toBeGreaterThan(Date.parse(created!.at));
  });

  it('reads lower-case keys in branch names only for known Jira projects', () => {
    expect(developmentOf('create', branchEvent('create', 'shop-42-login')).map((c) => c.ref)).toEqual([STORY]);
    expect(normalize('create', branchEvent('create', 'fix-login-2')).outcome).toBe('ignored');
  });

  it('escapes a branch name in its link, keeping its slashes', () => {
    const [change] = developmentOf('create', branchEvent('create', 'mona/SHOP-42-#retry%'));
    expect(change!.branches[0]!.url).toBe('https://github.com/Codertocat/Hello-World/tree/mona/SHOP-42-%23retry%25');
  });

  it('ignores tags and branches that name nothing, saying why', () => {
    expect(normalize('create', branchEvent('create', 'SHOP-42', 'tag'))).toEqual({
      outcome: 'ignored',
      event: 'create',
      reason: 'create of tag SHOP-42: only branches are linked to work items.',
    });
    expect(normalize('delete', branchEvent('delete', 'cleanup'))).toEqual({
      outcome: 'ignored',
      event: 'delete',
      reason: 'delete of branch cleanup: its name names no Jira issue.',
    });
  });

  it('falls back to the delivery time when the repository has no pushed_at', () => {
    const payload = branchEvent('create', 'SHOP-42-login');
    payload.repository.pushed_at = null;
    expect(developmentOf('create', payload)[0]!.at).toBe(RECEIVED_AT);
  });
});
