import type { Received, WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnsupportedMediaTypeError, ValidationError } from '../../core/errors.ts';
import { parseJiraPayload } from './normalize.ts';
import { EVENT_SCHEMAS } from './payload-schemas.ts';

const DELIVERY_ID_HEADER = 'x-atlassian-webhook-identifier';
/**
 * Jira's event names are short identifiers (`jira:issue_updated`, `comment_created`, `sprint_started`).
 * The name comes from the body and is stored with the delivery and its failure reason, outside
 * the compressed body: an unbounded one could push that record past DynamoDB's 400 KB item limit,
 * and the processor could then never mark the delivery done.
 */
const EVENT_NAME = /^[A-Za-z0-9_:.-]{1,100}$/;

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
 * Identifies a verified Jira delivery and rejects what can never be processed. Jira retries a
 * delivery answered 408, 409, 425, 429 or 5xx, so only requests that cannot succeed on a retry get
 * a 4xx: a body that is not a JSON object (400), a payload without `webhookEvent` or a supported
 * event without the fields its mapping needs (422, naming them).
 * The delivery id is `X-Atlassian-Webhook-Identifier`, stable across Jira's retries; without it
 * the pipeline deduplicates on the sha256 of the body.
 * See https://developer.atlassian.com/cloud/jira/platform/webhooks/#retry-policy
 */
export function receiveJiraDelivery(request: WebhookRequest): Received {
  const mediaType = mediaTypeOf(request.headers['content-type']);
  if (mediaType !== '' && mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(`Expected Content-Type application/json, got ${mediaType}. Jira webhooks send JSON.`);
  }
  const payload = parseJsonObject(request.body);
  const event = payload.webhookEvent;
  if (typeof event !== 'string' || event.trim() === '') {
    throw new ValidationError(
      [{ path: 'webhookEvent', message: 'required: every Jira webhook payload names its event (e.g. "jira:issue_updated")' }],
      'The Jira webhook payload',
    );
  }
  if (!EVENT_NAME.test(event)) {
    throw new ValidationError(
      [{ path: 'webhookEvent', message: `not a Jira event name (${event.length} characters; Jira sends names like "jira:issue_updated")` }],
      'The Jira webhook payload',
    );
  }
  const schema = EVENT_SCHEMAS.get(event);
  if (schema) parseJiraPayload(schema, payload, event);
  const deliveryId = request.headers[DELIVERY_ID_HEADER]?.trim() || undefined;
  return { event, ...(deliveryId ? { deliveryId } : {}) };
}
