import { setTimeout as sleep } from 'node:timers/promises';

/** The fields of `GET /v1/jobs/{id}` the progress line shows. */
interface JobView {
  id: string;
  status: 'running' | 'done' | 'failed';
  counts: { pages: number; records: number; applied: number; duplicates: number; failed: number };
  remaining: number | null;
  ratePerSecond: number;
  etaSeconds: number | null;
  waitingUntil: string | null;
  error: string | null;
}

const BAR_WIDTH = 24;

const duration = (seconds: number): string =>
  seconds >= 3600 ? `${Math.floor(seconds / 3600)}h${Math.round((seconds % 3600) / 60)}m` : seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;

/**
 * One progress line: a bar when the tool tells how much is left, counts, rate and ETA, and the
 * rate-limit wait when there is one.
 */
export const progressLine = (job: JobView, now = Date.now()): string => {
  const { records, pages, applied, duplicates, failed } = job.counts;
  const total = job.remaining === null ? undefined : records + job.remaining;
  const fraction = job.status === 'done' ? 1 : total ? records / total : undefined;
  const bar = fraction === undefined ? '' : `[${'#'.repeat(Math.round(fraction * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${Math.floor(fraction * 100)}% `;
  const eta = job.status === 'running' && job.etaSeconds !== null ? ` · ETA ${duration(job.etaSeconds)}` : '';
  const waiting = job.waitingUntil && Date.parse(job.waitingUntil) > now ? ` · rate limited, resumes in ${duration(Math.ceil((Date.parse(job.waitingUntil) - now) / 1000))}` : '';
  return `${bar}${records} records (${applied} new, ${duplicates} known, ${failed} failed) · ${pages} pages · ${job.ratePerSecond}/s${eta}${waiting}`;
};

/** `2026-01-01`, an ISO time, or a duration back from now: `30d`, `12h`. */
export const parseSince = (value: string, now = new Date()): string => {
  const relative = /^(\d+)([dh])$/.exec(value);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * (relative[2] === 'd' ? 86_400_000 : 3_600_000)).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new Error(`--since ${value} is not a date (2026-01-01), a time (ISO 8601) or a duration (30d, 12h)`);
  return value;
};

export interface BackfillCommand {
  hubUrl: string;
  token: string;
  connectionId: string;
  since?: string;
  pollMs?: number;
  write?: (text: string) => void;
}

/**
 * `npm run tributary -- backfill <connectionId>`: starts (or joins) the connection's backfill on a
 * running hub and follows it to the end. Resolves with the final job; the job itself runs in the
 * hub, so stopping the command stops nothing.
 */
export const runBackfillCommand = async (command: BackfillCommand): Promise<JobView> => {
  const write = command.write ?? ((text: string) => process.stdout.write(text));
  const call = async (method: string, path: string, body?: unknown): Promise<JobView> => {
    const response = await fetch(`${command.hubUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${command.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) {
      let detail = text;
      try {
        const problem = JSON.parse(text) as { detail?: string; errors?: { path: string; message: string }[] };
        detail = [problem.detail, ...(problem.errors ?? []).map((e) => `${e.path}: ${e.message}`)].filter(Boolean).join('\n  ');
      } catch {
        // not a problem document: show it as is
      }
      throw new Error(`${method} ${path} answered ${response.status}: ${detail}`);
    }
    return JSON.parse(text) as JobView;
  };
  let job = await call('POST', `/v1/connections/${encodeURIComponent(command.connectionId)}/backfill`, command.since ? { since: command.since } : {});
  write(`Backfill ${job.id} of ${command.connectionId}${command.since ? ` since ${command.since}` : ''}\n`);
  while (job.status === 'running') {
    write(`\r${progressLine(job)}   `);
    await sleep(command.pollMs ?? 1000);
    job = await call('GET', `/v1/jobs/${job.id}`);
  }
  write(`\r${progressLine(job)}   \n`);
  write(job.status === 'done' ? 'Done.\n' : `Failed: ${job.error}\n`);
  return job;
};
