import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Alert, AlertDraft } from '../core/alerts.ts';
import { type EventEnvelope, alertEvent } from '../core/events.ts';
import { loadAlertRecord, logCarried, raisedAlert, resolvedAlert, saveAlert } from './alerts.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * Alerts of a condition over many items (a person's work in progress), decided by evaluations that
 * may run concurrently and read the items at different moments. Each evaluation takes a ticket
 * (a counter incremented with one update, see store/wip.ts) before it reads, and writes its decision
 * with the ticket, conditionally on no later ticket having been written: an evaluation that read an
 * older state can never undo the decision of one that read a newer state. Every evaluation writes
 * (a no-op decision records its ticket too, creating a record without alert when none exists), so
 * the record always holds the decision of the latest ticket that reached it.
 */
export interface OrderedDecision {
  subjectId: string;
  alertId: string;
  /** the alert when the condition holds (opened, or its message and related items brought up to date); undefined: resolved */
  draft?: AlertDraft;
}

const MAX_RETRIES = 20;

/** Records the ticket (and, for an open alert, its current message) without a transition: no event. */
const recordTicket = async (db: Db, tenantId: string, decision: OrderedDecision, rev: number, ticket: number, doc?: Alert): Promise<boolean> => {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.alert(tenantId, decision.subjectId, decision.alertId),
        UpdateExpression: `SET tenantId = :tenant, seq = :seq, rev = :next${doc ? ', doc = :doc' : ''}`,
        ConditionExpression: rev === 0 ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ExpressionAttributeValues: {
          ':tenant': tenantId,
          ':seq': ticket,
          ':next': rev + 1,
          ...(rev === 0 ? {} : { ':rev': rev }),
          ...(doc ? { ':doc': JSON.stringify(doc) } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

/**
 * Applies the decision of the evaluation holding `ticket`, unless a later one was applied. Returns
 * the event written (raised or resolved), if the decision was a transition.
 */
export const applyOrderedDecision = async (
  db: Db,
  tenantId: string,
  decision: OrderedDecision,
  ticket: number,
  now: Date,
): Promise<EventEnvelope | undefined> => {
  const time = now.toISOString();
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const record = await loadAlertRecord(db, tenantId, decision.subjectId, decision.alertId);
    if ((record.seq ?? 0) >= ticket) return undefined;
    const current = record.alert;
    const { draft } = decision;
    const next = draft ? raisedAlert(current, draft, time) : resolvedAlert(current, time);
    if (next) {
      const event = alertEvent(draft ? 'work.alert.raised' : 'work.alert.resolved', next, { tenantId, time });
      if (await saveAlert(db, record, next, event, { seq: ticket })) return event;
    } else {
      const refreshed = draft && current ? { ...current, subject: draft.subject, related: draft.related, message: draft.message } : undefined;
      if (await recordTicket(db, tenantId, decision, record.rev, ticket, refreshed)) {
        await logCarried(db, record.pending);
        return undefined;
      }
    }
  }
  throw new Error(`Gave up applying a decision on alert ${decision.alertId} after ${MAX_RETRIES} write conflicts`);
};
