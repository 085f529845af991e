import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../core/events.ts';
import type { EventPublisher } from '../../core/ports.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { type TestHub, eventually, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const SITE = 'acme.atlassian.net';

const blockedPullRequest = (number: number) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = number;
  payload.pull_request.title = 'Retry the tax service';
  payload.pull_request.body = 'Blocked by ACME-101';
  payload.pull_request.created_at = '2024-03-01T10:00:00.000Z';
  payload.pull_request.updated_at = '2024-03-01T10:00:00.000Z';
  return payload;
};

describe('dependency alerts under faults', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  const start = async (publisher?: EventPublisher) => {
    hub = await startTestHub(publisher ? { publisher } : {});
    const jira = await hub.createConnection('jira', undefined, { site: SITE });
    const github = await hub.createConnection('github');
    return { hub, jira, github };
  };

  it('opens one unblocked alert when the blocker closes while its dependents are redelivered concurrently', async () => {
    const { hub, jira, github } = await start();
    const prs = [50, 51, 52].map(blockedPullRequest);
    expect((await postJira(hub.url, jira, cloudPayload('issue-created-acme-101'))).status).toBe(202);
    await settled(hub);
    for (const pr of prs) await postGithub(hub.url, github, 'pull_request', pr);
    await settled(hub);
    expect((await hub.api('GET', '/v1/items?blocked=true')).body.items).toHaveLength(3);

    // The blocker closes while every dependent and the closing update itself are delivered again, at once.
    const done = cloudPayload('issue-updated-acme-101-done');
    await Promise.all([
      postJira(hub.url, jira, done, { identifier: 'done-1' }),
      postJira(hub.url, jira, done, { identifier: 'done-2' }),
      ...prs.flatMap((pr) => [postGithub(hub.url, github, 'pull_request', pr), postGithub(hub.url, github, 'pull_request', pr)]),
    ]);
    await settled(hub);

    const unblocked = (await hub.api('GET', '/v1/alerts?kind=unblocked')).body.items as any[];
    expect(unblocked.map((a) => a.subject.ref).sort()).toEqual(
      prs.map((pr) => `github:${String(pr.repository.full_name).toLowerCase()}#${pr.pull_request.number}`).sort(),
    );
    const raised = hub.publishedEvents().filter((e) => e.type === 'work.alert.raised' && (e.data as any).alert.kind === 'unblocked');
    expect(raised).toHaveLength(3);
    expect((await hub.api('GET', '/v1/items?blocked=true')).body.items).toEqual([]);
  });

  it('keeps alert events on their record while the bus fails, and publishes each once it recovers', async () => {
    let failing = true;
    let attempts = 0;
    const published: EventEnvelope[] = [];
    const flakyBus: EventPublisher = {
      async publish(events) {
        attempts++;
        if (failing) throw new Error('bus unavailable');
        published.push(...events);
        return { failedIds: [] };
      },
    };
    const { hub, jira, github } = await start(flakyBus);
    await postJira(hub.url, jira, cloudPayload('issue-created-acme-101'));
    await postGithub(hub.url, github, 'pull_request', blockedPullRequest(60));
    await eventually(async () => (await hub.api('GET', '/v1/items?blocked=true')).body.items.length === 1, { what: 'the PR to be blocked' });
    await postJira(hub.url, jira, cloudPayload('issue-updated-acme-101-done'));
    await eventually(async () => (await hub.api('GET', '/v1/alerts?kind=unblocked')).body.items.length === 1, { what: 'the unblocked alert' });
    await eventually(() => attempts > 3, { what: 'publish attempts against the failing bus' });
    expect(published).toEqual([]);

    failing = false;
    await settled(hub);
    const alertEvents = published.filter((e) => e.type.startsWith('work.alert.'));
    expect(alertEvents.filter((e) => (e.data as any).alert.kind === 'unblocked')).toHaveLength(1);
    const ids = published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
