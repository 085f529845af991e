import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AppError, NotFoundError } from '../core/errors.ts';
import type { Person, WorkItem } from '../core/work-item.ts';
import type { Db } from './db.ts';
import { type AuditEntry as GeneralAuditEntry, listAuditLog, recordAudit } from './audit.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';

/**
 * People of a tenant, one record per person id the connectors resolved (`T#{t}#PEOPLE / P#{id}`).
 * Ingestion only ever sets `seen` (the person as the tools show it); a manual merge sets
 * `mergedInto` on the absorbed records and nothing else, so the two never overwrite each other and
 * a split is the removal of `mergedInto`. Every merge and split leaves an audit record.
 */
export interface PersonRecord {
  id: string;
  seen: Person;
  roles: string[];
  firstSeenAt: string;
  mergedInto?: string;
}

export interface PersonView extends Person {
  /** person ids merged into this one */
  merged: string[];
  roles: string[];
  firstSeenAt: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  action: 'merge' | 'split';
  personId: string;
  others: string[];
  by: string;
}

const samePerson = (a: Person | undefined, b: Person | undefined) => JSON.stringify(a) === JSON.stringify(b);

type Sighting = { person: Person; role: string };

/** The owners and requester of an item that are new or changed since `previous` (all of them when unknown). */
const sightingsOf = (item: WorkItem, previous: WorkItem | undefined): Sighting[] => {
  const seen = [
    ...item.owners.map((person) => ({ person, role: 'owner' })),
    ...(item.requester ? [{ person: item.requester, role: 'requester' }] : []),
  ];
  const known = previous ? [...previous.owners, ...(previous.requester ? [previous.requester] : [])] : [];
  return seen.filter(({ person }) => !known.some((p) => p.id === person.id && samePerson(p, person)));
};

const writeSighting = (db: Db, tenantId: string, { person, role }: Sighting, now: Date) =>
  db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.person(tenantId, person.id),
      UpdateExpression: 'SET tenantId = :t, seen = :p, firstSeenAt = if_not_exists(firstSeenAt, :now) ADD #roles :role',
      ExpressionAttributeNames: { '#roles': 'roles' },
      ExpressionAttributeValues: { ':t': tenantId, ':p': person, ':now': now.toISOString(), ':role': new Set([role]) },
    }),
  );

/** Records the owners and requester of an item that are new or changed since `previous` (all of them when unknown). */
export const recordPeople = async (db: Db, tenantId: string, item: WorkItem, previous: WorkItem | undefined, now: Date): Promise<void> => {
  for (const sighting of sightingsOf(item, previous)) await writeSighting(db, tenantId, sighting, now);
};

/** What this process last wrote per (table, tenant, person, role), so a batch skips what the record already says. */
const written = new Map<string, string>();
const MAX_REMEMBERED = 50_000;

/**
 * {@link recordPeople} for the items of a batch: each person and role once (as the last item shows
 * them), and not at all when this process last wrote the same. The write is an update that keeps
 * what merges set (`mergedInto`), so it cannot be batched; a batch of a team's work names few people.
 */
export const recordPeopleOfBatch = async (db: Db, tenantId: string, changes: readonly { item: WorkItem; previous: WorkItem | undefined }[], now: Date): Promise<void> => {
  const latest = new Map<string, Sighting>();
  for (const { item, previous } of changes) for (const sighting of sightingsOf(item, previous)) latest.set(`${sighting.person.id}#${sighting.role}`, sighting);
  await Promise.all(
    [...latest].map(async ([id, sighting]) => {
      const memo = `${db.table}#${tenantId}#${id}`;
      const value = JSON.stringify(sighting.person);
      if (written.get(memo) === value) return;
      await writeSighting(db, tenantId, sighting, now);
      if (written.size >= MAX_REMEMBERED) written.clear();
      written.set(memo, value);
    }),
  );
};

const toRecord = (row: Record<string, unknown>): PersonRecord => ({
  id: String(row.sk).slice(2),
  seen: row.seen as Person,
  roles: [...((row.roles as Set<string> | undefined) ?? [])].sort(),
  firstSeenAt: String(row.firstSeenAt),
  ...(row.mergedInto ? { mergedInto: String(row.mergedInto) } : {}),
});

export const listPersonRecords = async (db: Db, tenantId: string): Promise<PersonRecord[]> =>
  (await readPartition(db, keys.peopleOf(tenantId))).map(toRecord);

/** Follows merges to the person that absorbed `id` (itself when not merged). */
export const canonicalResolver = (records: readonly PersonRecord[]) => {
  const byId = new Map(records.map((r) => [r.id, r]));
  return (id: string): string => {
    let current = id;
    for (let depth = 0; depth < 20; depth++) {
      const next = byId.get(current)?.mergedInto;
      if (!next) return current;
      current = next;
    }
    return current;
  };
};

/** People as one identity each: the handles and addresses of everyone merged into them. */
export const peopleViews = (records: readonly PersonRecord[]): PersonView[] => {
  const canonical = canonicalResolver(records);
  const views = new Map<string, PersonView>();
  for (const record of records.filter((r) => canonical(r.id) === r.id)) {
    views.set(record.id, { ...record.seen, id: record.id, merged: [], roles: record.roles, firstSeenAt: record.firstSeenAt });
  }
  for (const record of records.filter((r) => canonical(r.id) !== r.id)) {
    const view = views.get(canonical(record.id));
    if (!view) continue;
    view.merged.push(record.id);
    const handles = new Map([...view.handles, ...record.seen.handles].map((h) => [`${h.source}:${h.handle}`, h]));
    view.handles = [...handles.values()];
    view.emails = [...new Set([...view.emails, ...record.seen.emails])];
    view.name ??= record.seen.name;
    view.roles = [...new Set([...view.roles, ...record.roles])].sort();
  }
  return [...views.values()].sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
};

export class PeopleConflictError extends AppError {
  constructor(detail: string) {
    super({ status: 409, type: 'people-conflict', title: 'Conflict', detail });
    this.name = 'PeopleConflictError';
  }
}

/** Merges and splits in the tenant's general audit log (store/audit.ts), as `person.merged` / `person.split`. */
const PEOPLE_ACTIONS = { merge: 'person.merged', split: 'person.split' } as const;

const fromGeneral = (entry: GeneralAuditEntry): AuditEntry => ({
  id: entry.id,
  at: entry.at,
  action: entry.action === PEOPLE_ACTIONS.split ? 'split' : 'merge',
  personId: entry.target,
  others: (entry.detail?.others as string[] | undefined) ?? [],
  by: entry.actor,
});

const audit = async (db: Db, tenantId: string, entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry> =>
  fromGeneral(
    await recordAudit(db, { tenantId, actor: entry.by, action: PEOPLE_ACTIONS[entry.action], target: entry.personId, detail: { others: entry.others }, at: entry.at }),
  );

/** Merges `others` into `personId`: one conditional write per absorbed person, then the audit record. */
export const mergePeople = async (db: Db, tenantId: string, personId: string, others: string[], by: string, now: Date): Promise<AuditEntry> => {
  const records = await listPersonRecords(db, tenantId);
  const canonical = canonicalResolver(records);
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const id of [personId, ...others]) if (!byId.has(id)) throw new NotFoundError(`Person ${id}`);
  if (canonical(personId) !== personId) throw new PeopleConflictError(`${personId} is merged into ${canonical(personId)}: merge into that person instead.`);
  for (const id of others) {
    if (canonical(id) === personId) throw new PeopleConflictError(`${id} is already merged into ${personId}.`);
    if (canonical(id) !== id) throw new PeopleConflictError(`${id} is merged into ${canonical(id)}: split it first.`);
  }
  for (const id of others) {
    try {
      await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.person(tenantId, id),
          UpdateExpression: 'SET mergedInto = :into',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(mergedInto)',
          ExpressionAttributeValues: { ':into': personId },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new PeopleConflictError(`${id} was merged by someone else meanwhile; reload and retry.`);
      throw error;
    }
  }
  return audit(db, tenantId, { at: now.toISOString(), action: 'merge', personId, others, by });
};

/** Undoes merges into `personId`: of `others`, or of everyone merged into it. */
export const splitPerson = async (db: Db, tenantId: string, personId: string, others: string[] | undefined, by: string, now: Date): Promise<AuditEntry> => {
  const records = await listPersonRecords(db, tenantId);
  if (!records.some((r) => r.id === personId)) throw new NotFoundError(`Person ${personId}`);
  const absorbed = records.filter((r) => r.mergedInto === personId).map((r) => r.id);
  const targets = others ?? absorbed;
  for (const id of targets) if (!absorbed.includes(id)) throw new PeopleConflictError(`${id} is not merged into ${personId}.`);
  for (const id of targets) {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.person(tenantId, id),
        // `splitFrom` remembers the split, so the automatic merge on a verified email never undoes it.
        UpdateExpression: 'REMOVE mergedInto ADD splitFrom :from',
        ConditionExpression: 'mergedInto = :into',
        ExpressionAttributeValues: { ':into': personId, ':from': new Set([personId]) },
      }),
    ).catch((error) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }
  return audit(db, tenantId, { at: now.toISOString(), action: 'split', personId, others: targets, by });
};

/**
 * Merges and splits, newest first: a filtered view of the general audit log (`GET /v1/audit` has
 * them as `person.merged` / `person.split`), plus entries written to the former PEOPLE_AUDIT
 * partition before merges moved to the general log.
 */
export const listAudit = async (db: Db, tenantId: string, limit = 100): Promise<AuditEntry[]> => {
  const [merged, split, legacy] = await Promise.all([
    listAuditLog(db, tenantId, { action: PEOPLE_ACTIONS.merge, limit }),
    listAuditLog(db, tenantId, { action: PEOPLE_ACTIONS.split, limit }),
    db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.peopleAuditOf(tenantId) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    ),
  ]);
  return [...merged.items.map(fromGeneral), ...split.items.map(fromGeneral), ...(legacy.Items ?? []).map((row) => row.entry as AuditEntry)]
    .sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id))
    .slice(0, limit);
};
