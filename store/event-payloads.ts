import { gunzipSync, gzipSync } from 'node:zlib';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { batchWrite, splitIntoParts } from './batch.ts';
import type { EventEnvelope } from '../core/events.ts';
import type { Db } from './db.ts';
import { keys } from './keys.ts';

/**
 * Events too large for one EventBridge entry are published as a pointer; the full envelope is kept
 * here (gzip, split in parts under DynamoDB's 400 KB item cap) and served by `GET /v1/events/{id}`.
 * It is kept as long as raw deliveries, the window in which a consumer is expected to fetch it.
 */
const PART_BYTES = 300_000;
const RETENTION_DAYS = 30;

export interface KeptPayload {
  /** where a consumer fetches the full event: a path on the API, answered with a read token */
  href: string;
  bytes: number;
}

export const eventPayloadHref = (eventId: string) => `/v1/events/${encodeURIComponent(eventId)}`;

/** Keeps the full event; idempotent (same id, same content), so a re-published event rewrites the same rows. */
export const keepEventPayload = async (db: Db, event: EventEnvelope, now = new Date()): Promise<KeptPayload> => {
  const json = Buffer.from(JSON.stringify(event));
  const compressed = gzipSync(json);
  const expiresAt = Math.floor(now.getTime() / 1000) + RETENTION_DAYS * 86_400;
  const parts = splitIntoParts(compressed, PART_BYTES);
  await batchWrite(
    db,
    parts.map((part, n) => ({ PutRequest: { Item: { ...keys.eventPayloadPart(event.tenantId, event.id, n), part, expiresAt } } })),
  );
  // The head record is written last: once it exists, every part it names exists.
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...keys.eventPayload(event.tenantId, event.id), tenantId: event.tenantId, type: event.type, parts: parts.length, bytes: json.length, expiresAt },
    }),
  );
  return { href: eventPayloadHref(event.id), bytes: json.length };
};

/** The full event behind a pointer, if this tenant has it. */
export const getEventPayload = async (db: Db, tenantId: string, eventId: string): Promise<EventEnvelope | undefined> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.eventPayload(tenantId, eventId), ConsistentRead: true }));
  if (!Item) return undefined;
  const parts: Uint8Array[] = [];
  for (let n = 0; n < Number(Item.parts); n++) {
    const { Item: part } = await db.doc.send(
      new GetCommand({ TableName: db.table, Key: keys.eventPayloadPart(tenantId, eventId, n), ConsistentRead: true }),
    );
    if (!part) throw new Error(`Event payload ${eventId} is missing part ${n}`);
    parts.push(part.part as Uint8Array);
  }
  return JSON.parse(gunzipSync(Buffer.concat(parts)).toString('utf8')) as EventEnvelope;
};
