import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubExamples } from '../fixtures/github-examples.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

const issue = (number: number, body: string) => {
  const payload = githubExamples('issues', { action: 'opened' })[0]!.payload as any;
  payload.issue.number = number;
  payload.issue.title = `Issue ${number}`;
  payload.issue.body = body;
  payload.issue.state = 'open';
  payload.issue.labels = [];
  payload.issue.updated_at = new Date(Date.UTC(2030, 0, 1, 0, number)).toISOString();
  return payload;
};

describe('GET /v1/views/bottlenecks', () => {
  let hub: TestHub;
  let repo: string;

  beforeAll(async () => {
    hub = await startTestHub();
    const connection = await hub.createConnection('github');
    // #10 blocks #11, which blocks #12 and #13: #10 holds up three items, #11 two.
    for (const [number, body] of [
      [10, 'The root cause.'],
      [11, 'Blocked by #10'],
      [12, 'Blocked by #11'],
      [13, 'Depends on #11'],
    ] as const) {
      expect((await postGithub(hub.url, connection, 'issues', issue(number, body))).status).toBe(202);
    }
    const pr = githubExamples('pull_request', { action: 'opened' })[0]!.payload;
    await postGithub(hub.url, connection, 'pull_request', pr);
    repo = String((issue(1, '') as any).repository.full_name).toLowerCase();
    await settled(hub);
  });
  afterAll(() => hub.close());

  it('ranks items by the open work waiting on them, transitively', async () => {
    const { status, body } = await hub.api('GET', '/v1/views/bottlenecks');
    expect(status).toBe(200);
    expect(body.holders.map((h: any) => [h.ref, h.blockedCount, h.directlyBlocked])).toEqual([
      [`github:${repo}#10`, 3, 1],
      [`github:${repo}#11`, 2, 2],
    ]);
  });

  it('lists pull requests waiting for review longer than the threshold', async () => {
    const { body } = await hub.api('GET', '/v1/views/bottlenecks?reviewWaitHours=1');
    expect(body.waitingForReview.length).toBeGreaterThan(0);
    expect(body.waitingForReview[0].waitingHours).toBeGreaterThan(1);
  });

  it('frees a holder once its blocker closes', async () => {
    const connection = await hub.createConnection('github');
    const closed = issue(10, 'The root cause.');
    closed.action = 'closed';
    closed.issue.state = 'closed';
    closed.issue.state_reason = 'completed';
    closed.issue.updated_at = '2030-01-02T00:00:00Z';
    const before = await hub.api('GET', '/v1/views/bottlenecks');
    await postGithub(hub.url, connection, 'issues', closed);
    await settled(hub);
    // The default answer is a snapshot up to 30 s old: the same analysis, at the same time.
    const snapshot = await hub.api('GET', '/v1/views/bottlenecks');
    expect(snapshot.body).toEqual(before.body);
    const { body } = await hub.api('GET', '/v1/views/bottlenecks?maxAgeSeconds=0');
    expect(body.holders.map((h: any) => h.ref)).toEqual([`github:${repo}#11`]);
    expect(Date.parse(body.computedAt)).toBeGreaterThan(Date.parse(before.body.computedAt));
    // …and the fresh analysis is the snapshot from now on.
    expect((await hub.api('GET', '/v1/views/bottlenecks')).body).toEqual(body);
  });

  it('validates its thresholds', async () => {
    expect((await hub.api('GET', '/v1/views/bottlenecks?reviewWaitHours=-1')).status).toBe(422);
    expect((await hub.api('GET', '/v1/views/bottlenecks?maxAgeSeconds=-1')).status).toBe(422);
  });
});
