import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Alert, AlertDraft, AlertKind, AlertState } from '../core/alerts.ts';
import { type EventEnvelope, alertEvent } from '../core/events.ts';
import { batchGet } from './batch.ts';
import type { Db } from './db.ts';
import { DEFAULT_RETENTION, expiryAfter } from '../core/retention.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Page } from './item-queries.ts';
import { type LoggedEvent, eventCursor, unlogged, writeEventLog } from './event-log.ts';
import { type StoredPending, decodePending, encodePending, removePublishedEventsAt } from './items.ts';
import { keys } from './keys.ts';

/**
 * Alert records live in their subject's partition (`ALERT#{id}`), so evaluating an item reads its
 * alerts with the item. Like an item record, an alert record carries the events of its transitions
 * until the publisher has published them (a single-record outbox on the `queue` index): a transition
 * and its event are one conditional write, so a crash neither loses nor invents an event. The id is
 * deterministic per condition; `attribute_not_exists` and the `rev` counter make raising it again a
 * no-op whoever does it, however often.
 */
export interface AlertRecord {
  tenantId: string;
  alert: Alert | undefined;
  rev: number;
  /** transition events not published yet, with their log cursors */
  pending: LoggedEvent[];
  /** the latest evaluation ticket written, for alerts whose evaluations are ordered (store/ordered-alerts.ts) */
  seq?: number;
}

const toRecord = (tenantId: string, key: { pk: string; sk: string }, row: Record<string, unknown> | undefined): AlertRecord => ({
  tenantId,
  alert: row?.doc ? (JSON.parse(String(row.doc)) as Alert) : undefined,
  rev: Number(row?.rev ?? 0),
  pending: decodePending(row?.pending as Record<string, StoredPending> | undefined, key),
  ...(row?.seq !== undefined ? { seq: Number(row.seq) } : {}),
});

/** Alert rows read with their subject's partition. */
export const alertsOfRows = (rows: readonly Record<string, unknown>[]): Alert[] =>
  rows.filter((r) => String(r.sk).startsWith('ALERT#') && r.doc).map((r) => JSON.parse(String(r.doc)) as Alert);

export const loadAlertRecord = async (db: Db, tenantId: string, subjectId: string, alertId: string): Promise<AlertRecord> => {
  const key = keys.alert(tenantId, subjectId, alertId);
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  return toRecord(tenantId, key, Item);
};

/** Many alert records at once, by id (strongly consistent BatchGetItem); a missing one reads as a record without alert. */
export const loadAlertRecords = async (
  db: Db,
  tenantId: string,
  wanted: readonly { subjectId: string; alertId: string }[],
): Promise<Map<string, AlertRecord>> => {
  const keyOf = (w: { subjectId: string; alertId: string }) => keys.alert(tenantId, w.subjectId, w.alertId);
  const rows = new Map((await batchGet(db, wanted.map(keyOf), { consistent: true })).map((row) => [`${row.pk}\u0000${row.sk}`, row]));
  return new Map(
    wanted.map((w) => {
      const key = keyOf(w);
      return [w.alertId, toRecord(tenantId, key, rows.get(`${key.pk}\u0000${key.sk}`))];
    }),
  );
};

/**
 * Writes the next state of an alert with its new event, if nobody wrote the record since it was
 * read, then the event's log row (store/event-log.ts), with any events of earlier writes a crash
 * kept from the log. `seq`: the evaluation ticket to record with it (store/ordered-alerts.ts).
 * Resolves with the events to log, false on a lost race. With `deferLog`, the caller writes their
 * log rows (a batch writes all of its own at once) and passes `carried` (the record's unlogged events).
 */
export const saveAlert = async (
  db: Db,
  previous: AlertRecord,
  alert: Alert,
  event: EventEnvelope,
  options: { seq?: number; carried?: readonly LoggedEvent[]; deferLog?: boolean } = {},
): Promise<LoggedEvent[] | false> => {
  const { tenantId } = previous;
  const key = keys.alert(tenantId, alert.subject.id, alert.id);
  const kept = (options.carried ?? (await unlogged(db, previous.pending))).filter((p) => p.event.id !== event.id);
  const seqOf = (index: number) => previous.rev * 1000 + index;
  const entries = [...kept, { event, cursor: eventCursor(event.time, key, seqOf(kept.length)) }];
  const sortKey = keys.byOpened(alert.openedAt, alert.id);
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          ...key,
          tenantId,
          doc: JSON.stringify(alert),
          rev: previous.rev + 1,
          ...(options.seq !== undefined ? { seq: options.seq } : {}),
          pending: encodePending(entries, key, seqOf),
          kind: alert.kind,
          state: alert.state,
          ...(alert.team ? { team: alert.team } : {}),
          // A resolved alert expires (TTL, or the local retention sweep); reopening it writes the record anew, without.
          ...(alert.state === 'resolved' && alert.resolvedAt
            ? { expiresAt: expiryAfter(alert.resolvedAt, (db.retention ?? DEFAULT_RETENTION).resolvedAlertDays) }
            : {}),
          gsi1pk: keys.alertsOf(tenantId),
          gsi1sk: sortKey,
          gsi2pk: keys.alertsByState(tenantId, alert.state),
          gsi2sk: sortKey,
          gsi3pk: keys.alertsByKind(tenantId, alert.kind),
          gsi3sk: sortKey,
        },
        ConditionExpression: previous.rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ...(previous.rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': previous.rev } }),
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
  if (!options.deferLog) await writeEventLog(db, entries);
  return entries;
};

/** Logs the events of a record's earlier writes that a crash kept from the log (see store/event-log.ts). */
export const logCarried = async (db: Db, pending: readonly LoggedEvent[]): Promise<void> => {
  const missing = await unlogged(db, pending);
  if (missing.length > 0) await writeEventLog(db, missing);
};

/** The alert a condition that holds opens, or undefined when it is open already (or, for a notice, was ever raised). */
export const raisedAlert = (current: Alert | undefined, draft: AlertDraft, time: string): Alert | undefined => {
  if (current && (current.state === 'open' || draft.notice)) return undefined;
  return {
    id: draft.id,
    kind: draft.kind,
    state: draft.notice ? 'resolved' : 'open',
    severity: draft.severity,
    subject: draft.subject,
    ...(draft.subjectType ? { subjectType: draft.subjectType } : {}),
    related: draft.related,
    ...(draft.team ? { team: draft.team } : {}),
    message: draft.message,
    openedAt: time,
    ...(draft.notice ? { resolvedAt: time } : {}),
    occurrence: (current?.occurrence ?? 0) + 1,
  };
};

/** The alert resolved, or undefined when it is not open. */
export const resolvedAlert = (current: Alert | undefined, time: string): Alert | undefined =>
  current?.state === 'open' ? { ...current, state: 'resolved', resolvedAt: time } : undefined;

const MAX_RETRIES = 20;

/**
 * Opens the alert of a condition that holds, unless it is open already (or, for a notice, was ever
 * raised). A condition that held, cleared and holds again reopens the same alert as a new occurrence.
 * Returns the event written, if any.
 */
export const raiseAlert = async (db: Db, tenantId: string, draft: AlertDraft, now: Date): Promise<EventEnvelope | undefined> => {
  const time = now.toISOString();
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const record = await loadAlertRecord(db, tenantId, draft.subject.id, draft.id);
    const alert = raisedAlert(record.alert, draft, time);
    if (!alert) {
      await logCarried(db, record.pending);
      return undefined;
    }
    const event = alertEvent('work.alert.raised', alert, { tenantId, time });
    if (await saveAlert(db, record, alert, event)) return event;
  }
  throw new Error(`Gave up raising alert ${draft.id} after ${MAX_RETRIES} write conflicts`);
};

/** Resolves an open alert whose condition no longer holds. Returns the event written, if any. */
export const resolveAlert = async (db: Db, tenantId: string, subjectId: string, alertId: string, now: Date): Promise<EventEnvelope | undefined> => {
  const time = now.toISOString();
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const record = await loadAlertRecord(db, tenantId, subjectId, alertId);
    const alert = resolvedAlert(record.alert, time);
    if (!alert) {
      await logCarried(db, record.pending);
      return undefined;
    }
    const event = alertEvent('work.alert.resolved', alert, { tenantId, time });
    if (await saveAlert(db, record, alert, event)) return event;
  }
  throw new Error(`Gave up resolving alert ${alertId} after ${MAX_RETRIES} write conflicts`);
};

/** Removes published events from an alert record; it leaves the outbox queue once none is pending. */
export const removePublishedAlertEvents = (db: Db, record: AlertRecord, subjectId: string, alertId: string, eventIds: string[]) =>
  removePublishedEventsAt(db, keys.alert(record.tenantId, subjectId, alertId), record, eventIds);

export interface AlertQuery {
  state?: AlertState;
  kind?: AlertKind;
  team?: string;
}


/**
 * Alerts of a tenant, newest opened first, through the narrowest index; every condition is
 * re-checked on the alert read, so a stale index row never shows a wrong alert.
 */
export const listAlerts = async (db: Db, tenantId: string, query: AlertQuery, page: { limit: number; cursor?: string }): Promise<Page<Alert>> => {
  const [index, pkName, skName, partition] = query.kind
    ? (['gsi3', 'gsi3pk', 'gsi3sk', keys.alertsByKind(tenantId, query.kind)] as const)
    : query.state
      ? (['gsi2', 'gsi2pk', 'gsi2sk', keys.alertsByState(tenantId, query.state)] as const)
      : (['gsi1', 'gsi1pk', 'gsi1sk', keys.alertsOf(tenantId)] as const);
  const out: Alert[] = [];
  let startKey = page.cursor ? decodeCursor(page.cursor, partition) : undefined;
  for (;;) {
    const result = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: index,
        KeyConditionExpression: '#pk = :p',
        ExpressionAttributeNames: { '#pk': pkName },
        ExpressionAttributeValues: { ':p': partition },
        ScanIndexForward: false,
        Limit: Math.max(page.limit * 2, 25),
        ExclusiveStartKey: startKey,
      }),
    );
    const rows = result.Items ?? [];
    for (const row of rows) {
      const alert = JSON.parse(String(row.doc)) as Alert;
      const matches = (!query.state || alert.state === query.state) && (!query.kind || alert.kind === query.kind) && (!query.team || alert.team === query.team);
      if (matches) out.push(alert);
      if (out.length === page.limit) {
        const more = row !== rows.at(-1) || result.LastEvaluatedKey !== undefined;
        const key = { pk: row.pk, sk: row.sk, [pkName]: row[pkName], [skName]: row[skName] };
        return { items: out, nextCursor: more ? encodeCursor(partition, key) : null };
      }
    }
    startKey = result.LastEvaluatedKey;
    if (!startKey) return { items: out, nextCursor: null };
  }
};
