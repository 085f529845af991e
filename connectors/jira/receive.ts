import type { Received, WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { JIRA_EVENT_NAME, UNNAMED_JIRA_EVENT } from './payload-schemas.ts';

const DELIVERY_ID_HEADER = 'x-atlassian-webhook-identifier';

const mediaTypeOf = (contentType: string | undefined): string => (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();

const parseJsonObject = (body: Uint8Array): Record<string, unknown> => {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (cause) {
    throw new MalformedPayloadError('The body is not valid UTF-8; Jira sends UTF-8 JSON.', cause);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (cause) {
    const hint = text.trim() === '' ? ' It is empty: untick "Exclude body" in the Jira webhook settings.' : '';
    throw new MalformedPayloadError(`The body is not valid JSON: ${(cause as Error).message}.${hint}`, cause);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    const shape = payload === null ? 'null' : Array.isArray(payload) ? 'an array' : `a ${typeof payload}`;
    throw new MalformedPayloadError(`The body is ${shape}; a Jira webhook payload is a JSON object.`);
  }
  return payload as Record<string, unknown>;
};

/**
 * Identifies a verified Jira delivery. Accept, then judge (README, "How it works"): the ack path refuses only a
 * request that can never be processed, a body that is not a UTF-8 JSON object (400) or not JSON
 * at all (415); Jira does not retry a 4xx, so nothing about the payload's content is judged here.
 * Whether it maps is decided in processing: indexed, ignored with its reason, or failed with the
 * path of each field the mapping needs. A missing or malformed `webhookEvent` is stored under
 * {@link UNNAMED_JIRA_EVENT}, since the event name is stored outside the compressed body and must
 * stay short. The delivery id is `X-Atlassian-Webhook-Identifier`, stable across Jira's retries;
 * without it the pipeline deduplicates on the sha256 of the body.
 * See https://developer.atlassian.com/cloud/jira/platform/webhooks/#retry-policy
 */
export function receiveJiraDelivery(request: WebhookRequest): Received {
  const mediaType = mediaTypeOf(request.headers['content-type']);
  if (mediaType !== '' && mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(`Expected Content-Type application/json, got ${mediaType}. Jira webhooks send JSON.`);
  }
  const payload = parseJsonObject(request.body);
  const named = typeof payload.webhookEvent === 'string' && JIRA_EVENT_NAME.test(payload.webhookEvent);
  const event = named ? (payload.webhookEvent as string) : UNNAMED_JIRA_EVENT;
  const deliveryId = request.headers[DELIVERY_ID_HEADER]?.trim() || undefined;
  return { event, ...(deliveryId ? { deliveryId } : {}) };
}
