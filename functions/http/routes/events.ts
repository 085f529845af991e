import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as z from 'zod';
import { EVENT_SCHEMA_VERSION, EVENT_SOURCE, EventData, EventEnvelope } from '../../../core/events.ts';
import type { LocalBus } from '../../../bus/local-bus.ts';
import { PointerEnvelope } from '../../../bus/eventbridge-publisher.ts';
import { NotFoundError } from '../../../core/errors.ts';
import type { Db } from '../../../store/db.ts';
import { getEventPayload } from '../../../store/event-payloads.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';

export const eventOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/events/stream',
    summary: "This tenant's events as Server-Sent Events (local mode); `id:` is the event id",
    tag: 'events',
    scope: 'read',
    responses: { 200: { description: 'text/event-stream of event envelopes', contentType: 'text/event-stream' } },
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

export const eventRoutes = (bus: LocalBus | undefined, db: Db) =>
  new Hono<AuthEnv>()
    .get('/schemas', (c) => c.json(eventSchemas()))
    .get('/stream', (c) => {
      const { tenantId } = c.get('principal');
      return streamSSE(c, async (stream) => {
        if (!bus) {
          await stream.writeSSE({ event: 'error', data: 'The event stream exists in local mode; in AWS subscribe to the EventBridge bus.' });
          return;
        }
        const queue: EventEnvelope[] = [];
        let wake: (() => void) | undefined;
        const unsubscribe = bus.subscribe((event) => {
          if (event.tenantId !== tenantId) return;
          queue.push(event);
          wake?.();
        });
        stream.onAbort(unsubscribe);
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ tenantId }) });
        while (!stream.aborted) {
          const event = queue.shift();
          if (event) {
            await stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(event) });
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
      const event = await getEventPayload(db, tenantId, c.req.param('id'));
      if (!event) throw new NotFoundError(`Oversize event ${c.req.param('id')}`);
      return c.json(event);
    });
