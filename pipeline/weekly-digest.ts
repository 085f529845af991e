import { digestEventId, digestSubject, previousIsoWeek } from '../core/digest.ts';
import { EVENT_SCHEMA_VERSION, type EventEnvelope } from '../core/events.ts';
import type { Clock, EventPublisher, Logger } from '../core/ports.ts';
import type { Db } from '../store/db.ts';
import { readCounters } from '../store/aggregates.ts';
import { listTenantIds } from '../store/hub-stats.ts';
import { claimNewDigest, getDigestRecord, isDigestWeekDone, markDigestPublished, markDigestWeekDone, reclaimDigest } from '../store/digests.ts';
import { loadDigests, teamNamesOf } from './digest.ts';

export interface WeeklyDigestDeps {
  db: Db;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
}

export interface WeeklyDigestReport {
  week: string;
  published: number;
  /** digests another sweep is publishing, or already published */
  skipped: number;
  errors: number;
  /** every tenant's digests of the week are out (later sweeps of the week read one row) */
  done: boolean;
}

/** A claim older than this is taken over: its sweep stopped, or the bus refused the event. */
const CLAIM_LEASE_MS = 5 * 60_000;

/**
 * Publishes last ISO week's status digest of every tenant with open work, and of each team in its
 * team map, as `work.digest.ready` (once a week, from the scheduled sweep). The event id derives
 * from (tenant, team, ISO week), and publishing is claimed per digest (store/digests.ts), so
 * overlapping or repeated sweeps publish each digest once; a crashed one is finished by the next.
 */
export const publishWeeklyDigests = async (deps: WeeklyDigestDeps, options: { deadline?: number } = {}): Promise<WeeklyDigestReport> => {
  const now = deps.clock();
  const { week, since, until } = previousIsoWeek(now);
  const report: WeeklyDigestReport = { week, published: 0, skipped: 0, errors: 0, done: false };
  if (await isDigestWeekDone(deps.db, week)) return { ...report, done: true };
  const tenants = (await tenantsWithOpenWork(deps.db)).sort();
  let complete = true;
  for (const tenantId of tenants) {
    if (options.deadline !== undefined && Date.now() > options.deadline) {
      complete = false;
      break;
    }
    try {
      const teams = [undefined, ...(await teamNamesOf(deps.db, tenantId))];
      const pending: (string | undefined)[] = [];
      for (const team of teams) {
        const record = await getDigestRecord(deps.db, tenantId, week, team);
        if (record?.publishedAt) continue;
        if (record && Date.parse(record.claimedAt) > now.getTime() - CLAIM_LEASE_MS) {
          report.skipped++;
          complete = false;
          continue;
        }
        if (record) {
          if (await reclaimDigest(deps.db, tenantId, week, team, record.claimedAt, now)) await publish(deps, tenantId, week, team, record.event, report);
          else report.skipped++;
          complete = false;
          continue;
        }
        pending.push(team);
      }
      if (pending.length === 0) continue;
      const digests = await loadDigests(deps.db, tenantId, { since, until }, pending);
      for (const [index, team] of pending.entries()) {
        const event: EventEnvelope = {
          id: digestEventId(tenantId, team, week),
          type: 'work.digest.ready',
          time: now.toISOString(),
          tenantId,
          subject: digestSubject(week, team),
          schemaVersion: EVENT_SCHEMA_VERSION,
          data: { week, digest: digests[index]! },
        };
        if (!(await claimNewDigest(deps.db, tenantId, week, team, event, now))) {
          report.skipped++;
          complete = false;
          continue;
        }
        if (!(await publish(deps, tenantId, week, team, event, report))) complete = false;
      }
    } catch (error) {
      complete = false;
      report.errors++;
      deps.log.warn('weekly digest failed, the next sweep retries it', { tenantId, week, error: String(error) });
    }
  }
  if (complete && report.errors === 0) {
    await markDigestWeekDone(deps.db, week, tenants.length, now);
    report.done = true;
  }
  return report;
};

/**
 * The tenants (the tenants index) with open work, by their `open` counter: one Query of a few
 * counter rows per tenant. A tenant without open work gets no digest.
 */
const tenantsWithOpenWork = async (db: Db): Promise<string[]> => {
  const tenants: string[] = [];
  for (const tenantId of await listTenantIds(db)) if (((await readCounters(db, tenantId)).open ?? 0) > 0) tenants.push(tenantId);
  return tenants;
};

const publish = async (deps: WeeklyDigestDeps, tenantId: string, week: string, team: string | undefined, event: EventEnvelope, report: WeeklyDigestReport) => {
  const { failedIds } = await deps.publisher.publish([event]);
  if (failedIds.length > 0) {
    deps.log.warn('weekly digest not published, the next sweep retries it', { tenantId, week, team: team ?? null });
    return false;
  }
  await markDigestPublished(deps.db, tenantId, week, team, deps.clock());
  report.published++;
  return true;
};
