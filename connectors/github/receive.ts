import type { Received, WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { PingEvent } from './payload-schemas.ts';

const mediaTypeOf = (contentType: string | undefined): string =>
  (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();

const parseJsonObject = (body: Uint8Array): Record<string, unknown> => {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (cause) {
    throw new MalformedPayloadError('The body is not valid UTF-8; GitHub sends UTF-8 JSON.', cause);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (cause) {
    throw new MalformedPayloadError(`The body is not valid JSON: ${(cause as Error).message}.`, cause);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    const shape = payload === null ? 'null' : Array.isArray(payload) ? 'an array' : `a ${typeof payload}`;
    throw new MalformedPayloadError(`The body is ${shape}; a GitHub webhook payload is a JSON object.`);
  }
  return payload as Record<string, unknown>;
};

/**
 * Identifies a verified GitHub delivery (event from `X-GitHub-Event`, id from `X-GitHub-Delivery`)
 * and rejects what can never be processed. A `ping` (sent when a webhook is created) is answered
 * at once with GitHub's zen and the hook id, and nothing is stored.
 *
 * @throws UnsupportedMediaTypeError when the webhook sends form-encoded payloads.
 * @throws MalformedPayloadError when the event header is missing or the body is not a JSON object.
 */
export function receiveGithubDelivery(request: WebhookRequest): Received {
  const event = request.headers['x-github-event']?.trim();
  if (!event) {
    throw new MalformedPayloadError(
      'The X-GitHub-Event header is missing. Point a GitHub webhook at this URL; GitHub sets the header on every delivery.',
    );
  }
  const mediaType = mediaTypeOf(request.headers['content-type']);
  if (mediaType === 'application/x-www-form-urlencoded') {
    throw new UnsupportedMediaTypeError(
      'This webhook sends form-encoded payloads. In the GitHub webhook settings, set "Content type" to application/json.',
    );
  }
  if (mediaType !== 'application/json') {
    throw new UnsupportedMediaTypeError(
      `Expected Content-Type application/json, got ${mediaType || 'none'}. In the GitHub webhook settings, set ` +
        '"Content type" to application/json.',
    );
  }
  const payload = parseJsonObject(request.body);
  const deliveryId = request.headers['x-github-delivery']?.trim() || undefined;
  const received: Received = { event, ...(deliveryId ? { deliveryId } : {}) };
  if (event === 'ping') {
    const ping = PingEvent.safeParse(payload);
    const { zen, hook_id: hookId } = ping.success ? ping.data : {};
    return { ...received, reply: { status: 200, body: { ok: true, zen: zen ?? null, hookId: hookId ?? null } } };
  }
  return received;
}
