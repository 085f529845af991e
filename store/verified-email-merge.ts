import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type IdentityRecord, planVerifiedEmailMerge } from '../core/identity.ts';
import type { Person, WorkItem } from '../core/work-item.ts';
import { recordAudit } from './audit.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';
import { readPartition } from './partition.ts';

/**
 * The automatic merge of people who share a verified email address (core/identity.ts), run after
 * the processor recorded an item's people (store/people.ts `recordPeople`):
 *   1. ADD the person to the set of people seen with each of its verified addresses
 *      (`T#{t}#VEMAIL#{salted hash of the address}`), atomically reading the set back;
 *   2. only when the set holds more than one person: read the people, plan the merge, and write
 *      `mergedInto` on each absorbed person, conditional on it not being merged meanwhile and not
 *      split from the target, then audit it with actor `system`.
 * Every step is idempotent: a replay finds the set unchanged and the people merged already, and
 * of two processors racing, one conditional write wins and only the winner audits.
 */

const SYSTEM = 'system';

/** The people of an item the merge looks at: those with a verified address, new or changed since `previous`. */
const verifiedPeopleOf = (item: WorkItem, previous: WorkItem | undefined): Person[] => {
  const people = [...item.owners, ...(item.requester ? [item.requester] : [])];
  const known = previous ? [...previous.owners, ...(previous.requester ? [previous.requester] : [])] : [];
  return people.filter(
    (p) => (p.verifiedEmails?.length ?? 0) > 0 && !known.some((k) => k.id === p.id && JSON.stringify(k.verifiedEmails) === JSON.stringify(p.verifiedEmails)),
  );
};

const identityRecords = async (db: Db, tenantId: string): Promise<IdentityRecord[]> =>
  (await readPartition(db, keys.peopleOf(tenantId), 'P#')).map((row) => ({
    id: String(row.sk).slice(2),
    firstSeenAt: String(row.firstSeenAt ?? ''),
    ...(row.mergedInto ? { mergedInto: String(row.mergedInto) } : {}),
    splitFrom: [...((row.splitFrom as Set<string> | undefined) ?? [])],
  }));

export const mergeOnVerifiedEmail = async (db: Db, tenantId: string, item: WorkItem, previous: WorkItem | undefined, now: Date): Promise<string[]> => {
  const merged: string[] = [];
  for (const person of verifiedPeopleOf(item, previous)) {
    for (const email of new Set(person.verifiedEmails!.map((e) => e.toLowerCase()))) {
      const { Attributes } = await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.verifiedEmail(tenantId, email),
          // The address is in neither the key (a salted hash) nor the row: the person records hold it, and an erasure removes them.
          UpdateExpression: 'SET tenantId = :t ADD people :p',
          ExpressionAttributeValues: { ':t': tenantId, ':p': new Set([person.id]) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const sharing = [...((Attributes?.people as Set<string> | undefined) ?? [])];
      if (sharing.length < 2) continue;
      const plan = planVerifiedEmailMerge(await identityRecords(db, tenantId), sharing);
      if (!plan) continue;
      for (const id of plan.absorb) {
        try {
          await db.doc.send(
            new UpdateCommand({
              TableName: db.table,
              Key: keys.person(tenantId, id),
              UpdateExpression: 'SET mergedInto = :into',
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(mergedInto) AND (attribute_not_exists(splitFrom) OR NOT contains(splitFrom, :into))',
              ExpressionAttributeValues: { ':into': plan.into },
            }),
          );
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) continue;
          throw error;
        }
        merged.push(id);
        await recordAudit(db, {
          tenantId,
          actor: SYSTEM,
          action: 'person.merged',
          target: plan.into,
          // The people, not the address: an audit entry outlives an erasure of the address's owner.
          detail: { others: [id], reason: 'verified_email' },
          at: now.toISOString(),
        });
      }
    }
  }
  return merged;
};

/**
 * Takes erased people off the sets of their verified addresses (an erasure, before their person
 * records go), and deletes a set left empty; people sharing an address who were not erased stay.
 */
export const forgetVerifiedEmails = async (db: Db, tenantId: string, emails: readonly string[], personIds: readonly string[]): Promise<number> => {
  let forgotten = 0;
  for (const email of new Set(emails.map((e) => e.toLowerCase()))) {
    const key = keys.verifiedEmail(tenantId, email);
    try {
      const { Attributes } = await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: key,
          UpdateExpression: 'DELETE people :p',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':p': new Set(personIds) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      forgotten++;
      if (((Attributes?.people as Set<string> | undefined)?.size ?? 0) > 0) continue;
      await db.doc.send(new DeleteCommand({ TableName: db.table, Key: key, ConditionExpression: 'attribute_not_exists(people)' }));
    } catch (error) {
      // No row for the address, or someone was added to it meanwhile: nothing (more) to do.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return forgotten;
};
