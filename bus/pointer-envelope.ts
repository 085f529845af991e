import * as z from 'zod';
import { EventEnvelope } from '../core/events.ts';

/**
 * What is published instead of an event too large for one entry: the envelope without its data,
 * and where the full event is kept. `detail-type` stays the event's type, so rules still match.
 */
export const PointerEnvelope = EventEnvelope.extend({
  data: z.object({}).strict(),
  pointer: z.object({
    reason: z.literal('oversize'),
    href: z.string().describe('GET it on the API base URL with a read token to obtain the full envelope'),
    bytes: z.number().int().describe('size of the full envelope as JSON'),
  }),
});
export type PointerEnvelope = z.infer<typeof PointerEnvelope>;
