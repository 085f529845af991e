import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as z from 'zod';
import { EVENT_SCHEMA_VERSION, EVENT_SOURCE, EventData, EventEnvelope } from '../../../core/events.ts';
import type { LocalBus } from '../../../bus/local-bus.ts';
import { PointerEnvelope } from '../../../bus/pointer-envelope.ts';
import { NotFoundError } from '../../../core/errors.ts';
import type { Db } from '../../../store/db.ts';
import type { Clock } from '../../../core/ports.ts';
import { DEFAULT_RETENTION } from '../../../core/retention.ts';
import { matchesAnyType, parseTypeList } from '../../../core/event-patterns.ts';
import { InvalidCursorError } from '../../../store/cursor.ts';
import { readTenantLog } from '../../../store/event-log.ts';
import { parseQuery } from '../problem.ts';
import { getEventPayload } from '../../../store/event-payloads.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';

const StreamQuery = z.object({
  types: z.string().max(2000).optional().describe('comma-separated event-type patterns: `work.item.*,work.alert.raised` (default: every type)'),
  after: z.string().max(100).optional().describe("resume after this cursor (an SSE message's `id:`); the `Last-Event-ID` header does the same"),
});

/** An event's cursor in its tenant's log (store/event-log.ts `eventCursor`): time, record hash, sequence. */
const CURSOR = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\.[0-9a-f]{10}\.\d{10}$/;
export const isEventCursor = (value: string): boolean => CURSOR.test(value);

export const eventOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/events/stream',
    summary:
      "This tenant's events as Server-Sent Events (local mode). Each message's `id:` is the event's cursor in the event log, its `event:` the type, its data the envelope (with the event `id`). " +
      'After `Last-Event-ID` (or `?after=`) the stream first sends what the log holds after that cursor, then goes on live. A cursor older than the log keeps (TRIBUTARY_RETENTION_EVENT_DAYS) ' +
      'or unknown gets a `resync` event: read the state again (GET /v1/items…), then rely on the live events.',
    tag: 'events',
    scope: 'read',
    query: StreamQuery,
    responses: {
      200: { description: 'text/event-stream: `ready`, then event envelopes (`id:` = cursor), `resync` when the cursor cannot be resumed from', contentType: 'text/event-stream' },
      400: { description: '`after` is not a cursor of the event stream (`invalid-cursor`)' },
      422: { description: 'A `types` pattern names no event type' },
    },
  },
  {
    method: 'get',
    path: '/v1/events/schemas',
    summary: 'JSON Schemas of the event envelope and of each event type',
    tag: 'events',
    scope: 'read',
    responses: { 200: { description: 'Schemas by detail-type' } },
  },
  {
    method: 'get',
    path: '/v1/events/{id}',
    summary: 'The full envelope of an event that was published as a pointer (over the EventBridge entry limit)',
    tag: 'events',
    scope: 'read',
    responses: { 200: { description: 'The event envelope', schema: EventEnvelope }, 404: { description: 'No such oversize event in this tenant' } },
  },
];

/** The event catalog as JSON Schema, so consumers can generate types. */
export const eventSchemas = () => ({
  source: EVENT_SOURCE,
  schemaVersion: EVENT_SCHEMA_VERSION,
  envelope: z.toJSONSchema(EventEnvelope, { io: 'output', unrepresentable: 'any' }),
  /** what EventBridge carries instead of an event over its entry limit; fetch the full one at `pointer.href` */
  pointer: z.toJSONSchema(PointerEnvelope, { io: 'output', unrepresentable: 'any' }),
  types: Object.fromEntries(
    Object.entries(EventData).map(([type, schema]) => [type, z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' })]),
  ),
});

const HEARTBEAT_MS = 15_000;
/** Events read from the log per page when a stream resumes. */
const BACKLOG_PAGE = 200;
/**
 * Ids sent from the backlog, remembered for the connection's life: an event logged before it was
 * published may come from the log first and live later, and is sent once.
 */
const MAX_REMEMBERED = 10_000;

export interface EventRouteDeps {
  /** the local bus, for the stream; absent in AWS */
  bus?: LocalBus;
  db: Db;
  clock: Clock;
}

/** Why a stream cannot resume from a cursor, or undefined when it can. */
const unresumable = (cursor: string, now: Date, retentionDays: number): string | undefined => {
  if (!isEventCursor(cursor)) return 'unknown-cursor';
  return Date.parse(cursor.slice(0, 24)) < now.getTime() - retentionDays * 86_400_000 ? 'expired' : undefined;
};

export const eventRoutes = (deps: EventRouteDeps) =>
  new Hono<AuthEnv>()
    .get('/schemas', (c) => c.json(eventSchemas()))
    .get('/stream', (c) => {
      const { tenantId } = c.get('principal');
      const query = parseQuery(c, StreamQuery);
      if (query.after !== undefined && !isEventCursor(query.after)) throw new InvalidCursorError();
      const resumeAfter = query.after ?? c.req.header('last-event-id')?.trim();
      const types = query.types === undefined ? undefined : parseTypeList(query.types, 'types');
      const { bus, db } = deps;
      return streamSSE(c, async (stream) => {
        if (!bus) {
          await stream.writeSSE({ event: 'error', data: 'The event stream exists in local mode; in AWS subscribe to the EventBridge bus, or create a webhook subscription.' });
          return;
        }
        // Live events are collected from now on: those published while the backlog is read wait here.
        const queue: { event: EventEnvelope; cursor?: string }[] = [];
        let wake: (() => void) | undefined;
        const unsubscribe = bus.subscribe((event, cursor) => {
          if (event.tenantId !== tenantId || !matchesAnyType(event.type, types)) return;
          queue.push({ event, ...(cursor ? { cursor } : {}) });
          wake?.();
        });
        stream.onAbort(unsubscribe);
        const retentionDays = (db.retention ?? DEFAULT_RETENTION).eventDays;
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ tenantId, ...(types ? { types } : {}), retentionDays }) });
        const sent = new Set<string>();
        if (resumeAfter) {
          const now = deps.clock();
          const why = unresumable(resumeAfter, now, retentionDays);
          if (why) {
            await stream.writeSSE({
              event: 'resync',
              data: JSON.stringify({
                reason: why,
                detail:
                  why === 'expired'
                    ? `The event log keeps ${retentionDays} days; events after ${resumeAfter.slice(0, 24)} may be gone. Read the current state again (GET /v1/items, /v1/alerts), then follow the live events.`
                    : 'Last-Event-ID is not a cursor of this stream. Read the current state again (GET /v1/items, /v1/alerts), then follow the live events.',
                retentionDays,
              }),
            });
          } else {
            // What the log holds after the cursor, oldest first, then the live events.
            let after = resumeAfter;
            for (;;) {
              const page = await readTenantLog(db, tenantId, { after, limit: BACKLOG_PAGE, until: now });
              for (const { event, cursor } of page) {
                after = cursor;
                if (!matchesAnyType(event.type, types)) continue;
                await stream.writeSSE({ id: cursor, event: event.type, data: JSON.stringify(event) });
                if (sent.size < MAX_REMEMBERED) sent.add(event.id);
              }
              if (page.length < BACKLOG_PAGE || stream.aborted) break;
            }
          }
        }
        while (!stream.aborted) {
          const next = queue.shift();
          if (next) {
            if (sent.has(next.event.id)) continue;
            await stream.writeSSE({ ...(next.cursor ? { id: next.cursor } : {}), event: next.event.type, data: JSON.stringify(next.event) });
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, HEARTBEAT_MS).unref();
          });
          wake = undefined;
          if (queue.length === 0 && !stream.aborted) await stream.write(': heartbeat\n\n');
        }
        unsubscribe();
      });
    })
    .get('/:id', async (c) => {
      const { tenantId } = c.get('principal');
      const event = await getEventPayload(deps.db, tenantId, c.req.param('id'));
      if (!event) throw new NotFoundError(`Oversize event ${c.req.param('id')}`);
      return c.json(event);
    });
