import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as z from 'zod';
import { PayloadTooLargeError } from '../../../core/errors.ts';
import { type IngestDeps, ingestWebhook } from '../../../pipeline/ingest.ts';
import { countDeliveries } from '../delivery-metrics.ts';
import type { Operation } from '../openapi-registry.ts';
import { PROBLEM_CONTENT_TYPE } from '../problem.ts';

export const DeliveryAck = z.object({
  deliveryId: z.string(),
  status: z.enum(['accepted', 'duplicate']),
});

const problem = (description: string) => ({ description, contentType: PROBLEM_CONTENT_TYPE });

export const hookOperations: Operation[] = ['github', 'jira', 'email'].map((source) => ({
  method: 'post',
  path: `/hooks/${source}/{connectionId}`,
  summary: `Receive a ${source} webhook delivery`,
  tag: 'webhooks',
  rawBody: 'the tool\'s payload, signed with the connection secret',
  responses: {
    202: { description: 'Recorded durably (or already recorded: `duplicate`); processed within a second.', schema: DeliveryAck },
    200: { description: 'A handshake (GitHub `ping`) answered without storing anything.' },
    400: problem('Malformed payload'),
    401: problem('Missing or invalid signature; nothing was stored'),
    404: problem('Unknown connection'),
    413: problem('Body over TRIBUTARY_MAX_BODY_BYTES'),
    415: problem('Unsupported content type'),
  },
}));

export const hookRoutes = (deps: IngestDeps & { maxBodyBytes: number }) =>
  new Hono().post(
    '/:source/:connectionId',
    countDeliveries(deps),
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new PayloadTooLargeError(deps.maxBodyBytes);
      },
    }),
    async (c) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      const headers = Object.fromEntries(c.req.raw.headers);
      const result = await ingestWebhook(deps, { source: c.req.param('source'), connectionId: c.req.param('connectionId') }, { headers, body });
      if (result.kind === 'reply') return c.json(result.body, 200);
      return c.json({ deliveryId: result.deliveryId, status: result.status } satisfies z.infer<typeof DeliveryAck>, 202);
    },
  );
