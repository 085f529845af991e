import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../core/events.ts';
import { sha256Hex } from '../core/ids.ts';
import { batchWrite, splitIntoParts } from './batch.ts';
import { encodeBody } from './body-codec.ts';
import type { Db } from './db.ts';
import { INLINE_BODY_BYTES, getDelivery, writeBodyParts } from './inbox.ts';
import { keys } from './keys.ts';
import { decodeStoredEvent, encodeStoredEvent, storedEventJson } from './stored-event.ts';

/**
 * Rewrites of stored documents that name an erased person: raw delivery bodies, kept event payloads
 * and any row holding JSON (alerts, dependency state). Each keeps the row's keys and shape, so the
 * pipeline reads it as before; a raw body is rewritten, not deleted, so a replay re-derives the
 * same, pseudonymized, items.
 */

/** Replaces the raw body of a delivery by `scrub(body)`; false when it does not name anyone erased. */
export const rewriteDeliveryBody = async (db: Db, pk: string, scrub: (body: string) => string | undefined, at: string): Promise<boolean> => {
  const delivery = await getDelivery(db, pk);
  if (!delivery) return false;
  const next = scrub(Buffer.from(delivery.body).toString('utf8'));
  if (next === undefined) return false;
  const bytes = Buffer.from(next);
  const sha = sha256Hex(bytes);
  const { compressed, encoding } = encodeBody(delivery.source, bytes);
  const oldParts = Number(delivery.bodyParts ?? 0);
  const set = ['bodySha256 = :sha', 'bodyBytes = :n', 'erasedAt = :at'];
  const remove: string[] = [];
  const values: Record<string, unknown> = { ':sha': sha, ':n': bytes.length, ':at': at };
  if (encoding) {
    set.push('bodyEncoding = :e');
    values[':e'] = encoding;
  } else {
    remove.push('bodyEncoding');
  }
  if (compressed.length <= INLINE_BODY_BYTES) {
    set.push('body = :b');
    values[':b'] = compressed;
    remove.push('bodyParts');
  } else {
    // The new parts are written first, under the new body's hash: the record never names a missing part.
    const parts = splitIntoParts(compressed, INLINE_BODY_BYTES);
    await writeBodyParts(db, pk, sha, parts, delivery.expiresAt);
    set.push('bodyParts = :p');
    values[':p'] = parts.length;
    remove.push('body');
  }
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: { pk, sk: 'DLV' },
      UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
      ExpressionAttributeValues: values,
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
  if (oldParts > 0 && delivery.bodySha256.slice(0, 16) !== sha.slice(0, 16)) {
    await batchWrite(db, Array.from({ length: oldParts }, (_, n) => ({ DeleteRequest: { Key: keys.deliveryPart(pk, delivery.bodySha256, n) } })));
  }
  return true;
};

/** Replaces a kept event payload (an event too large for the bus) by `scrub(event)`, in place. */
export const rewriteEventPayload = async (
  db: Db,
  tenantId: string,
  eventId: string,
  scrub: (event: unknown) => unknown | undefined,
): Promise<boolean> => {
  const { Item: head } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.eventPayload(tenantId, eventId), ConsistentRead: true }));
  if (!head) return false;
  const parts: Uint8Array[] = [];
  for (let n = 0; n < Number(head.parts); n++) {
    const { Item: part } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.eventPayloadPart(tenantId, eventId, n), ConsistentRead: true }));
    if (!part) return false;
    parts.push(part.part as Uint8Array);
  }
  const next = scrub(JSON.parse(gunzipSync(Buffer.concat(parts)).toString('utf8')));
  if (next === undefined) return false;
  const json = Buffer.from(JSON.stringify(next));
  const newParts = splitIntoParts(gzipSync(json), INLINE_BODY_BYTES);
  const expiry = head.expiresAt === undefined ? {} : { expiresAt: head.expiresAt };
  await batchWrite(db, newParts.map((part, n) => ({ PutRequest: { Item: { ...keys.eventPayloadPart(tenantId, eventId, n), part, ...expiry } } })));
  await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...head, parts: newParts.length, bytes: json.length } }));
  const stale = Number(head.parts) - newParts.length;
  if (stale > 0) {
    await batchWrite(db, Array.from({ length: stale }, (_, i) => ({ DeleteRequest: { Key: keys.eventPayloadPart(tenantId, eventId, newParts.length + i) } })));
  }
  return true;
};

/**
 * Sets attributes of a row that carries a `rev` write counter (alert records, dependency state), if
 * nobody wrote it since it was read; false when someone did (re-read and retry).
 */
export const rewriteRow = async (db: Db, row: Record<string, unknown>, attributes: Record<string, unknown>): Promise<boolean> => {
  const names = Object.keys(attributes);
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: row.pk, sk: row.sk },
        UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :a${i}`).join(', ')} ADD rev :one`,
        ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
        ExpressionAttributeValues: { ...Object.fromEntries(names.map((name, i) => [`:a${i}`, attributes[name]])), ':one': 1, ':rev': row.rev },
        ConditionExpression: 'rev = :rev',
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

/** Re-reads a row, strongly consistent (after a lost race in {@link rewriteRow}). */
export const readRow = async (db: Db, key: { pk: unknown; sk: unknown }): Promise<Record<string, unknown> | undefined> =>
  (await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))).Item;

/** Attributes that locate a row (keys and index keys): never rewritten. */
const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'qpk', 'qsk']);

/**
 * Rewrites the string, list and map attributes of any other row (an audit entry, a digest, a job)
 * with `scrub`, JSON held in a string included, and the event a log row or a subscription delivery
 * stores (`evt`, store/stored-event.ts). Each changed attribute is written on condition that it
 * still holds what was read, so a concurrent writer is never overwritten; false when nothing changed
 * or someone wrote meanwhile (the row then holds newer data, written after the tombstone).
 */
export const rewriteAttributes = async (db: Db, row: Record<string, unknown>, scrub: (value: unknown) => unknown): Promise<boolean> => {
  const changed: [string, unknown][] = [];
  for (const [name, value] of Object.entries(row)) {
    if (KEY_ATTRIBUTES.has(name) || value instanceof Set) continue;
    if (value instanceof Uint8Array) {
      // Other binary attributes (raw bodies, payload parts) have rewrites of their own.
      if (name !== 'evt') continue;
      const next = scrub(decodeStoredEvent(value)) as EventEnvelope;
      if (JSON.stringify(next) !== storedEventJson(value)) changed.push([name, encodeStoredEvent(next)]);
      continue;
    }
    let next: unknown;
    if (typeof value === 'string' && /^[[{]/.test(value)) {
      try {
        next = JSON.stringify(scrub(JSON.parse(value)));
      } catch {
        next = scrub(value);
      }
    } else if (typeof value === 'string' || Array.isArray(value) || (value !== null && typeof value === 'object')) {
      next = scrub(value);
    } else continue;
    if (JSON.stringify(next) !== JSON.stringify(value)) changed.push([name, next]);
  }
  if (changed.length === 0) return false;
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: row.pk, sk: row.sk },
        UpdateExpression: `SET ${changed.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
        ConditionExpression: changed.map((_, i) => `#a${i} = :o${i}`).join(' AND '),
        ExpressionAttributeNames: Object.fromEntries(changed.map(([name], i) => [`#a${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(changed.flatMap(([name, next], i) => [[`:a${i}`, next], [`:o${i}`, row[name]]])),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};
