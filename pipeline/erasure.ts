import { randomBytes } from 'node:crypto';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalBus, LogRewriteCursor } from '../bus/local-bus.ts';
import { type ErasureTerms, erasedPerson, identifierHash, isPseudonym, mayMention, personIdentifiers, scrubBody, scrubItem, scrubJson, termsOf } from '../core/erasure.ts';
import { AppError, NotFoundError, VersionConflictError } from '../core/errors.ts';
import type { EventEnvelope } from '../core/events.ts';
import { randomId } from '../core/ids.ts';
import type { Clock, Logger } from '../core/ports.ts';
import type { Person } from '../core/work-item.ts';
import { AGGREGATE_SHARDS, recordContribution } from '../store/aggregates.ts';
import { recordAudit } from '../store/audit.ts';
import { batchWrite } from '../store/batch.ts';
import { decodeBody } from '../store/body-codec.ts';
import { countDeliveries, queryDeliveries } from '../store/deliveries.ts';
import { itemDocJson } from '../store/item-codec.ts';
import type { Db } from '../store/db.ts';
import { personKeyedRows } from '../store/erasure-keys.ts';
import { readRow, rewriteAttributes, rewriteDeliveryBody, rewriteEventPayload, rewriteRow } from '../store/erasure-rewrites.ts';
import { claimErasure, getErasureMarker, markErased, putTombstone } from '../store/erasures.ts';
import { type StoredPending, loadItem, saveItem, syncDerivedRows } from '../store/items.ts';
import { unlogged, writeEventLog } from '../store/event-log.ts';
import { keys } from '../store/keys.ts';
import { decodeStoredEvent, encodeStoredEvent, storedEventJson } from '../store/stored-event.ts';
import { type OperationJob, createOperationJob, getOperationJob } from '../store/operation-jobs.ts';
import { type PersonRecord, canonicalResolver, listPersonRecords } from '../store/people.ts';
import { getTeamMap, putTeamMap } from '../store/teams.ts';
import { scanPage } from '../store/scan-page.ts';
import { forgetVerifiedEmails } from '../store/verified-email-merge.ts';
import { syncWipMembership } from '../store/wip.ts';
import type { ConnectionCache } from './connection-cache.ts';
import { teamCacheFor } from './team-cache.ts';

/** What erasure and purge jobs need; `bus` is the local bus whose JSONL log an erasure rewrites (absent in AWS). */
export interface OperationDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  bus?: LocalBus;
  connections?: ConnectionCache;
}

/** What one bounded step of a job did: where the job goes next and what it counted. */
export interface StepResult {
  phase: string;
  cursor: Record<string, unknown> | null;
  counts: Record<string, number>;
  /** the phase cannot go on yet: run the step again after this many milliseconds */
  waitMs?: number;
}

/**
 * Phases of an erasure, in order. First the deliveries in flight when it began: a batch that read
 * the tombstones before they were written writes the person in clear, and puts back the body it
 * read when it finishes, so the rewriting phases start once it is done. The person records go
 * last: until then they hold what to look for.
 */
const PHASES = ['in-flight', 'items', 'alerts', 'scan', 'log', 'teams', 'people', 'done'] as const;
/**
 * The pending deliveries are found on the queue index, which follows the table a moment later:
 * one received just before the erasure began is seen there once this long has passed.
 */
const QUEUE_INDEX_LAG_MS = 1_000;
/** How often the in-flight phase looks again while deliveries received before the erasure are pending. */
const IN_FLIGHT_POLL_MS = 1_000;
/**
 * How long the in-flight phase waits at most: twice the longest a function runs a batch on AWS (the
 * sweep, which runs backfill pages: 5 minutes; the processor: 1), so a batch in flight has ended. A
 * delivery still pending after it (the processor stopped, a store failing) is processed later,
 * after the tombstones, and pseudonymized like any new one.
 */
export const IN_FLIGHT_LIMIT_MS = 10 * 60_000;
const nextPhase = (phase: string): string => PHASES[PHASES.indexOf(phase as (typeof PHASES)[number]) + 1] ?? 'done';
/** A step that finished its phase: the next one starts from its beginning. */
const advanced = (job: OperationJob, counts: Record<string, number>): StepResult => ({ phase: nextPhase(job.phase), cursor: null, counts });
/** An inline run (in the DELETE request) holds the job this long before the background runner may take it. */
export const INLINE_LEASE_MS = 60_000;

export class AlreadyErasedError extends AppError {
  constructor(personId: string) {
    super({ status: 409, type: 'already-erased', title: 'Conflict', detail: `${personId} is the pseudonym of an erased person; there is nothing left to erase.` });
    this.name = 'AlreadyErasedError';
  }
}

const newPseudonym = () => `erased-${randomBytes(8).toString('hex')}`;

/**
 * Starts erasing a person and everyone merged into it, or returns the erasure already under way (or
 * done) for that person. Before the job exists, the tombstone holds the hashes of every identifier
 * of the person, so from this moment on a new delivery naming them is pseudonymized.
 */
export const startErasure = async (
  deps: Pick<OperationDeps, 'db' | 'clock'>,
  tenantId: string,
  personId: string,
  actor: string,
): Promise<{ job: OperationJob; created: boolean }> => {
  const { db } = deps;
  const marker = await getErasureMarker(db, tenantId, personId);
  if (marker) {
    const existing = await getOperationJob(db, marker.jobId);
    if (existing) return { job: existing, created: false };
  }
  const records = await listPersonRecords(db, tenantId);
  if (personId.startsWith('p_erased_') && records.some((r) => r.id === personId && isPseudonym(r.seen.name ?? ''))) throw new AlreadyErasedError(personId);
  if (!records.some((r) => r.id === personId)) throw new NotFoundError(`Person ${personId}`);
  const canonical = canonicalResolver(records);
  const root = canonical(personId);
  const identity = records.filter((r) => canonical(r.id) === root);
  const claim = marker ?? { jobId: randomId('job'), pseudonym: newPseudonym() };
  if (!marker) {
    const holder = await claimErasure(db, tenantId, root, claim);
    if (holder) {
      const existing = await getOperationJob(db, holder.jobId);
      if (existing) return { job: existing, created: false };
      claim.jobId = holder.jobId;
      claim.pseudonym = holder.pseudonym;
    }
  }
  await markErased(db, tenantId, identity.map((r) => r.id).filter((id) => id !== root), claim);
  const hashes = identity.flatMap((r) => [identifierHash(tenantId, r.id), ...personIdentifiers(r.seen).map((i) => identifierHash(tenantId, i))]);
  await putTombstone(db, tenantId, hashes, claim.pseudonym);

  const now = deps.clock();
  const started = await createOperationJob(
    db,
    { id: claim.jobId, tenantId, kind: 'erasure', target: claim.pseudonym, phase: PHASES[0], params: { personIds: identity.map((r) => r.id), pseudonym: claim.pseudonym }, createdBy: actor },
    now,
    new Date(now.getTime() + INLINE_LEASE_MS),
  );
  if (!started.created) return started;
  // The audit names the pseudonym only: the entry must not bring back what the erasure removes.
  await recordAudit(db, {
    tenantId,
    actor,
    action: 'person.erased',
    target: claim.pseudonym,
    detail: { jobId: started.job.id, identities: identity.length },
    at: now.toISOString(),
  });
  return started;
};

/** The terms to look for: from the person records while they exist, and the person ids in any case. */
const loadTerms = async (db: Db, job: OperationJob): Promise<{ terms: ErasureTerms; records: PersonRecord[]; people: Person[] }> => {
  const personIds = (job.params.personIds as string[] | undefined) ?? [];
  const pseudonym = String(job.params.pseudonym ?? job.target);
  const records = (await listPersonRecords(db, job.tenantId)).filter((r) => personIds.includes(r.id));
  const people: Person[] = [
    ...records.map((r) => r.seen),
    ...personIds.filter((id) => !records.some((r) => r.id === id)).map((id) => ({ id, handles: [], emails: [] })),
  ];
  return { terms: termsOf(job.tenantId, people.map((person) => ({ person, pseudonym }))), records, people };
};

const scrubEvent = (event: EventEnvelope, terms: ErasureTerms): EventEnvelope | undefined => {
  const next = scrubJson(event, terms) as EventEnvelope;
  return JSON.stringify(next) === JSON.stringify(event) ? undefined : next;
};

/** The text of the events a record carries (`pending`), for the quick check of whether it may name someone; `against`: an item record's item JSON. */
const pendingText = (pending: unknown, against?: string): string =>
  Object.values((pending ?? {}) as Record<string, StoredPending>)
    .map((stored) => storedEventJson(stored.event, against))
    .join('\n');

/** A record's pending events with the erased people scrubbed; undefined when none of them names anyone erased. */
const scrubPendingMap = (pending: Record<string, StoredPending> | undefined, terms: ErasureTerms): Record<string, StoredPending> | undefined => {
  let changed = false;
  const next = Object.fromEntries(
    Object.entries(pending ?? {}).map(([id, stored]) => {
      const scrubbed = scrubEvent(decodeStoredEvent(stored.event), terms);
      if (!scrubbed) return [id, stored];
      changed = true;
      return [id, { ...stored, event: encodeStoredEvent(scrubbed) }];
    }),
  );
  return changed ? next : undefined;
};

/**
 * Rewrites one item record: the people, the title's mentions, its unpublished events; then its
 * derived rows (owner facets, counters, work in progress) from the new state. No event is emitted:
 * its `before` would carry what is being erased. Conditional on the record's `rev`, like any write.
 */
export const eraseFromItem = async (deps: Pick<OperationDeps, 'db' | 'clock'>, tenantId: string, itemId: string, terms: ErasureTerms): Promise<boolean> => {
  for (let attempt = 0; attempt < 20; attempt++) {
    const record = await loadItem(deps.db, tenantId, itemId);
    if (!record.item) return false;
    const next = scrubItem(record.item, terms);
    const pending = record.pending.map((entry) => {
      const scrubbed = scrubEvent(entry.event, terms);
      return scrubbed ? { ...entry, event: scrubbed } : entry;
    });
    const pendingChanged = pending.some((entry, i) => entry !== record.pending[i]);
    if (!next && !pendingChanged) return false;
    try {
      // The record keeps its events (scrubbed); those a crash kept from the log are logged now.
      const carried = await unlogged(deps.db, pending);
      await writeEventLog(deps.db, await saveItem(deps.db, record, next ?? record.item, [], carried));
    } catch (error) {
      if (error instanceof VersionConflictError) continue;
      throw error;
    }
    if (next) {
      await syncDerivedRows(deps.db, tenantId, next, record.item);
      await recordContribution(deps.db, tenantId, next, deps.clock());
      await syncWipMembership(deps.db, tenantId, next, record.item, deps.clock());
    }
    return true;
  }
  throw new Error(`Gave up erasing from item ${itemId} after 20 write conflicts`);
};

/** Rewrites a row holding JSON with a `rev` (alert, dependency state), re-reading after a lost race. */
const rewriteJsonRow = async (db: Db, row: Record<string, unknown>, rewrite: (row: Record<string, unknown>) => Record<string, unknown> | undefined) => {
  let current: Record<string, unknown> | undefined = row;
  for (let attempt = 0; current && attempt < 10; attempt++) {
    const attributes = rewrite(current);
    if (!attributes) return false;
    if (await rewriteRow(db, current, attributes)) return true;
    current = await readRow(db, { pk: current.pk, sk: current.sk });
  }
  return false;
};

const queryIndexPage = async (db: Db, partition: string, cursor: Record<string, unknown> | null) => {
  const page = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': partition },
      Limit: 50,
      ExclusiveStartKey: cursor ?? undefined,
    }),
  );
  return { rows: page.Items ?? [], next: page.LastEvaluatedKey ?? null };
};

/** Partitions the scan must never touch: they hold what the erasure itself works from. */
const keepPartitions = (tenantId: string) => new Set([keys.peopleOf(tenantId), keys.erasuresOf(tenantId)]);
/** Partitions holding no free text about people: counters, settings, the team map (its own phase), lookups of refs, WIP rows. */
const derivedPartitions = (tenantId: string) =>
  new Set([
    keys.aggregateShards(tenantId),
    ...Array.from({ length: AGGREGATE_SHARDS }, (_, shard) => keys.contributionsOf(tenantId, shard)),
    keys.teamMap(tenantId).pk,
    keys.settings(tenantId).pk,
    keys.jiraProjectsOf(tenantId),
    // WIP rows: renamed with their item (store/wip.ts), and a person's own rows are deleted by key.
    keys.wipOf(tenantId),
  ]);

/**
 * The `in-flight` phase: advances once no delivery of the tenant received before the erasure began
 * is pending, or after IN_FLIGHT_LIMIT_MS; until then, asks to be run again (`waitMs`).
 */
const inFlightStep = async (deps: OperationDeps, job: OperationJob): Promise<StepResult> => {
  const waited = deps.clock().getTime() - Date.parse(job.createdAt);
  if (waited < QUEUE_INDEX_LAG_MS) return { phase: job.phase, cursor: job.cursor, counts: {}, waitMs: QUEUE_INDEX_LAG_MS - waited };
  // Oldest first, from where the last look found none of the tenant's (the queue is every tenant's):
  // no delivery received before the erasure becomes pending again but by a retry, which reads the tombstones.
  const before = { tenantId: job.tenantId, statuses: ['pending' as const], until: job.createdAt };
  const after = typeof job.cursor?.after === 'string' ? job.cursor.after : undefined;
  const pending = await queryDeliveries(deps.db, before, { order: 'oldest', limit: 1, ...(after ? { after } : {}) });
  if (pending.rows.length === 0 && !pending.more) return advanced(job, {});
  if (waited >= IN_FLIGHT_LIMIT_MS) return advanced(job, { deliveriesLeftPending: await countDeliveries(deps.db, before) });
  // Other tenants' deliveries filled the page: the next step reads on from there at once.
  if (pending.rows.length === 0) return { phase: job.phase, cursor: { after: pending.next! }, counts: {} };
  return { phase: job.phase, cursor: job.cursor, counts: {}, waitMs: IN_FLIGHT_POLL_MS };
};

/** One bounded step of an erasure: one page of items, alerts or the table scan, or one of the single-shot phases. */
export const erasureStep = async (deps: OperationDeps, job: OperationJob): Promise<StepResult> => {
  // It needs no terms: the person records are not read while it waits.
  if (job.phase === 'in-flight') return inFlightStep(deps, job);
  const { db } = deps;
  const tenantId = job.tenantId;
  const { terms, records, people } = await loadTerms(db, job);
  const pseudonym = String(job.params.pseudonym ?? job.target);
  const advance = (counts: Record<string, number>) => advanced(job, counts);
  const at = deps.clock().toISOString();

  switch (job.phase) {
    case 'items': {
      const { rows, next } = await queryIndexPage(db, keys.itemsOf(tenantId), job.cursor);
      let rewritten = 0;
      for (const row of rows) {
        const item = itemDocJson(row.doc);
        if (!mayMention(terms, `${item}${pendingText(row.pending, item)}`)) continue;
        if (await eraseFromItem(deps, tenantId, String(row.pk).split('#ITEM#')[1]!, terms)) rewritten++;
      }
      const counts = { itemsRead: rows.length, itemsRewritten: rewritten };
      return next ? { phase: job.phase, cursor: next, counts } : advance(counts);
    }
    case 'alerts': {
      const { rows, next } = await queryIndexPage(db, keys.alertsOf(tenantId), job.cursor);
      let rewritten = 0;
      for (const row of rows) {
        if (!mayMention(terms, `${String(row.doc)}${pendingText(row.pending)}`)) continue;
        const done = await rewriteJsonRow(db, row, (current) => {
          const doc = JSON.stringify(scrubJson(JSON.parse(String(current.doc)), terms));
          const pending = scrubPendingMap(current.pending as Record<string, StoredPending> | undefined, terms);
          return doc === current.doc && !pending ? undefined : { doc, ...(pending ? { pending } : {}) };
        });
        if (done) rewritten++;
      }
      const counts = { alertsRewritten: rewritten };
      return next ? { phase: job.phase, cursor: next, counts } : advance(counts);
    }
    case 'scan': {
      // Raw deliveries, kept event payloads, dependency state and rows keyed by an identifier: no index lists them all.
      const page = await scanPage(db, { expression: 'begins_with(pk, :prefix)', values: { ':prefix': `T#${tenantId}#` } }, job.cursor);
      const counts: Record<string, number> = { rowsScanned: page.scanned, deliveriesRewritten: 0, eventPayloadsRewritten: 0, derivedRowsRewritten: 0, keyedRowsDeleted: 0 };
      const keep = keepPartitions(tenantId);
      const snapshots = keys.viewSnapshot(tenantId, '').pk;
      const keyedByPerson = personKeyedRows(tenantId, people);
      const derived = derivedPartitions(tenantId);
      const deletions: { pk: string; sk: string }[] = [];
      for (const row of page.rows) {
        const pk = String(row.pk);
        const sk = String(row.sk);
        if (sk === 'DLV') {
          // An inline body is checked before the delivery is read again; one in parts is read whole.
          if (row.body && !mayMention(terms, decodeBody(row.body as Uint8Array, row.bodyEncoding).toString('utf8'))) continue;
          if (await rewriteDeliveryBody(db, pk, (body) => scrubBody(body, terms), at)) counts.deliveriesRewritten!++;
        } else if (sk === 'EVENT' && pk.includes('#EVENT#')) {
          const eventId = pk.split('#EVENT#')[1]!;
          if (await rewriteEventPayload(db, tenantId, eventId, (event) => scrubEvent(event as EventEnvelope, terms))) counts.eventPayloadsRewritten!++;
        } else if (sk === 'DEPS') {
          if (!mayMention(terms, JSON.stringify(row.openBlockers ?? []))) continue;
          const done = await rewriteJsonRow(db, row, (current) => {
            const openBlockers = scrubJson(current.openBlockers ?? [], terms);
            return JSON.stringify(openBlockers) === JSON.stringify(current.openBlockers ?? []) ? undefined : { openBlockers };
          });
          if (done) counts.derivedRowsRewritten!++;
        } else if (keep.has(pk) || sk === 'ITEM' || sk.startsWith('PART#') || sk.startsWith('ALERT#')) {
          // Items and alerts had their own phases; people and the tombstone are what the erasure works from.
        } else if (keyedByPerson({ pk, sk })) {
          // A row whose key is built from one of their identifiers (a stale owner facet, a WIP row): exactly those, never by substring.
          deletions.push({ pk, sk });
        } else if (pk === snapshots) {
          // View snapshots are a cache of the index as it was, people included: recomputed on the next read.
          deletions.push({ pk, sk });
        } else if (derived.has(pk) || keys.isFacetPartition(tenantId, pk) || sk.startsWith(keys.legacyFacetPrefix) || sk.startsWith('IN#')) {
          // Copies and counters derived from items (rewritten with their item) or settings and the team map (own phase):
          // rewriting one of their values because it equals a login (`team`, `def`) would corrupt them.
        } else if (mayMention(terms, JSON.stringify(row, (k, v) => (v instanceof Uint8Array ? (k === 'evt' ? storedEventJson(v) : undefined) : v instanceof Set ? [...v] : v)))) {
          // Anything else that holds their data (an audit entry's detail, a digest, a logged event): rewritten in place.
          if (await rewriteAttributes(db, row, (value) => scrubJson(value, terms))) counts.otherRowsRewritten = (counts.otherRowsRewritten ?? 0) + 1;
        }
      }
      await batchWrite(db, deletions.map((Key) => ({ DeleteRequest: { Key } })));
      counts.keyedRowsDeleted = deletions.length;
      return page.next ? { phase: job.phase, cursor: page.next, counts } : advance(counts);
    }
    case 'log': {
      // The local bus's JSONL log (local mode). Events already published to EventBridge are out of reach.
      // In bounded chunks: publishing waits for one chunk at most (bus/local-bus.ts).
      if (!deps.bus) return advance({});
      const chunk = await deps.bus.rewriteLogChunk((event) => (event.tenantId === tenantId ? scrubEvent(event, terms) : undefined), {
        cursor: job.cursor as LogRewriteCursor | null,
        rewriteId: job.id,
      });
      const counts = { logLinesRewritten: chunk.changed };
      return chunk.cursor ? { phase: job.phase, cursor: { ...chunk.cursor }, counts } : advance(counts);
    }
    case 'teams': {
      const { map } = await getTeamMap(db, tenantId);
      const replaced = map.teams.map((team) => ({
        ...team,
        people: [...new Set(team.people.map((entry) => (terms.values.has(entry.toLowerCase()) ? erasedPerson(pseudonym).id : entry)))],
      }));
      if (JSON.stringify(replaced) !== JSON.stringify(map.teams)) {
        await putTeamMap(db, tenantId, { ...map, teams: replaced }, at);
        teamCacheFor(db).invalidate(tenantId);
        return advance({ teamEntriesRewritten: 1 });
      }
      return advance({});
    }
    case 'people': {
      // Their verified addresses' sets, the pseudonym's record, then the records of the person and of everyone merged into it.
      const emails = records.flatMap((r) => [...r.seen.emails, ...(r.seen.verifiedEmails ?? [])]);
      const verifiedEmailsForgotten = await forgetVerifiedEmails(db, tenantId, emails, records.map((r) => r.id));
      const erased = erasedPerson(pseudonym);
      const roles = [...new Set(records.flatMap((r) => r.roles))];
      const firstSeenAt = records.map((r) => r.firstSeenAt).sort()[0] ?? at;
      await db.doc.send(
        new PutCommand({
          TableName: db.table,
          Item: { ...keys.person(tenantId, erased.id), tenantId, seen: erased, firstSeenAt, ...(roles.length ? { roles: new Set(roles) } : {}) },
        }),
      );
      await batchWrite(db, records.filter((r) => r.id !== erased.id).map((r) => ({ DeleteRequest: { Key: keys.person(tenantId, r.id) } })));
      return advance({ peopleRemoved: records.length, verifiedEmailsForgotten });
    }
    default:
      return { phase: 'done', cursor: null, counts: {} };
  }
};
