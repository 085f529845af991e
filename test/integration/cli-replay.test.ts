import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayProgressLine, runReplayCommand } from '../../functions/cli-replay.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { OPERATOR_TOKEN, type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

describe('npm run tributary -- replay', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub.close());

  it('starts a replay on a running hub and follows it to the end with a progress line', async () => {
    const connection = await hub.createConnection('github');
    for (const number of [1, 2]) {
      const payload = githubExample('pull_request', 'opened').payload as any;
      payload.pull_request.number = number;
      await postGithub(hub.url, connection, 'pull_request', payload);
    }
    await settled(hub);
    const output: string[] = [];
    const job = await runReplayCommand({ hubUrl: hub.url, token: OPERATOR_TOKEN, connectionId: connection.id, pollMs: 20, write: (text) => output.push(text) });
    expect(job).toMatchObject({ status: 'done', connectionId: connection.id, counts: { total: 2, processed: 2, failed: 0 } });
    const text = output.join('');
    expect(text).toContain(`Replay ${job.id} of connection ${connection.id}`);
    expect(text).toContain('[########################] 100% 2/2 deliveries (0 ignored, 0 failed)');
    expect(text).toMatch(/Done\.\n$/);
  });

  it('says what the hub refused', async () => {
    await expect(runReplayCommand({ hubUrl: hub.url, token: OPERATOR_TOKEN, connectionId: 'con_missing', write: () => {} })).rejects.toThrow(
      /POST \/v1\/replay answered 404: Connection con_missing does not exist/,
    );
  });

  it('shows a bar once the total is known', () => {
    const base = { id: 'job_x', status: 'running' as const, connectionId: null, since: null, until: '2026-01-01T00:00:00.000Z', ratePerSecond: 5, etaSeconds: 10, error: null };
    expect(replayProgressLine({ ...base, counts: { total: null, processed: 0, ignored: 0, failed: 0 } })).toBe('counting… 0 deliveries (0 ignored, 0 failed) · 5/s · ETA 10s');
    expect(replayProgressLine({ ...base, counts: { total: 4, processed: 1, ignored: 0, failed: 1 } })).toBe(
      '[######..................] 25% 1/4 deliveries (0 ignored, 1 failed) · 5/s · ETA 10s',
    );
  });
});
