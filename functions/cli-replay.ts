import { setTimeout as sleep } from 'node:timers/promises';

/** The fields of a replay's `GET /v1/jobs/{id}` the progress line shows. */
export interface ReplayJobView {
  id: string;
  status: 'running' | 'done' | 'failed';
  connectionId: string | null;
  since: string | null;
  until: string;
  counts: { total: number | null; processed: number; ignored: number; failed: number };
  ratePerSecond: number;
  etaSeconds: number | null;
  error: string | null;
}

const BAR_WIDTH = 24;

/** One progress line: a bar once the total is counted, counts, rate and ETA. */
export const replayProgressLine = (job: ReplayJobView): string => {
  const { total, processed, ignored, failed } = job.counts;
  const fraction = job.status === 'done' ? 1 : total ? Math.min(processed / total, 1) : total === 0 ? 1 : undefined;
  const bar = fraction === undefined ? 'counting… ' : `[${'#'.repeat(Math.round(fraction * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${Math.floor(fraction * 100)}% `;
  const eta = job.status === 'running' && job.etaSeconds !== null ? ` · ETA ${job.etaSeconds}s` : '';
  return `${bar}${processed}${total === null ? '' : `/${total}`} deliveries (${ignored} ignored, ${failed} failed) · ${job.ratePerSecond}/s${eta}`;
};

export interface ReplayCommand {
  hubUrl: string;
  token: string;
  connectionId?: string;
  since?: string;
  until?: string;
  pollMs?: number;
  /** where the progress goes: stderr by default, so stdout stays for results */
  write?: (text: string) => void;
}

/** A problem document's `detail` and field errors, for a readable failure. */
const describeProblem = (text: string): string => {
  try {
    const problem = JSON.parse(text) as { detail?: string; errors?: { path: string; message: string }[] };
    return [problem.detail, ...(problem.errors ?? []).map((e) => `${e.path}: ${e.message}`)].filter(Boolean).join('\n  ');
  } catch {
    return text;
  }
};

/**
 * `npm run tributary -- replay [--connection id] [--since iso] [--until iso]`: starts a replay on a
 * running hub and follows it to the end. Resolves with the final job; the job runs in the hub (and
 * resumes there after a restart), so stopping the command stops nothing.
 */
export const runReplayCommand = async (command: ReplayCommand): Promise<ReplayJobView> => {
  const write = command.write ?? ((text: string) => process.stderr.write(text));
  const call = async (method: string, path: string, body?: unknown): Promise<ReplayJobView> => {
    const response = await fetch(`${command.hubUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${command.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${describeProblem(text)}`);
    return JSON.parse(text) as ReplayJobView;
  };
  const body = {
    ...(command.connectionId ? { connectionId: command.connectionId } : {}),
    ...(command.since ? { since: command.since } : {}),
    ...(command.until ? { until: command.until } : {}),
  };
  let job = await call('POST', '/v1/replay', body);
  const scope = job.connectionId ? `connection ${job.connectionId}` : 'every connection';
  write(`Replay ${job.id} of ${scope}, deliveries received ${job.since ? `from ${job.since} ` : ''}until ${job.until}\n`);
  while (job.status === 'running') {
    write(`\r${replayProgressLine(job)}   `);
    await sleep(command.pollMs ?? 1000);
    job = await call('GET', `/v1/jobs/${job.id}`);
  }
  write(`\r${replayProgressLine(job)}   \n`);
  write(job.status === 'done' ? 'Done.\n' : `Failed: ${job.error}\n`);
  return job;
};
