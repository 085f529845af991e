import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ConnectionForVerify, WebhookRequest } from '../../core/connector.ts';
import { UnauthorizedError } from '../../core/errors.ts';

const SIGNATURE_HEADER = 'x-hub-signature-256';
const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

const invalidSignature = (detail: string): UnauthorizedError => new UnauthorizedError(detail, 'invalid-signature');

/**
 * Checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw body) against every secret of the
 * connection, so deliveries signed with the old secret still pass during a rotation.
 * Only the SHA-256 header is trusted: the legacy SHA-1 `X-Hub-Signature` is not.
 * See https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 *
 * @throws UnauthorizedError (`invalid-signature`) when the header is missing, garbled or wrong.
 */
export function verifyGithubSignature(request: WebhookRequest, connection: ConnectionForVerify): void {
  const header = request.headers[SIGNATURE_HEADER];
  if (header === undefined || header === '') {
    throw invalidSignature(
      'The request has no X-Hub-Signature-256 header. In the GitHub webhook settings, paste the secret of this ' +
        'connection into the "Secret" field (GitHub signs deliveries only when a secret is set).',
    );
  }
  const match = SIGNATURE.exec(header.trim());
  if (!match) {
    throw invalidSignature(
      'The X-Hub-Signature-256 header is not of the form "sha256=<64 hex digits>". Check that no proxy ' +
        'between GitHub and Tributary rewrites it.',
    );
  }
  const received = Buffer.from(match[1]!, 'hex');
  // Every secret is tried, whatever matched, so the time taken does not tell which one did.
  let valid = false;
  for (const secret of connection.secrets) {
    const expected = createHmac('sha256', secret).update(request.body).digest();
    if (timingSafeEqual(expected, received)) valid = true;
  }
  if (!valid) {
    throw invalidSignature(
      'The X-Hub-Signature-256 signature does not match the body. Check that the secret in the GitHub webhook ' +
        'settings is the secret of this connection (rotate it with POST /v1/connections/{id}/rotate-secret if ' +
        'unsure), and that nothing between GitHub and Tributary changes the body.',
    );
  }
}
